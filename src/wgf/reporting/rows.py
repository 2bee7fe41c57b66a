"""The long results table: one row per (target, method, divergence, seed, metric, value).

Every run becomes rows by one builder, :func:`run_rows`, which reads its identity and training
cost from the run's own record: a main-grid generator's ``run.json`` (source ``grid``), a
reference fit's ``log_z.json`` (``reference``), a baseline's ``run.json`` (``baseline``), or one
draw of the floor, exact samples scored against the exact samples (``floor``: method
``exact_vs_exact``, one seed per draw).

Run-to-run-varying measurements (wall times, throughputs) are not results: :func:`is_timing`
decides which metrics they are and :func:`split_timing` routes them out of ``main.csv`` (which a
rerun with the same seeds reproduces byte for byte) into ``timings.csv``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..baselines import METHODS, ONE_STEP_KINDS

__all__ = [
    "FLOOR_METHOD",
    "NO_DIVERGENCE",
    "TABLE_COLUMNS",
    "history_curve",
    "is_timing",
    "kind_of",
    "quality_metric",
    "run_identity",
    "run_rows",
    "split_timing",
]

# What ranks one sample set against another: the MMD to exact samples where there are any, the
# kernel Stein discrepancy (the target's score alone) where there are none (energy targets).
QUALITY_METRICS = ("mmd_median", "ksd")
TABLE_COLUMNS = ("target", "method", "divergence", "seed", "metric", "value")
NO_DIVERGENCE = "-"
# The floor of every metric: an independent exact sample set in place of a sampler's.
FLOOR_METHOD = "exact_vs_exact"
# The training cost recorded in a main-grid run.json and added to its rows.
GRID_COST = ("train_wall_s", "time_per_step_s", "target_evaluations")
# Clock-measured metrics: by name, or by one of these suffixes (new timings need no edit here).
TIMING_METRICS = (
    "train_wall_s",
    "time_per_step_s",
    "samples_per_s",
    "fit_wall_s",
    "fit_cpu_s",
    "elapsed_s",
)
TIMING_SUFFIXES = ("_wall_s", "_cpu_s", "_time_s", "_per_s", "_per_step_s", "_seconds")


def history_curve(history: Sequence[Mapping[str, Any]], metric: str) -> dict[float, float]:
    """``step ↦ value`` of ``metric`` over a training history's rows, in step order; rows without
    a finite value are skipped (the monitor's metrics are absent from some rows)."""
    out: dict[float, float] = {}
    for row in history:
        try:
            step, value = float(row["step"]), float(row[metric])
        except (KeyError, TypeError, ValueError):
            continue
        if math.isfinite(step) and math.isfinite(value):
            out[step] = value
    return dict(sorted(out.items()))


def quality_metric(available: Iterable[str], preferred: str = QUALITY_METRICS[0]) -> str:
    """``preferred`` if ``available`` (the metric names a target's rows hold) has it; for a
    ``preferred`` of :data:`QUALITY_METRICS`, else the first of those it has (a target without
    exact samples has only the KSD); else ``preferred``."""
    names = set(available)
    if preferred in names or preferred not in QUALITY_METRICS:
        return preferred
    return next((m for m in QUALITY_METRICS if m in names), preferred)


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


def kind_of(method: str) -> str:
    """A table method's kind: a baseline's registry kind; ``generator`` for the main grid's
    ``generator_<estimator>``; ``flow`` for the reference flow ν; ``floor`` for exact samples."""
    if method in METHODS:
        return METHODS[method].kind
    return {"reference_flow": "flow", FLOOR_METHOD: "floor"}.get(method, "generator")


def _grid(info: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    cost = {k: info[k] for k in GRID_COST if k in info}
    return f"generator_{info['config']['estimator']}", info["divergence"], cost


def _reference(info: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """The reference flow as a one-step sampler: ``divergence`` holds the fit method
    (``iw_ml``, ``reverse_kl``, ``hybrid``); the fit's wall time counts as training time."""
    cost = {
        "train_wall_s": info["fit_wall_s"],
        "time_per_step_s": info["fit_wall_s"] / max(info["steps"], 1),
        "target_evaluations": info["target_evaluations"],
        "log_z_error": info.get("log_z_error"),
        "log_z_ess": info["ess"],
    }
    return "reference_flow", info["method"], cost


def _baseline(info: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    cost = {
        "train_wall_s": info["train_wall_s"],
        "target_evaluations": info["target_evaluations"],
        "train_steps": info.get("steps") if info["kind"] in ONE_STEP_KINDS else 0,
    }
    if "time_per_step_s" in info:
        cost["time_per_step_s"] = info["time_per_step_s"]
    return info["method"], info.get("divergence") or NO_DIVERGENCE, cost


def _floor(info: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    return FLOOR_METHOD, NO_DIVERGENCE, {}


SOURCES: dict[str, Callable[[dict[str, Any]], tuple[str, str, dict[str, Any]]]] = {
    "grid": _grid,
    "reference": _reference,
    "baseline": _baseline,
    "floor": _floor,
}


def run_identity(info: dict[str, Any], source: str) -> dict[str, Any]:
    """``{target, method, divergence, seed}`` of a run record from ``source``."""
    method, divergence, _ = SOURCES[source](info)
    return {
        "target": info["target"],
        "method": method,
        "divergence": divergence,
        "seed": info["seed"],
    }


def run_rows(info: dict[str, Any], metrics: dict[str, float], source: str) -> list[dict[str, Any]]:
    """Rows of one run: its metrics plus the training cost its record holds (``None`` left out),
    one row per metric in name order."""
    _, _, cost = SOURCES[source](info)
    base = run_identity(info, source)
    values = {**metrics, **{k: v for k, v in cost.items() if v is not None}}
    return [{**base, "metric": k, "value": repr(float(v))} for k, v in sorted(values.items())]
