"""Samples of every method (main-grid generators and baselines) with exact samples beside (where
the target has them)."""

import numpy as np

from wgf import jobs
from wgf.io import read_json
from wgf.reporting.plots import plot_samples
from wgf.targets import load_target

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0]):
    exact = np.load(sm.input.exact)
    names = list(sm.params.names)
    # the exact (or long-chain reference) panel first, where the target has one
    samples = {"exact samples": exact} if len(exact) else {}
    samples.update({n: np.load(p) for n, p in zip(names, sm.input.samples, strict=True)})
    plot_samples(
        load_target(sm.input.spec),
        samples,
        [sm.output.pdf, sm.output.png],
        exact=exact if len(exact) else None,
        metrics={n: read_json(p) for n, p in zip(names, sm.input.metrics, strict=True)},
    )
    print(f"{len(samples)} panels")
