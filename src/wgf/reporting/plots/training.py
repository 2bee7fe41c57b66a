"""Figures of training histories: a monitored metric per step (mean and range over seeds), and the
soft under-coverage ``U_s`` per step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..rows import history_curve, quality_metric
from .style import (
    METRIC_LABELS,
    STYLE,
    label_for,
    palette,
    save_figure,
)

__all__ = ["plot_training", "plot_undercoverage"]


def _plain_log_labels(ax: Axes) -> None:
    """Log axis labelled 0.01, 0.02, 0.05, ... (minor ticks too when it spans ≤ 2 decades)."""
    lo, hi = ax.get_ylim()
    decades = math.log10(hi / lo) if lo > 0 else math.inf
    keep = (2, 5) if decades <= 2 else ()

    def fmt(v: float, _pos: int | None = None) -> str:
        mant = round(v / 10 ** math.floor(math.log10(v)), 6) if v > 0 else 0
        return f"{v:g}" if mant == 1 or mant in keep else ""

    ax.yaxis.set_major_formatter(FuncFormatter(fmt))
    ax.yaxis.set_minor_formatter(FuncFormatter(fmt))


def _aggregate(
    runs: Sequence[Sequence[Mapping[str, Any]]], metric: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Steps and mean / min / max over seeds of ``metric`` at each logged step."""
    per_step: dict[float, list[float]] = {}
    for rows in runs:
        for s, v in history_curve(rows, metric).items():
            per_step.setdefault(s, []).append(v)
    steps = np.array(sorted(per_step))
    vals = [np.array(per_step[s]) for s in steps]
    mean = np.array([v.mean() for v in vals])
    return steps, mean, np.array([v.min() for v in vals]), np.array([v.max() for v in vals])


def _normalise_histories(
    histories: Mapping[str, Sequence[Any]],
) -> dict[str, list[list[Mapping[str, Any]]]]:
    out: dict[str, list[list[Mapping[str, Any]]]] = {}
    for name, h in histories.items():
        h = list(h)
        if h and isinstance(h[0], Mapping):
            out[name] = [h]
        else:
            out[name] = [list(rows) for rows in h]
    return out


def plot_training(
    histories: Mapping[str, Sequence[Any]],
    path_pdf: str | Path,
    metric: str = "mmd_median",
    path_png: str | Path | None = None,
    title: str = "",
    panels: Sequence[str] | None = None,
    floors: Mapping[str, tuple[float, float]] | None = None,
) -> None:
    """Training curves of ``metric`` per divergence: mean over seeds with a min–max band.

    ``histories`` maps a name to one history (a list of row dicts with a ``step`` key) or to a
    list of histories, one per seed; values may be strings, as read from a CSV. A second panel
    shows ``mode_weight_max_error`` when every history has that column; where no history has
    ``metric`` the score-only KSD stands in (a target without exact samples). ``panels`` names
    the panels instead (the first is ``metric``'s role). ``floors[panel] = (mean, std)``: the same
    metric between exact sample sets, drawn as a grey band (no curve can read below it).
    """
    runs = _normalise_histories(histories)
    if not runs or not any(rows for seeds in runs.values() for rows in seeds):
        raise ValueError("plot_training: `histories` is empty; nothing to plot")
    names = list(runs)
    colors = palette(names)
    second = "mode_weight_max_error"
    if panels is not None:
        panels, metric = list(panels), panels[0]
    else:
        columns = {k for seeds in runs.values() for rows in seeds for row in rows for k in row}
        metric = quality_metric(columns, metric)
        panels = [metric]
        if metric != second and all(
            any(second in row for row in rows) for seeds in runs.values() for rows in seeds
        ):
            panels.append(second)
    floors = floors or {}

    curves = {p: {k: _aggregate(runs[k], p) for k in names} for p in panels}
    if not any(c[0].size for c in curves[metric].values()):
        raise ValueError(f"plot_training: no history has numeric values of {metric!r}")

    with plt.rc_context(STYLE):
        side_legend = len(names) > 3  # many curves: the legend beside the panels, not over them
        width = 4.6 * len(panels) + (1.9 if side_legend else 0.0)
        fig = Figure(figsize=(width, 3.4), layout="constrained")
        axes = fig.subplots(1, len(panels), squeeze=False)
        for ax, p in zip(axes[0], panels, strict=True):
            positive = True
            for name in names:
                steps, mean, lo, hi = curves[p][name]
                if steps.size == 0:
                    continue
                positive &= bool((lo > 0).all())
                n_seeds = len(runs[name])
                label = label_for(name) + (f" ({n_seeds} seeds)" if n_seeds > 1 else "")
                ax.plot(
                    steps,
                    mean,
                    color=colors[name],
                    lw=1.5,
                    label=label,
                    marker="o" if steps.size < 12 else None,
                    ms=3,
                )
                if n_seeds > 1:
                    ax.fill_between(steps, lo, hi, color=colors[name], alpha=0.18, lw=0)
            if p in floors:
                mean_f, std_f = floors[p]
                ax.axhline(mean_f, color="0.35", lw=1.0, ls="--", label="exact vs exact")
                ax.axhspan(max(mean_f - std_f, 0.0), mean_f + std_f, color="0.5", alpha=0.15)
                positive &= mean_f - std_f > 0
            if positive and p != second:
                ax.set_yscale("log")
                _plain_log_labels(ax)
            ax.set_xlabel("training step")
            ax.set_ylabel(METRIC_LABELS.get(p, p))
            ax.grid(True, which="major", color="#E5E5E5", lw=0.6)
            ax.set_axisbelow(True)
        if side_legend:
            handles, labels = axes[0][0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="outside right upper", frameon=False)
        else:
            axes[0][0].legend(frameon=False, loc="best")
        if title:
            fig.suptitle(title, fontsize=11)
        save_figure(fig, [path_pdf, *([] if path_png is None else [path_png])])


def plot_undercoverage(
    histories: Mapping[str, Sequence[Any]],
    path_pdf: str | Path,
    path_png: str | Path | None = None,
    title: str = "",
) -> None:
    """Soft under-coverage ``U_s`` against training step per divergence (mean and min–max band).

    ``histories[div]`` is a list of histories (one per seed) of rows with ``step`` and
    ``undercoverage`` (strings from a CSV are fine). Left: linear axis (the transient repair);
    right: log axis (the common end point).
    """
    runs = _normalise_histories(histories)
    metric = "undercoverage"
    curves = {k: _aggregate(v, metric) for k, v in runs.items()}
    if not curves or not any(c[0].size for c in curves.values()):
        raise ValueError(
            "plot_undercoverage: no history has numeric values of 'undercoverage' "
            "(hook wgf.theory.undercoverage_monitor into the trainer's monitor)"
        )
    names = list(runs)
    colors = palette(names)
    with plt.rc_context(STYLE):
        fig = Figure(figsize=(9.2, 3.4), layout="constrained")
        axes = fig.subplots(1, 2)
        for i, ax in enumerate(axes):
            positive = True
            for name in names:
                steps, mean, lo, hi = curves[name]
                if steps.size == 0:
                    continue
                positive &= bool((lo > 0).all())
                n_seeds = len(runs[name])
                label = label_for(name) + (f" ({n_seeds} seeds)" if n_seeds > 1 else "")
                ax.plot(steps, mean, color=colors[name], lw=1.5, label=label)
                if n_seeds > 1:
                    ax.fill_between(steps, lo, hi, color=colors[name], alpha=0.18, lw=0)
            if i == 1 and positive:
                ax.set_yscale("log")
            elif i == 1:
                ax.set_yscale("symlog", linthresh=1e-3)
            else:
                ax.set_ylim(bottom=0)
            ax.set_xlabel("training step")
            ax.set_ylabel(r"soft under-coverage $U_s$" + (" (log)" if i else ""))
            ax.grid(True, which="major", color="#E5E5E5", lw=0.6)
            ax.set_axisbelow(True)
        axes[0].legend(frameon=False, loc="best")
        fig.suptitle(
            (f"{title}: " if title else "")
            + r"$U_s=\mathbb{E}_p[\sigma((\log r-\kappa)/s)]$ during training",
            fontsize=11,
        )
        save_figure(fig, [path_pdf, *([] if path_png is None else [path_png])])
