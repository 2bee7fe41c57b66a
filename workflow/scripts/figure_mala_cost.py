"""MALA's (and ULA's) quality against target evaluations per sample, one-step levels beside."""

from wgf.comparison import ONE_STEP_KINDS, curve_summary
from wgf.methods import METHODS
from wgf.plots import plot_mala_cost
from wgf.results import read_csv, read_json
from wgf.runlog import redirect_output

sm = snakemake  # noqa: F821
with redirect_output(sm.log[0]):
    target = sm.wildcards.target
    n_seeds = len(sm.params.seeds)
    curves = {}
    for i, method in enumerate(sm.params.methods):
        paths = sm.input.curves[i * n_seeds : (i + 1) * n_seeds]
        curves[method] = curve_summary([read_csv(p) for p in paths], sm.params.chains[method])
    levels = {}
    for row in read_csv(sm.input.csv):
        method = row["method"]
        kind = METHODS[method].kind if method in METHODS else "generator"
        if row["target"] == target and row["metric"] == "mmd_median" and kind in ONE_STEP_KINDS:
            name = method if method in METHODS else f"{method} {row['divergence']}"
            levels[name] = float(row["mean"])
    best = next((b for b in read_json(sm.input.break_even) if b["target"] == target), None)
    plot_mala_cost(target, curves, levels, best, [sm.output.pdf, sm.output.png])
    print(f"{target}: {len(curves)} chain methods, {len(levels)} one-step levels")
