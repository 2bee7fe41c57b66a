"""Every method's energy histogram against the exact, long-chain or MALA sample's, and the TVs."""

import numpy as np

from wgf import jobs
from wgf.io import write_csv, write_text
from wgf.reporting.plots import plot_energy
from wgf.targets import load_target

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0]):
    target = load_target(sm.input.spec)
    names = list(sm.params.names)
    samples = {n: np.load(p) for n, p in zip(names, sm.input.samples, strict=True)}
    drawn, rows, markdown = jobs.energy_histograms(
        target, samples, np.load(sm.input.exact), sm.params.reference
    )
    plot_energy(target.name, drawn, rows, [sm.output.pdf, sm.output.png])
    write_csv(sm.output.csv, rows, ["method", "n", "energy_tv", "mean_energy"])
    write_text(sm.output.md, markdown)
    print(markdown)
