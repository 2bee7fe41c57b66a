"""Sample the reference flow ν as a one-step baseline sampler and score it like a generator."""

import time

import numpy as np
import torch

from wgf.evaluate import evaluate
from wgf.flows import load_flow
from wgf.results import load_target, write_json
from wgf.runlog import redirect_output

sm = snakemake  # noqa: F821
with redirect_output(sm.log[0]):
    torch.set_num_threads(sm.threads)
    ev = sm.params.evaluation
    target = load_target(sm.input.spec)
    reference = torch.from_numpy(np.load(sm.input.reference))
    flow = load_flow(sm.input.flow)
    start = time.perf_counter()
    samples = flow.sample(ev["n_samples"], torch.Generator().manual_seed(ev["seed"]))
    sample_s = time.perf_counter() - start
    result = evaluate(
        target,
        samples,
        reference if len(reference) else None,
        n_ot=ev["n_ot"],
        sinkhorn_reg=ev["sinkhorn_reg"],
        coverage_threshold=ev["coverage_threshold"],
        seed=ev["seed"],
    )
    result["samples_per_s"] = ev["n_samples"] / sample_s
    write_json(sm.output.metrics, result)
    print("\n".join(f"{k:>24s} {v:.6g}" for k, v in result.items()))
