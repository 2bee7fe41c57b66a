"""Every method × target × metric (results/tables/comparison.md, .csv) and MALA's break-even."""

from wgf.comparison import (
    baseline_run_rows,
    break_even,
    break_even_markdown,
    comparison_markdown,
    curve_summary,
)
from wgf.methods import get_method
from wgf.results import read_csv, read_json, summarise, write_csv, write_json
from wgf.runlog import redirect_output
from wgf.tables import run_rows

sm = snakemake  # noqa: F821
with redirect_output(sm.log[0]):
    rows, kinds = [], {}
    for metrics_path, info_path in zip(sm.input.metrics, sm.input.info, strict=True):
        info = read_json(info_path)
        metrics = {**read_json(metrics_path), "train_steps": info["config"]["steps"]}
        rows += run_rows(info, metrics)
    for metrics_path, info_path in zip(
        sm.input.baseline_metrics, sm.input.baseline_info, strict=True
    ):
        info = read_json(info_path)
        kinds[info["method"]] = get_method(info["method"]).kind
        rows += baseline_run_rows(info, read_json(metrics_path))
    stats = summarise(rows)
    write_csv(
        sm.output.csv, stats, ["target", "method", "divergence", "metric", "mean", "std", "n"]
    )
    curves: dict[str, list] = {}
    for path in sm.input.curves:
        target = path.split("/")[2]
        curves.setdefault(target, []).append(read_csv(path))
    results = []
    for target, group in curves.items():
        summary = curve_summary(group, sm.params.chains[target])
        res = break_even(rows, kinds, summary, target)
        if res is not None:
            res["mala_curve"] = summary
            results.append(res)
    write_json(sm.output.break_even, results)
    with open(sm.output.md, "w") as fh:
        fh.write(comparison_markdown(rows, kinds))
        if results:
            fh.write("\n" + break_even_markdown(results))
    print(f"{len(rows)} rows, {len(results)} break-even targets")
