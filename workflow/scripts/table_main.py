"""Every run's metrics (generators, reference flows, baselines) into results/tables/main.csv,
with a summary over seeds.

Clock measurements (wall times, throughputs: ``wgf.tables.is_timing``) go to timings.csv instead,
so that main.csv is reproduced byte for byte by a rerun with the same seeds.
"""

from wgf.comparison import baseline_run_rows
from wgf.results import TABLE_COLUMNS, read_json, write_csv
from wgf.runlog import redirect_output
from wgf.tables import markdown_summary, reference_run_rows, run_rows, split_timing

sm = snakemake  # noqa: F821
with redirect_output(sm.log[0]):
    rows = []
    for metrics_path, info_path in zip(sm.input.metrics, sm.input.info, strict=True):
        rows += run_rows(read_json(info_path), read_json(metrics_path))
    for metrics_path, info_path in zip(
        sm.input.reference_metrics, sm.input.reference_info, strict=True
    ):
        rows += reference_run_rows(read_json(info_path), read_json(metrics_path))
    for metrics_path, info_path in zip(
        sm.input.baseline_metrics, sm.input.baseline_info, strict=True
    ):
        rows += baseline_run_rows(read_json(info_path), read_json(metrics_path))
    results, timings = split_timing(rows)
    write_csv(sm.output.csv, results, TABLE_COLUMNS)
    write_csv(sm.output.timings, timings, TABLE_COLUMNS)
    with open(sm.output.md, "w") as fh:
        fh.write(markdown_summary(rows))
    print(f"{len(rows)} rows")
