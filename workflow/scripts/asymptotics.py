"""The asymptotics figure and table of one target from its long runs (figures.asymptotics)."""

from wgf import jobs
from wgf.io import load_samples, read_csv, write_csv, write_text
from wgf.reporting.asymptotics import ASYMPTOTIC_METRICS
from wgf.reporting.plots import plot_training
from wgf.targets import load_target

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0]):
    paths = zip(sm.params.divergences, sm.input.histories, strict=True)
    histories = {d: read_csv(p) for d, p in paths}
    rows, markdown, floors = jobs.asymptotics(
        load_target(sm.input.spec),
        load_samples(sm.input.exact),
        histories,
        dict(sm.params.spec),
        sm.params.monitor_samples,
        sm.params.grid_steps,
        sm.params.evaluation_seed,
    )
    write_csv(sm.output.csv, rows, list(dict.fromkeys(k for r in rows for k in r)))
    write_text(sm.output.md, markdown)
    logged = {k for h in histories.values() for r in h for k in r}
    plot_training(
        histories,
        sm.output.pdf,
        path_png=sm.output.png,
        title=f"{sm.wildcards.target}: long runs (seed {sm.params.spec['seed']})",
        panels=[m for m in ASYMPTOTIC_METRICS if m in logged],
        floors=floors,
    )
    print(markdown)
