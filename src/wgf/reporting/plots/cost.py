"""Figure of MALA's cost: quality against target evaluations per sample, the one-step levels
beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .style import (
    BOX_STYLE,
    METRIC_LABELS,
    STYLE,
    palette,
    save_figure,
)

__all__ = ["plot_mala_cost"]


def plot_mala_cost(
    target: str,
    curves: Mapping[str, Sequence[Mapping[str, float]]],
    levels: Mapping[str, float],
    best: Mapping[str, Any] | None,
    paths: Sequence[str | Path],
    metric: str = "mmd_median",
) -> None:
    """Quality against target evaluations per sample: one line per chain method (mean over
    seeds of its budget curve), a horizontal line per one-step method at its mean quality (it
    costs zero evaluations per sample once trained), and the best one's training cost and
    break-even in a box."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    names = list(curves) + list(levels)
    colors = palette(names)
    with plt.rc_context(STYLE):
        fig = Figure(figsize=(7.6, 3.6), layout="constrained")
        ax = fig.subplots()
        values = list(levels.values())
        for name, curve in curves.items():
            x = [row["target_evaluations_per_sample"] for row in curve if metric in row]
            y = [row[metric] for row in curve if metric in row]
            values += y
            ax.plot(x, y, marker="o", ms=3.5, lw=1.3, color=colors[name], label=name)
        for name, level in levels.items():
            ax.axhline(level, ls="--", lw=0.9, color=colors[name], label=f"{name} (one-step)")
        ax.set_xscale("log")
        if values and min(values) > 0:
            ax.set_yscale("log")
        ax.set_xlabel("target evaluations per sample")
        ax.set_ylabel(METRIC_LABELS.get(metric, metric))
        ax.set_title(f"{target}: MALA cost against one-step generators")
        if best is not None and metric in best:
            m = best[metric]
            reach = f"{m['mala_steps']} steps" if m["reached"] else "not reached"
            lines = [
                f"best one-step: {best['best_method']} ({best['best_divergence']})",
                f"training: {best['train_evaluations']:.3g} evals, {best['train_wall_s']:.3g} s",
                f"MALA to its level: {reach}",
                f"break-even n*: {m['break_even_evaluations']:.3g} (evals), "
                f"{m['break_even_wall']:.3g} (wall)",
            ]
            ax.text(
                1.03,
                0.0,
                "\n".join(lines),
                transform=ax.transAxes,
                ha="left",
                va="bottom",
                fontsize=7,
                linespacing=1.3,
                bbox=BOX_STYLE,
            )
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=7)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        save_figure(fig, paths)
