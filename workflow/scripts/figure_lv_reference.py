"""LV with each reference ν beside reverse KL, per target (results/figures/lv_reference.pdf)."""

import numpy as np

from wgf import jobs
from wgf.io import read_json
from wgf.reporting.plots import plot_lv_reference
from wgf.targets import load_target

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0]):
    divs, seeds = sm.params.divergences, sm.params.seeds
    samples = iter(sm.input.samples)  # target-major, then divergence (one seed)
    metrics = iter(sm.input.metrics)  # target-major, then divergence, then seed
    panels, exact = [], {}
    for name, spec, path in zip(sm.params.targets, sm.input.specs, sm.input.exact, strict=True):
        exact[name] = np.load(path)
        panel_samples = {d: np.load(next(samples)) for d in divs}
        panel_metrics = {d: [read_json(next(metrics)) for _ in seeds] for d in divs}
        panels.append((load_target(spec), panel_samples, panel_metrics))
        for d in divs:
            weights = [m.get("mode_weight_1", float("nan")) for m in panel_metrics[d]]
            print(f"{name:>12s} {d:>12s} mode_weight_1 per seed: {np.round(weights, 3).tolist()}")
    plot_lv_reference(panels, [sm.output.pdf, sm.output.png], exact, sm.params.labels)
