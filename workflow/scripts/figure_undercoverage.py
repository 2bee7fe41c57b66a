"""Soft under-coverage U_s against training step for every divergence of one target."""

from wgf.plots import plot_undercoverage
from wgf.results import read_csv
from wgf.runlog import redirect_output

sm = snakemake  # noqa: F821
with redirect_output(sm.log[0]):
    n_seeds = len(sm.params.seeds)
    paths = list(sm.input.histories)
    histories = {
        d: [read_csv(p) for p in paths[i * n_seeds : (i + 1) * n_seeds]]
        for i, d in enumerate(sm.params.divergences)
    }
    plot_undercoverage(histories, sm.output.pdf, path_png=sm.output.png, title=sm.wildcards.target)
