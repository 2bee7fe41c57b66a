"""Vector fields of a trained 2-D generator: arrays (npz) and their figure."""

import numpy as np

from wgf import jobs
from wgf.generator import Generator
from wgf.io import atomic_write
from wgf.reporting.plots import plot_fields
from wgf.targets import load_target

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0], sm.threads):
    fields = jobs.fields(
        load_target(sm.input.spec),
        Generator.load(sm.input.checkpoint),
        dict(sm.params.settings),
        sm.params.divergences,
    )
    atomic_write(sm.output.npz, lambda fh: np.savez_compressed(fh, **fields), mode="wb")
    plot_fields(fields, sm.output.pdf, sm.output.png)
    print(f"fields of {sm.input.checkpoint}: {sorted(fields)}")
