"""log Ẑ − log Z and the ESS of every target's reference flow: results/tables/reference.md."""

from wgf.results import read_json, write_csv
from wgf.runlog import redirect_output
from wgf.tables import REFERENCE_COLUMNS, reference_markdown, reference_table_rows

sm = snakemake  # noqa: F821
with redirect_output(sm.log[0]):
    infos = [read_json(path) for path in sm.input.log_z]
    write_csv(sm.output.csv, reference_table_rows(infos), REFERENCE_COLUMNS)
    with open(sm.output.md, "w") as fh:
        fh.write(reference_markdown(infos))
    print(f"{len(infos)} reference flows")
