"""The asymptotics table: where each divergence's long run ends, beside the floor.

SCIENCE.md §1: every f-divergence drift vanishes only at ``q = p``, so all of them share one
fixed point and differ only on the way. A long run's *final* value of a metric is its mean over
the last ``tail`` logs, its *noise* their standard deviation (with one seed, the monitor's
sampling error and the remaining drift together); a divergence *departs* on a metric when its
final is further than twice the pooled noise (its own, the median run's and the floor's) from
the median of the f-divergences' finals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from statistics import median
from typing import Any

import numpy as np

from ..divergences import get_divergence
from .rows import history_curve

__all__ = ["ASYMPTOTIC_METRICS", "asymptotics_markdown", "asymptotics_rows", "floor_stats"]

ASYMPTOTIC_METRICS = ("mmd_median", "w2", "mode_weight_max_error")
_LABELS = {"mmd_median": "MMD", "w2": "W2", "mode_weight_max_error": "max mode-weight error"}


def floor_stats(draws: Sequence[Mapping[str, float]]) -> dict[str, tuple[float, float]]:
    """``metric ↦ (mean, std)`` over the exact draws' monitor rows (std with ``n − 1``)."""
    out = {}
    for metric in ASYMPTOTIC_METRICS:
        values = np.array([d[metric] for d in draws if metric in d], dtype=float)
        if values.size:
            std = float(values.std(ddof=1)) if values.size > 1 else 0.0
            out[metric] = (float(values.mean()), std)
    return out


def asymptotics_rows(
    target: str,
    histories: Mapping[str, Sequence[Mapping[str, Any]]],
    floors: Mapping[str, tuple[float, float]],
    tail: int,
    grid_steps: int,
) -> list[dict[str, Any]]:
    """One row per divergence (then the floor): each metric at the grid's step count (the log
    nearest ``grid_steps``), its final mean and noise, and whether it departs from the others."""
    rows: list[dict[str, Any]] = []
    for name, history in histories.items():
        row: dict[str, Any] = {"target": target, "method": name}
        for metric in ASYMPTOTIC_METRICS:
            curve = history_curve(history, metric)
            steps, values = np.array(list(curve)), np.array(list(curve.values()))
            if not steps.size:
                continue
            last = values[-tail:]
            row[f"{metric}_at_grid"] = float(values[np.abs(steps - grid_steps).argmin()])
            row[f"{metric}_final"] = float(last.mean())
            row[f"{metric}_noise"] = float(last.std(ddof=1)) if last.size > 1 else 0.0
        rows.append(row)
    f_rows = [r for r in rows if get_divergence(r["method"]).kind == "f"]
    for metric in ASYMPTOTIC_METRICS:
        finals = [r[f"{metric}_final"] for r in f_rows if f"{metric}_final" in r]
        if not finals:
            continue
        centre = median(finals)
        mid = min(f_rows, key=lambda r: abs(r.get(f"{metric}_final", math.inf) - centre))
        floor_sd = floors.get(metric, (0.0, 0.0))[1]
        for r in rows:
            if f"{metric}_final" not in r:
                continue
            noise = math.sqrt(r[f"{metric}_noise"] ** 2 + mid[f"{metric}_noise"] ** 2 + floor_sd**2)
            r[f"{metric}_departs"] = abs(r[f"{metric}_final"] - centre) > 2 * noise
    floor_row: dict[str, Any] = {"target": target, "method": "exact_vs_exact"}
    for metric, (mean, std) in floors.items():
        floor_row[f"{metric}_final"], floor_row[f"{metric}_noise"] = mean, std
    return [*rows, floor_row]


def _cell(row: Mapping[str, Any], metric: str) -> str:
    if f"{metric}_final" not in row:
        return "–"
    text = f"{row[f'{metric}_final']:.3g} ± {row[f'{metric}_noise']:.2g}"
    if f"{metric}_at_grid" in row:
        text = f"{row[f'{metric}_at_grid']:.3g} → {text}"
    return text + (" **≠**" if row.get(f"{metric}_departs") else "")


def asymptotics_markdown(
    rows: Sequence[Mapping[str, Any]], grid_steps: int, steps: int, tail: int
) -> str:
    """The table of one target, with the verdict on the shared fixed point."""
    target = rows[0]["target"]
    lines = [
        f"# Asymptotics: {target}",
        "",
        f"Each cell: the value at the grid's {grid_steps} steps → the mean ± std over the last "
        f"{tail} logs of a {steps}-step run (one seed). **≠**: further than twice the pooled "
        "noise from the median of the f-divergences (the shared fixed point of SCIENCE.md §1). "
        "The exact-vs-exact row is the floor: independent exact sample sets of the monitor's "
        "size, mean ± std over draws.",
        "",
        "| method | " + " | ".join(_LABELS[m] for m in ASYMPTOTIC_METRICS) + " |",
        "|---|" + "---|" * len(ASYMPTOTIC_METRICS),
    ]
    for r in rows:
        method = r["method"]
        label = "exact vs exact" if method == "exact_vs_exact" else get_divergence(method).label
        lines.append(f"| {label} | " + " | ".join(_cell(r, m) for m in ASYMPTOTIC_METRICS) + " |")
    departing = {
        m: [r["method"] for r in rows if r.get(f"{m}_departs")] for m in ASYMPTOTIC_METRICS
    }
    lines.append("")
    for metric, names in departing.items():
        verdict = "all within noise of one limit" if not names else "departs: " + ", ".join(names)
        lines.append(f"* {_LABELS[metric]}: {verdict}.")
    return "\n".join(lines) + "\n"
