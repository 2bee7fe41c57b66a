"""MALA's (and ULA's) quality against target evaluations per sample, one-step levels beside."""

from wgf import jobs
from wgf.io import read_csv, read_json
from wgf.reporting.plots import plot_mala_cost

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0]):
    target = sm.wildcards.target
    paths = iter(sm.input.curves)  # method-major, then seed
    curves = {m: [read_csv(next(paths)) for _ in sm.params.seeds] for m in sm.params.methods}
    summaries, levels, best, metric = jobs.mala_cost(
        target,
        curves,
        dict(sm.params.chains),
        read_csv(sm.input.csv),
        read_json(sm.input.break_even),
    )
    plot_mala_cost(target, summaries, levels, best, [sm.output.pdf, sm.output.png], metric)
    print(f"{target}: {len(summaries)} chain methods, {len(levels)} one-step levels")
