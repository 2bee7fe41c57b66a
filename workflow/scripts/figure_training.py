"""Training curves of every divergence for one target."""

from wgf import jobs
from wgf.io import read_csv
from wgf.reporting.plots import plot_training

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0]):
    paths = iter(sm.input.histories)  # divergence-major, then seed
    plot_training(
        {d: [read_csv(next(paths)) for _ in sm.params.seeds] for d in sm.params.divergences},
        sm.output.pdf,
        metric=sm.params.metric,
        path_png=sm.output.png,
        title=sm.wildcards.target,
    )
