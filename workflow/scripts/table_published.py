"""A mixture target in the DEM/iDEM published protocol (n vs n, exact OT x-W2, mode TV)."""

import numpy as np

from wgf import jobs
from wgf.io import read_json, write_csv, write_text
from wgf.reporting.rows import TABLE_COLUMNS
from wgf.targets import load_target

sm = snakemake  # noqa: F821


def runs(infos, samples, source):
    return [(read_json(i), source, np.load(s)) for i, s in zip(infos, samples, strict=True)]


with jobs.job_log(sm.log[0]):
    rows, markdown = jobs.published_table(
        load_target(sm.input.spec),
        runs(sm.input.info, sm.input.samples, "grid")
        + runs([sm.input.reference_info], [sm.input.reference_samples], "reference")
        + runs(sm.input.baseline_info, sm.input.baseline_samples, "baseline"),
        int(sm.params.n),
        read_json(sm.input.floor),
    )
    write_csv(sm.output.csv, rows, TABLE_COLUMNS)
    write_text(sm.output.md, markdown)
    print(f"{len(rows)} rows")
