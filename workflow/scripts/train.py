"""Train one generator for (target, divergence, seed)."""

import numpy as np
import torch

from wgf.divergences import get_divergence
from wgf.evaluate import make_monitor
from wgf.results import load_target, save_run
from wgf.runlog import redirect_output
from wgf.train import GeneratorConfig, TrainConfig, train

sm = snakemake  # noqa: F821
with redirect_output(sm.log[0]):
    torch.set_num_threads(sm.threads)
    target = load_target(sm.input.spec)
    reference = torch.from_numpy(np.load(sm.input.samples))
    params = dict(sm.params.train)
    cfg = TrainConfig(**{**params, "generator": GeneratorConfig(**params["generator"])})
    result = train(
        target,
        get_divergence(sm.wildcards.divergence),
        cfg,
        seed=int(sm.wildcards.seed),
        monitor=make_monitor(target, reference if len(reference) else None),
        monitor_samples=sm.params.monitor_samples,
    )
    save_run(result, sm.output.checkpoint, sm.output.history, sm.output.info)
    print(f"done in {result.info['train_wall_s']:.1f} s on {result.info['device']}")
