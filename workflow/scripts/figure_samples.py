"""Samples of every divergence's generator over the target density."""

import numpy as np

from wgf import jobs
from wgf.io import read_json
from wgf.reporting.plots import plot_samples
from wgf.targets import load_target

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0]):
    exact = np.load(sm.input.exact)
    divs = sm.params.divergences
    plot_samples(
        load_target(sm.input.spec),
        {d: np.load(p) for d, p in zip(divs, sm.input.samples, strict=True)},
        [sm.output.pdf, sm.output.png],
        exact=exact if len(exact) else None,
        metrics={d: read_json(p) for d, p in zip(divs, sm.input.metrics, strict=True)},
    )
