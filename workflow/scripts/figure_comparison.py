"""Samples of every method (main-grid generators and baselines) with exact samples beside."""

import numpy as np

from wgf.plots import plot_samples
from wgf.results import load_target, read_json
from wgf.runlog import redirect_output

sm = snakemake  # noqa: F821
with redirect_output(sm.log[0]):
    target = load_target(sm.input.spec)
    reference = np.load(sm.input.reference)
    names = list(sm.params.names)
    samples = {"exact samples": reference}
    samples.update({n: np.load(p) for n, p in zip(names, sm.input.samples, strict=True)})
    metrics = {n: read_json(p) for n, p in zip(names, sm.input.metrics, strict=True)}
    plot_samples(
        target,
        samples,
        [sm.output.pdf, sm.output.png],
        reference=reference if len(reference) else None,
        metrics=metrics,
    )
    print(f"{len(samples)} panels")
