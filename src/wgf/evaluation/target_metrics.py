"""Metrics beside MMD and W2 for targets with a reference sample (exact or long-chain): the
moments per coordinate, the energy histogram, and what each benchmark is known to break —
the funnel's neck and the many-well's well weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ..targets import Funnel, ManyWell, Target

__all__ = [
    "ENERGY_BINS",
    "NECK",
    "energies",
    "energy_comparison",
    "energy_histogram_tv",
    "moment_errors",
    "target_metrics",
    "w1_1d",
]

ENERGY_BINS = 200  # DiKL's energy histograms
NECK = -3.0  # the funnel's neck: v below one standard deviation σ_v = 3


def moment_errors(samples: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """Per coordinate ``|m̂ − m| / s`` and ``|ŝ − s| / s`` (``m, s``: the reference's mean and
    std), their max and mean over coordinates: the posterior-summary errors a user reads."""
    scale = reference.std(0)
    scale = np.where(scale > 0, scale, 1.0)
    mean_err = np.abs(samples.mean(0) - reference.mean(0)) / scale
    std_err = np.abs(samples.std(0) - reference.std(0)) / scale
    return {
        "mean_error_max": float(mean_err.max()),
        "mean_error_mean": float(mean_err.mean()),
        "std_error_max": float(std_err.max()),
        "std_error_mean": float(std_err.mean()),
    }


def energy_histogram_tv(
    energies: np.ndarray, reference: np.ndarray, bins: int = ENERGY_BINS
) -> float:
    """Total variation between the energy histograms of samples and reference on ``bins`` equal
    bins over the reference's range; samples outside it count as mass in no reference bin."""
    edges = np.linspace(reference.min(), reference.max(), bins + 1)
    p = np.histogram(reference, edges)[0] / len(reference)
    q = np.histogram(energies, edges)[0] / len(energies)
    return float(0.5 * (np.abs(p - q).sum() + (1.0 - q.sum())))


def energies(target: Target, samples: np.ndarray | torch.Tensor) -> np.ndarray:
    """``E(x)`` of every sample in float64 (float32 for a user energy that only takes it)."""
    x = torch.as_tensor(samples).detach().cpu()
    with torch.no_grad():
        try:
            e = target.energy(x.double())
        except RuntimeError:
            e = target.energy(x.float())
    return e.double().numpy()


def energy_comparison(
    energies: Mapping[str, np.ndarray], reference: np.ndarray, reference_name: str
) -> list[dict[str, Any]]:
    """Each set's energy-histogram TV against half the reference's energies (the even draws),
    with its floor: the other half against the same. Every set is cut to the half's size, so
    the floor is the value at the same sample size. A set named ``reference_name`` (the
    reference itself, e.g. MALA's chains for a user energy) is the floor and gets no row."""
    ref = np.asarray(reference, dtype=np.float64)
    if len(ref) < 4 or not np.isfinite(ref).all():
        raise ValueError("energy_comparison: the reference's energies must be ≥ 4 finite values")
    base, other = ref[0::2], ref[1::2]  # len(other) ≤ len(base)
    n = len(other)
    rows = [
        {
            "method": f"{reference_name} vs {reference_name}",
            "n": n,
            "energy_tv": energy_histogram_tv(other, base),
            "mean_energy": float(other.mean()),
        }
    ]
    for name, e in energies.items():
        if name == reference_name:
            continue
        e = np.asarray(e, dtype=np.float64)[:n]
        rows.append(
            {
                "method": name,
                "n": len(e),
                "energy_tv": energy_histogram_tv(e, base),
                "mean_energy": float(np.mean(e)),
            }
        )
    return rows


def w1_1d(a: np.ndarray, b: np.ndarray) -> float:
    """The 1-D Wasserstein-1 distance ``∫ |F⁻¹ − G⁻¹|`` of two empirical measures (quantile
    functions on the union of their grids)."""
    a, b = np.sort(a), np.sort(b)
    levels = np.union1d(np.arange(1, len(a)) / len(a), np.arange(1, len(b)) / len(b))
    levels = np.concatenate([[0.0], levels, [1.0]])
    mid = 0.5 * (levels[:-1] + levels[1:])
    qa = a[np.minimum((mid * len(a)).astype(int), len(a) - 1)]
    qb = b[np.minimum((mid * len(b)).astype(int), len(b) - 1)]
    return float((np.abs(qa - qb) * np.diff(levels)).sum())


def target_metrics(
    target: Target, samples: torch.Tensor, reference: torch.Tensor
) -> dict[str, float]:
    """Moment errors and energy-histogram TV for every target, plus the funnel's neck (``neck_w1``:
    W1 of the ``v`` marginal; ``neck_fraction``: the share of ``v < −3``, exact 0.159) and the
    many-well's ``x₁ > 0`` weight per well against its exact value (``well_weight_error_max``
    and ``_mean``)."""
    x = samples.detach().double().cpu()
    ref = reference.detach().double().cpu()
    xn, rn = x.numpy(), ref.numpy()
    out = moment_errors(xn, rn)
    out["energy_tv"] = energy_histogram_tv(target.energy(x).numpy(), target.energy(ref).numpy())
    if isinstance(target, Funnel):
        out["neck_w1"] = w1_1d(xn[:, 0], rn[:, 0])
        out["neck_fraction"] = float((xn[:, 0] < NECK).mean())
    if isinstance(target, ManyWell):
        err = np.abs((xn[:, 0::2] > 0).mean(0) - target.deep_weight)
        out["well_weight_error_max"] = float(err.max())
        out["well_weight_error_mean"] = float(err.mean())
    return out
