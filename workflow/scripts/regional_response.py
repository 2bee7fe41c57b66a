"""Regional response: measured vs predicted inflow into A_κ, figure and tables."""

import math

from wgf import jobs
from wgf.io import write_csv, write_text
from wgf.reporting.plots import plot_regional_response
from wgf.theory import RegionalResponse

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0], sm.threads):
    name, spec = sm.params.target
    result = jobs.regional_response_table(
        name, dict(spec), dict(sm.params.settings), sm.params.divergences
    )
    print(result.info)
    rows = result.rows()
    write_csv(sm.output.csv, rows, RegionalResponse.ROW_COLUMNS)
    write_text(sm.output.md, result.markdown())
    plot_regional_response(result, sm.output.pdf, sm.output.png)
    worst = max((abs(r["rel_error"]) for r in rows if not r["phi_tiny"]), default=math.nan)
    print(f"largest |relative error| where Φ_κ is not tiny: {100 * worst:.3g} %")
