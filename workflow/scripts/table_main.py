"""Every run's metrics (generators, reference flows, baselines) into results/tables/main.csv,
with a summary over seeds.

Clock measurements (wall times, throughputs: ``wgf.reporting.rows.is_timing``) go to timings.csv
instead, so that main.csv is reproduced byte for byte by a rerun with the same seeds.
"""

from wgf import jobs
from wgf.io import read_json, write_csv, write_text
from wgf.reporting.rows import TABLE_COLUMNS

sm = snakemake  # noqa: F821


def runs(metrics, infos, source):
    return [(read_json(i), read_json(m), source) for m, i in zip(metrics, infos, strict=True)]


with jobs.job_log(sm.log[0]):
    floor_files = [read_json(path) for path in sm.input.floors]
    floors = [jobs.floor_runs(floor) for floor in floor_files]
    results, timings, markdown = jobs.main_table(
        [run for floor in floors for run in floor]
        + runs(sm.input.metrics, sm.input.info, "grid")
        + runs(sm.input.reference_metrics, sm.input.reference_info, "reference")
        + runs(sm.input.baseline_metrics, sm.input.baseline_info, "baseline"),
        jobs.reference_notes(floor_files),
    )
    write_csv(sm.output.csv, results, TABLE_COLUMNS)
    write_csv(sm.output.timings, timings, TABLE_COLUMNS)
    write_text(sm.output.md, markdown)
    print(f"{len(results)} result rows, {len(timings)} timing rows")
