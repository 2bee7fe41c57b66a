"""Sample the reference flow ν as a one-step baseline sampler and score it like a generator."""

import numpy as np
import torch

from wgf.evaluate import sample_and_evaluate
from wgf.flows import load_flow
from wgf.results import load_target, write_json
from wgf.runlog import redirect_output

sm = snakemake  # noqa: F821
with redirect_output(sm.log[0]):
    torch.set_num_threads(sm.threads)
    target = load_target(sm.input.spec)
    reference = torch.from_numpy(np.load(sm.input.reference))
    flow = load_flow(sm.input.flow)
    _, result = sample_and_evaluate(target, flow.sample, reference, sm.params.evaluation)
    write_json(sm.output.metrics, result)
    print("\n".join(f"{k:>24s} {v:.6g}" for k, v in result.items()))
