"""Samples of every divergence's generator over the target density."""

import numpy as np

from wgf.plots import plot_samples
from wgf.results import load_target, read_json
from wgf.runlog import redirect_output

sm = snakemake  # noqa: F821
with redirect_output(sm.log[0]):
    target = load_target(sm.input.spec)
    reference = np.load(sm.input.reference)
    divs = sm.params.divergences
    samples = {d: np.load(p) for d, p in zip(divs, sm.input.samples, strict=True)}
    metrics = {d: read_json(p) for d, p in zip(divs, sm.input.metrics, strict=True)}
    plot_samples(
        target,
        samples,
        [sm.output.pdf, sm.output.png],
        reference=reference if len(reference) else None,
        metrics=metrics,
    )
