"""Check what needs torch in the configuration before any other job runs."""

from wgf import jobs
from wgf.io import write_json

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0]):
    lines = jobs.check_config(dict(sm.params.config))
    print("\n".join(lines))
    write_json(sm.output[0], {"targets": lines})
