"""Importance-sampling estimates from log-weights: ``log Ẑ`` and the effective sample size."""

from __future__ import annotations

import math

import torch

__all__ = ["ess_fraction", "log_mean_exp", "temper_to_ess"]


def log_mean_exp(log_w: torch.Tensor) -> torch.Tensor:
    """``log mean exp(log_w)``: the ``log Ẑ`` of the weights, without overflow."""
    return torch.logsumexp(log_w, 0) - math.log(log_w.numel())


def _ess(log_w: torch.Tensor) -> torch.Tensor:
    """The effective sample size ``(Σw)² / Σw²`` from ``log w``, as a tensor."""
    return torch.exp(2 * torch.logsumexp(log_w, 0) - torch.logsumexp(2 * log_w, 0))


def ess_fraction(log_w: torch.Tensor) -> float:
    """Effective sample size over the sample size, ``(Σw)² / (n Σw²)``, from ``log w``."""
    return float(_ess(log_w)) / log_w.numel()


def _ess_at_least(log_w: torch.Tensor, floor: float) -> torch.Tensor:
    """``ess_fraction(log_w) >= floor`` as a boolean tensor (no host sync), in the same float64
    arithmetic as :func:`ess_fraction`."""
    return _ess(log_w).double() / log_w.numel() >= floor


def temper_to_ess(log_w: torch.Tensor, floor: float, iterations: int = 30) -> torch.Tensor:
    """The largest ``λ ∈ [0, 1]`` whose tempered weights ``w^λ`` keep an ESS fraction ``≥ floor``
    (bisection; the ESS of ``w^λ`` falls as ``λ`` grows), as adaptive SMC tempers its weights.

    ``floor ≤ 0`` or an ESS already above it: 1. ``λ = 0`` gives equal weights (ESS 1). A 0-d
    float64 tensor on ``log_w``'s device: the bisection never waits for the device."""
    one = torch.ones((), dtype=torch.float64, device=log_w.device)
    if floor <= 0:
        return one
    lo, hi = torch.zeros_like(one), one
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        ok = _ess_at_least(mid.to(log_w.dtype) * log_w, floor)
        lo, hi = torch.where(ok, mid, lo), torch.where(ok, hi, mid)
    return torch.where(_ess_at_least(log_w, floor), one, lo)
