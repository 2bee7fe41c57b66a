"""The long results table (target, method, divergence, seed, metric, value) and its summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .results import summarise

__all__ = ["HEADLINE", "markdown_summary", "run_rows"]

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
TIMING = ("train_wall_s", "time_per_step_s", "target_evaluations")


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
