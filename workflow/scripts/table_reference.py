"""log Ẑ − log Z and the ESS of every target's reference flow: results/tables/reference.md."""

from wgf import jobs
from wgf.io import read_json, write_csv, write_text
from wgf.reporting.tables import REFERENCE_COLUMNS

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0]):
    rows, markdown = jobs.reference_table([read_json(path) for path in sm.input.log_z])
    write_csv(sm.output.csv, rows, REFERENCE_COLUMNS)
    write_text(sm.output.md, markdown)
    print(f"{len(rows)} reference flows")
