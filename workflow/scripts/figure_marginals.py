"""Every coordinate's marginal of every method against the exact or long-chain sample."""

import numpy as np

from wgf import jobs
from wgf.reporting.plots import plot_marginals
from wgf.targets import load_target

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0]):
    names = list(sm.params.names)
    plot_marginals(
        load_target(sm.input.spec),
        {n: np.load(p) for n, p in zip(names, sm.input.samples, strict=True)},
        np.load(sm.input.exact),
        [sm.output.pdf, sm.output.png],
        reference_label=sm.params.reference,
    )
    print(f"{len(names)} rows")
