"""Long MALA chains' reference sample of one target, its floor's sets and convergence record."""

import torch

from wgf import jobs
from wgf.io import save_npy, write_json

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0]):
    target, ref = jobs.reference_sample(
        sm.wildcards.target,
        dict(sm.params.spec),
        dict(sm.params.settings),
        int(sm.params.n),
        int(sm.params.floor_sets),
        int(sm.params.floor_n),
    )
    save_npy(sm.output.samples, ref.samples.numpy())
    save_npy(sm.output.floor, torch.stack(ref.floor_sets).numpy())
    write_json(sm.output.convergence, ref.info)
    info = ref.info
    print(
        f"{target.name}: {info['n_chains']:.0f} chains × {info['n_draws']:.0f} kept draws, "
        f"split-R̂ max {info['rhat_max']:.4f}, bulk ESS min {info['ess_bulk_min']:.0f}, "
        f"acceptance {info['acceptance']:.3f}, {info['wall_s']:.0f} s"
    )
