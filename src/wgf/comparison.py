"""Side-by-side tables: every method on every target, MALA's cost against the one-step
generators (the break-even), and gmm40 in the DEM/iDEM published protocol.

Rows are those of the long table (``target, method, divergence, seed, metric, value``);
:func:`baseline_run_rows` makes them for a baseline run, :func:`wgf.tables.run_rows` for a
generator of the main grid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import ot
import torch

from .results import summarise
from .targets import GaussianMixture

__all__ = [
    "QUALITY",
    "TIMING",
    "baseline_run_rows",
    "break_even",
    "break_even_markdown",
    "comparison_markdown",
    "curve_summary",
    "published_protocol",
    "published_markdown",
]

QUALITY = (
    "mmd_median",
    "mmd_multi",
    "w2",
    "sinkhorn",
    "mode_weight_max_error",
    "mode_weight_tv",
    "mode_coverage",
    "emc",
    "mean_energy",
)
TIMING = (
    "train_steps",
    "train_wall_s",
    "target_evaluations",
    "samples_per_s",
    "target_evaluations_per_sample",
)
ONE_STEP_KINDS = ("generator", "flow")
NO_DIVERGENCE = "-"


def baseline_run_rows(info: dict[str, Any], metrics: dict[str, float]) -> list[dict[str, Any]]:
    """Rows of one baseline run: its metrics plus training cost and throughput."""
    base = {
        "target": info["target"],
        "method": info["method"],
        "divergence": info.get("divergence") or NO_DIVERGENCE,
        "seed": info["seed"],
    }
    cost = {
        "train_wall_s": info["train_wall_s"],
        "target_evaluations": info["target_evaluations"],
        "train_steps": info.get("steps") if info["kind"] in ONE_STEP_KINDS else 0,
    }
    if "time_per_step_s" in info:
        cost["time_per_step_s"] = info["time_per_step_s"]
    values = {**metrics, **{k: v for k, v in cost.items() if v is not None}}
    return [{**base, "metric": k, "value": repr(float(v))} for k, v in sorted(values.items())]


def _fmt(s: dict[str, Any] | None) -> str:
    if s is None:
        return "–"
    mean, std = s["mean"], s["std"]
    if math.isinf(mean) or math.isnan(mean):
        return str(mean)
    return f"{mean:.3g} ± {std:.2g}"


def comparison_markdown(rows: Sequence[dict[str, Any]], kinds: dict[str, str]) -> str:
    """Every method × metric, one table per target: mean ± std over seeds.

    ``kinds`` maps a method name to its kind (``sampler``, ``flow``, ``generator``; the main
    grid's ``generator_*`` methods are generators). Per-mode weights are left to the CSV except
    for two-mode targets (the light mode's weight).
    """
    stats = summarise(rows)
    lines = [
        "# Comparison: one-step generators and baselines",
        "",
        "Mean ± standard deviation over seeds. `generator_*`: the main grid (one generator per",
        "divergence). Baselines: `mala`/`ula` (parallel chains, the sample is each chain's final",
        "state), `svgd` (particles), `flow_reverse_kl` (normalizing flow, reverse KL),",
        "`drifting` (Laplace mean shift, reverse-KL weight), `score_net` (DSM score network,",
        "reverse KL; Luo et al. 2023). Cost columns: `train_steps`, `train_wall_s` and",
        "`target_evaluations` (energy and score calls, each counted once per point) spent in",
        "training; `samples_per_s` (one-step methods: one batched draw of `throughput_samples`;",
        "chains/particles: final samples over their sampling wall time) and",
        "`target_evaluations_per_sample` (0 for a trained one-step sampler). Quality metrics of",
        "samplers use their `n` final states (SVGD: the particle count, fewer than the",
        "generators' samples, which biases its MMD upward). Generator-kind baselines train with",
        "the target's training settings but `baselines.generator.steps` steps (column",
        "`train_steps`; the default, 750, is half the main grid's). Per-mode weights:",
        "comparison.csv.",
        "",
    ]
    for target in dict.fromkeys(s["target"] for s in stats):
        sub = [s for s in stats if s["target"] == target]
        present = {s["metric"] for s in sub}
        cols = [c for c in QUALITY if c in present]
        if "mode_weight_1" in present and "mode_weight_2" not in present:
            cols.insert(0, "mode_weight_1")
        cols += [c for c in TIMING if c in present]
        lines += [f"## {target}", ""]
        lines.append("| method | kind | divergence | n seeds | " + " | ".join(cols) + " |")
        lines.append("|---|---|---|---|" + "---|" * len(cols))
        table = {(s["method"], s["divergence"], s["metric"]): s for s in sub}
        keys = dict.fromkeys((s["method"], s["divergence"]) for s in sub)
        for method, div in keys:
            n = max(s["n"] for s in sub if s["method"] == method and s["divergence"] == div)
            cells = [_fmt(table.get((method, div, c))) for c in cols]
            kind = kinds.get(method, "generator")
            lines.append(f"| {method} | {kind} | {div} | {n} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


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
    kinds: dict[str, str],
    curve: list[dict[str, Any]],
    target: str,
) -> dict[str, Any] | None:
    """MALA against the best one-step method on ``target`` (lowest mean ``mmd_median``).

    For MMD and for the mode-weight TV: the first MALA budget (steps per chain) whose mean over
    seeds reaches the one-step method's mean, its target evaluations and wall time per sample,
    and the break-even sample counts ``n* = training cost / (MALA cost per sample − one-step
    cost per sample)`` in target evaluations and in wall time. Where MALA never reaches the
    level within its budgets, ``reached`` is False and ``n*`` is an upper bound computed with
    MALA's largest budget (MALA would need more). ``None`` without one-step rows or a curve.
    """
    stats = [s for s in summarise(rows) if s["target"] == target]
    table = {(s["method"], s["divergence"], s["metric"]): s["mean"] for s in stats}
    candidates = [
        (m, d)
        for (m, d, metric) in table
        if metric == "mmd_median" and kinds.get(m, "generator") in ONE_STEP_KINDS
    ]
    if not candidates or not curve:
        return None
    best = min(candidates, key=lambda k: table[(*k, "mmd_median")])
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
    for metric in ("mmd_median", "mode_weight_tv"):
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
        "## MALA versus the best one-step generator: cost to equal quality and break-even",
        "",
        "Best one-step method per target: lowest mean MMD (median bandwidth) over all one-step",
        "methods (main grid and one-step baselines). MALA: the first budget (steps per chain,",
        "means over seeds) at which its final states reach that MMD, resp. that mode-weight TV;",
        "every sample is the final state of its own chain (independent chains, burn-in included",
        "in the cost). Break-even `n*`: the number of samples above which training the one-step",
        "sampler costs less than running MALA, `n* = training cost / (MALA cost per sample −",
        "one-step cost per sample)`, in target evaluations and in wall time. `≤` marks an upper",
        "bound where MALA does not reach the level within its largest budget (`not reached`);",
        "`never`: MALA is not slower per sample. MMD estimates have a finite-sample floor, so a",
        "level below MALA's floor reads as not reached.",
        "",
        "| target | best one-step | level | criterion | MALA steps | MALA value "
        "| evals/sample | wall/sample (s) | training evals | training wall (s) "
        "| n* (evals) | n* (wall) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        for metric in ("mmd_median", "mode_weight_tv"):
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


def published_protocol(
    target: GaussianMixture,
    samples: np.ndarray,
    seed: int,
    n: int = 1000,
) -> dict[str, float]:
    """DEM/iDEM evaluation: ``n`` generated against ``n`` exact samples (drawn with ``seed``);
    x-W2 by exact OT on squared Euclidean costs (``ot.emd2``, then the square root) and the
    total variation of the mode weights of the generated samples."""
    x = np.asarray(samples[:n], dtype=np.float64)
    exact = target.sample(n, torch.Generator().manual_seed(seed)).double().numpy()
    cost = ot.dist(x, exact, metric="sqeuclidean")
    a = np.full(len(x), 1.0 / len(x))
    b = np.full(len(exact), 1.0 / len(exact))
    w2 = math.sqrt(max(float(ot.emd2(a, b, cost, numItermax=1_000_000)), 0.0))
    assign = target.assign(torch.from_numpy(x)).numpy()
    w_hat = np.bincount(assign, minlength=len(target.weights)) / len(x)
    tv = 0.5 * float(np.abs(w_hat - target.weights.numpy()).sum())
    return {"x_w2": w2, "mode_tv": tv, "n": float(len(x))}


def published_markdown(rows: Sequence[dict[str, Any]], target: str) -> str:
    """Mean ± std over seeds of the published-protocol metrics."""
    stats = summarise(rows)
    table = {(s["method"], s["divergence"], s["metric"]): s for s in stats}
    lines = [
        f"# {target} in the published (DEM/iDEM) protocol",
        "",
        "1000 generated samples against 1000 exact samples (a fresh draw per seed); x-W2 by exact",
        "optimal transport on squared Euclidean costs (POT `ot.emd2`, then the square root); TV of",
        "the mode weights (nearest-component assignment). Mean ± std over seeds; `n`: samples",
        "used (SVGD has as many as particles).",
        "",
        "| method | divergence | x-W2 | mode-weight TV | n | seeds |",
        "|---|---|---|---|---|---|",
    ]
    for method, div in dict.fromkeys((s["method"], s["divergence"]) for s in stats):
        w2 = table.get((method, div, "x_w2"))
        tv = table.get((method, div, "mode_tv"))
        n = table.get((method, div, "n"))
        lines.append(
            f"| {method} | {div} | {_fmt(w2)} | {_fmt(tv)} | {n['mean']:.0f} | {n['n']} |"
            if n
            else f"| {method} | {div} | {_fmt(w2)} | {_fmt(tv)} | – | – |"
        )
    lines.append("")
    return "\n".join(lines)
