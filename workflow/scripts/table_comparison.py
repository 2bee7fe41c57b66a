"""Every method × target × metric (results/tables/comparison.md, .csv) and MALA's break-even."""

from wgf import jobs
from wgf.io import read_csv, read_json, write_csv, write_json, write_text
from wgf.reporting.tables import SUMMARY_COLUMNS

sm = snakemake  # noqa: F821


def runs(metrics, infos, source):
    return [(read_json(i), read_json(m), source) for m, i in zip(metrics, infos, strict=True)]


with jobs.job_log(sm.log[0]):
    curves = iter(sm.input.curves)  # MALA's: target-major, then seed
    by_target = {t: [read_csv(next(curves)) for _ in sm.params.seeds] for t in sm.params.chains}
    floor_files = [read_json(path) for path in sm.input.floors]
    floors = [jobs.floor_runs(floor) for floor in floor_files]
    stats, break_even, markdown = jobs.comparison_table(
        [run for floor in floors for run in floor]
        + runs(sm.input.metrics, sm.input.info, "grid")
        + runs(sm.input.reference_metrics, sm.input.reference_info, "reference")
        + runs(sm.input.baseline_metrics, sm.input.baseline_info, "baseline"),
        by_target,
        dict(sm.params.chains),
        jobs.reference_notes(floor_files),
    )
    write_csv(sm.output.csv, stats, SUMMARY_COLUMNS)
    write_json(sm.output.break_even, break_even)
    write_text(sm.output.md, markdown)
    print(f"{len(stats)} summary rows, {len(break_even)} break-even targets")
