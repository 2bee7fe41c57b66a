"""Resolve one target's parameters and draw its exact samples."""

import numpy as np
import torch

from wgf.results import save_target
from wgf.runlog import redirect_output
from wgf.targets import build_target

sm = snakemake  # noqa: F821
with redirect_output(sm.log[0]):
    target = build_target(sm.wildcards.target, sm.params.spec)
    if target.exact:
        samples = target.sample(sm.params.n, torch.Generator().manual_seed(sm.params.seed))
    else:
        samples = np.zeros((0, target.dim), dtype=np.float32)
    save_target(sm.output.spec, sm.output.samples, target, samples)
    print(f"{target.name}: d = {target.dim}, {len(samples)} exact samples, log Z = {target.log_z}")
