"""MALA against the one-step samplers: its quality-versus-budget curve over seeds, the cost to
reach the best one-step method's quality, and the break-even sample counts.

Rows are those of the long table (:mod:`wgf.reporting.rows`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..baselines import METHODS, ONE_STEP_KINDS
from .rows import QUALITY_METRICS, kind_of, quality_metric
from .tables import summarise

__all__ = ["break_even", "break_even_markdown", "curve_summary", "one_step_levels"]


def curve_summary(curves: Sequence[Sequence[dict[str, Any]]], chains: int) -> list[dict[str, Any]]:
    """Mean over seeds of a sampler's budget curve; ``wall_per_sample_s`` = wall / chains."""
    by_step: dict[int, list[dict[str, Any]]] = {}
    for curve in curves:
        for row in curve:
            by_step.setdefault(int(float(row["steps"])), []).append(row)
    out = []
    for step in sorted(by_step):
        group = by_step[step]
        keys = {k for row in group for k in row if k != "steps"}
        mean = {k: float(np.mean([float(r[k]) for r in group if k in r])) for k in keys}
        mean["steps"] = step
        mean["wall_per_sample_s"] = mean["wall_s"] / chains
        mean["n_seeds"] = len(group)
        out.append(mean)
    return out


def _first(curve: list[dict[str, Any]], metric: str, level: float) -> dict[str, Any] | None:
    for row in curve:
        if metric in row and row[metric] <= level:
            return row
    return None


def break_even(
    rows: Sequence[dict[str, Any]],
    curve: list[dict[str, Any]],
    target: str,
) -> dict[str, Any] | None:
    """MALA against the best one-step method on ``target`` (lowest mean ``mmd_median``, or
    ``ksd`` for a target without exact samples: :func:`~wgf.reporting.rows.quality_metric`).

    For that metric and for the mode-weight TV: the first MALA budget (steps per chain) whose
    mean over seeds reaches the one-step method's mean, its target evaluations and wall time per
    sample, and the break-even sample counts ``n* = training cost / (MALA cost per sample − one-step
    cost per sample)`` in target evaluations and in wall time. Where MALA never reaches the
    level within its budgets, ``reached`` is False and ``n*`` is an upper bound computed with
    MALA's largest budget (MALA would need more). ``None`` without one-step rows or a curve.
    """
    stats = [s for s in summarise(rows) if s["target"] == target]
    table = {(s["method"], s["divergence"], s["metric"]): s["mean"] for s in stats}
    quality = quality_metric(s["metric"] for s in stats)
    candidates = [
        (m, d) for (m, d, metric) in table if metric == quality and kind_of(m) in ONE_STEP_KINDS
    ]
    if not candidates or not curve:
        return None
    best = min(candidates, key=lambda k: table[(*k, quality)])
    train_evals = table.get((*best, "target_evaluations"), 0.0)
    train_wall = table.get((*best, "train_wall_s"), 0.0)
    rate = table.get((*best, "samples_per_s"), math.inf)
    out: dict[str, Any] = {
        "target": target,
        "best_method": best[0],
        "best_divergence": best[1],
        "train_evaluations": train_evals,
        "train_wall_s": train_wall,
        "one_step_samples_per_s": rate,
    }
    for metric in (quality, "mode_weight_tv"):
        level = table.get((*best, metric))
        if level is None or not any(metric in r for r in curve):
            continue
        row = _first(curve, metric, level)
        reached = row is not None
        row = row or curve[-1]
        evals, wall = row["target_evaluations_per_sample"], row["wall_per_sample_s"]
        per_sample_wall = wall - 1.0 / rate
        out[metric] = {
            "level": level,
            "reached": reached,
            "mala_steps": row["steps"],
            "mala_value": row[metric],
            "mala_evaluations_per_sample": evals,
            "mala_wall_per_sample_s": wall,
            "break_even_evaluations": train_evals / evals if evals > 0 else math.inf,
            "break_even_wall": train_wall / per_sample_wall if per_sample_wall > 0 else math.inf,
        }
    return out


def _n(value: float, bound: bool) -> str:
    if math.isinf(value):
        return "never"
    return ("≤ " if bound else "") + f"{value:.3g}"


def break_even_markdown(results: Sequence[dict[str, Any]]) -> str:
    """The MALA-versus-one-step section of comparison.md."""
    lines = [
        "## MALA versus the best one-step sampler: cost to equal quality and break-even",
        "",
        "Best one-step method per target: lowest mean MMD (median bandwidth; for a target without",
        "exact samples, lowest kernel Stein discrepancy) over all one-step methods (main grid,",
        "one-step baselines, the reference flow ν). MALA: the first budget (steps per chain, means",
        "over seeds) at which its final states reach that MMD (KSD), resp. that mode-weight TV;",
        "every sample is the final state of its own chain (independent chains, burn-in included",
        "in the cost). Break-even `n*`: the number of samples above which training the one-step",
        "sampler costs less than running MALA, `n* = training cost / (MALA cost per sample −",
        "one-step cost per sample)`, in target evaluations and in wall time. `≤` marks an upper",
        "bound where MALA does not reach the level within its largest budget (`not reached`);",
        "`never`: MALA is not slower per sample. MMD estimates have a finite-sample floor, so a",
        "level below MALA's floor reads as not reached. `make bench` quotes this protocol for its",
        "speed-up on gmm8, beside a broad-start figure (MALA from N(0, 4 I) against the",
        "reverse-KL generator) that is larger and not the one to quote.",
        "",
        "| target | best one-step | level | criterion | MALA steps | MALA value "
        "| evals/sample | wall/sample (s) | training evals | training wall (s) "
        "| n* (evals) | n* (wall) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        for metric in (*QUALITY_METRICS, "mode_weight_tv"):
            if metric not in res:
                continue
            m = res[metric]
            bound = not m["reached"]
            steps = f"{m['mala_steps']}" + ("" if m["reached"] else " (not reached)")
            lines.append(
                f"| {res['target']} | {res['best_method']} ({res['best_divergence']}) "
                f"| {m['level']:.3g} | {metric} | {steps} | {m['mala_value']:.3g} "
                f"| {m['mala_evaluations_per_sample']:.3g} | {m['mala_wall_per_sample_s']:.3g} "
                f"| {res['train_evaluations']:.3g} | {res['train_wall_s']:.3g} "
                f"| {_n(m['break_even_evaluations'], bound)} | {_n(m['break_even_wall'], bound)} |"
            )
    lines.append("")
    return "\n".join(lines)


def one_step_levels(
    stats: Sequence[dict[str, Any]], target: str, metric: str = "mmd_median"
) -> dict[str, float]:
    """The mean ``metric`` of every one-step method on ``target`` (summary rows of
    ``comparison.csv``), named ``method`` for a baseline and ``method divergence`` for a
    main-grid generator: the levels drawn beside MALA's curve."""
    levels = {}
    for row in stats:
        method = row["method"]
        if row["target"] == target and row["metric"] == metric:
            if kind_of(method) in ONE_STEP_KINDS:
                name = method if method in METHODS else f"{method} {row['divergence']}"
                levels[name] = float(row["mean"])
    return levels
