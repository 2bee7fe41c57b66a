"""Train one generator for (target, divergence, seed), resuming from its checkpoint if any."""

from pathlib import Path

import numpy as np
import torch

from wgf.divergences import get_divergence
from wgf.evaluate import make_monitor
from wgf.flows import load_reference
from wgf.results import load_target, save_run
from wgf.runlog import redirect_output
from wgf.train import TrainConfig, train

sm = snakemake  # noqa: F821
with redirect_output(sm.log[0]):
    torch.set_num_threads(sm.threads)
    target = load_target(sm.input.spec)
    exact = torch.from_numpy(np.load(sm.input.samples))
    cfg = TrainConfig.from_dict(dict(sm.params.train))
    flow = None  # the reference flow ν, for the runs that use it (rule reference_flow)
    if "reference_flow" in sm.input.keys():
        flow = load_reference(sm.input.reference_flow, sm.input.reference_log_z)
    result = train(
        target,
        get_divergence(sm.wildcards.divergence),
        cfg,
        seed=int(sm.wildcards.seed),
        monitor=make_monitor(target, exact if len(exact) else None, sm.params.undercoverage),
        monitor_samples=sm.params.monitor_samples,
        reference=flow,
        checkpoint=sm.params.resume_state,
    )
    save_run(result, sm.output.checkpoint, sm.output.history, sm.output.info)
    Path(sm.params.resume_state).unlink(missing_ok=True)  # the outputs supersede it
    print(f"done in {result.info['train_wall_s']:.1f} s on {result.info['device']}")
