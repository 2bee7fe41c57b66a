"""The long results table (target, method, divergence, seed, metric, value) and its summary.

Run-to-run-varying measurements (wall times, throughputs) are not results: :func:`is_timing`
decides which metrics they are and :func:`split_timing` routes them out of ``main.csv`` (which a
rerun with the same seeds reproduces byte for byte) into ``timings.csv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .results import summarise

__all__ = [
    "HEADLINE",
    "REFERENCE_COLUMNS",
    "TIMING",
    "TIMING_METRICS",
    "is_timing",
    "markdown_summary",
    "reference_markdown",
    "reference_run_rows",
    "reference_table_rows",
    "run_rows",
    "split_timing",
]

HEADLINE = (
    "mmd_median",
    "mmd_multi",
    "w2",
    "sinkhorn",
    "mode_weight_max_error",
    "mode_weight_tv",
    "mode_coverage",
    "emc",
    "train_wall_s",
    "time_per_step_s",
)
# The training cost recorded in run.json and added to a run's rows.
TIMING = ("train_wall_s", "time_per_step_s", "target_evaluations")
# Clock-measured metrics: by name, or by one of these suffixes (new timings need no edit here).
TIMING_METRICS = ("train_wall_s", "time_per_step_s", "samples_per_s", "fit_wall_s", "fit_cpu_s")
TIMING_SUFFIXES = ("_wall_s", "_cpu_s", "_time_s", "_per_s", "_per_step_s", "_seconds")


def is_timing(metric: str) -> bool:
    """Whether ``metric`` is a clock measurement (varies between identical runs)."""
    return metric in TIMING_METRICS or metric.endswith(TIMING_SUFFIXES)


def split_timing(
    rows: Sequence[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(results, timings)``: the long table's rows without and with :func:`is_timing` metrics."""
    results = [r for r in rows if not is_timing(r["metric"])]
    timings = [r for r in rows if is_timing(r["metric"])]
    return results, timings


def run_rows(info: dict[str, Any], metrics: dict[str, float]) -> list[dict[str, Any]]:
    """Rows of one trained run: its metrics plus its training cost."""
    base = {
        "target": info["target"],
        "method": f"generator_{info['config']['estimator']}",
        "divergence": info["divergence"],
        "seed": info["seed"],
    }
    values = {**metrics, **{k: info[k] for k in TIMING if k in info}}
    return [{**base, "metric": k, "value": repr(float(v))} for k, v in sorted(values.items())]


def _fmt(mean: float, std: float) -> str:
    return f"{mean:.3g} ± {std:.2g}"


def markdown_summary(rows: Sequence[dict[str, Any]], columns: Sequence[str] = HEADLINE) -> str:
    """One Markdown table per target: mean ± std over seeds of the headline metrics.

    Two-mode targets also get the weight of their second (light) mode, their headline number.
    """
    stats = summarise(rows)
    lines = ["# Main results", "", "Mean ± standard deviation over seeds.", ""]
    for target in dict.fromkeys(s["target"] for s in stats):
        sub = [s for s in stats if s["target"] == target]
        present = {s["metric"] for s in sub}
        cols = [c for c in columns if c in present]
        if "mode_weight_1" in present and "mode_weight_2" not in present:
            cols.insert(0, "mode_weight_1")
        n_seeds = max(s["n"] for s in sub)
        lines += [f"## {target}", "", f"{n_seeds} seed(s).", ""]
        lines.append("| method | divergence | " + " | ".join(cols) + " |")
        lines.append("|---|---|" + "---|" * len(cols))
        keys = dict.fromkeys((s["method"], s["divergence"]) for s in sub)
        table = {(s["method"], s["divergence"], s["metric"]): s for s in sub}
        for method, div in keys:
            cells = []
            for c in cols:
                s = table.get((method, div, c))
                cells.append(_fmt(s["mean"], s["std"]) if s else "–")
            lines.append(f"| {method} | {div} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def reference_run_rows(info: dict[str, Any], metrics: dict[str, float]) -> list[dict[str, Any]]:
    """Rows of the reference flow used as a one-step sampler (method ``reference_flow``).

    ``divergence`` holds the fit method (``iw_ml``, ``reverse_kl``, ``hybrid``); the fit's wall
    time counts as training time.
    """
    base = {
        "target": info["target"],
        "method": "reference_flow",
        "divergence": info["method"],
        "seed": info["seed"],
    }
    cost = {
        "train_wall_s": info["fit_wall_s"],
        "time_per_step_s": info["fit_wall_s"] / max(info["steps"], 1),
        "target_evaluations": info["target_evaluations"],
        "log_z_error": info.get("log_z_error"),
        "log_z_ess": info["ess"],
    }
    values = {**metrics, **{k: v for k, v in cost.items() if v is not None}}
    return [{**base, "metric": k, "value": repr(float(v))} for k, v in sorted(values.items())]


REFERENCE_COLUMNS = (
    "target",
    "method",
    "architecture",
    "log_z_hat",
    "log_z_true",
    "log_z_error",
    "ess",
    "n_log_z",
    "fit_wall_s",
    "fit_cpu_s",
    "steps",
)


def reference_table_rows(infos: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per target's reference fit (the ``log_z.json`` written by rule reference_flow)."""
    rows = []
    for info in infos:
        row = {k: info.get(k) for k in REFERENCE_COLUMNS}
        row["architecture"] = info["config"]["architecture"]
        rows.append(row)
    return rows


def reference_markdown(infos: Sequence[dict[str, Any]]) -> str:
    """``log Ẑ − log Z`` and the ESS fraction of every target's reference flow."""
    lines = [
        "# Reference flows",
        "",
        "log Ẑ by importance sampling with the fitted flow ν as proposal, over `n` samples of ν;",
        "ESS is the effective-sample-size fraction of those weights. `log Z` is exact for the",
        "benchmark mixtures (– where unknown).",
        "",
        "| target | method | flow | log Ẑ | log Z | log Ẑ − log Z | ESS | n | fit wall (s) "
        "| fit CPU (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in reference_table_rows(infos):

        def num(key: str, fmt: str, row: dict[str, Any] = row) -> str:
            value = row.get(key)
            return "–" if value is None else format(value, fmt)

        lines.append(
            f"| {row['target']} | {row['method']} | {row['architecture']} "
            f"| {num('log_z_hat', '.4f')} | {num('log_z_true', '.4f')} "
            f"| {num('log_z_error', '+.4f')} | {num('ess', '.3f')} | {row['n_log_z']} "
            f"| {num('fit_wall_s', '.1f')} | {num('fit_cpu_s', '.1f')} |"
        )
    lines.append("")
    return "\n".join(lines)
