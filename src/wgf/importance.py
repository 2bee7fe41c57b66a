"""Importance-sampling estimates from log-weights: ``log Ẑ`` and the effective sample size."""

from __future__ import annotations

import math

import torch

__all__ = ["ess_fraction", "exp_floor", "log_mean_exp", "logsumexp", "temper_to_ess"]


def exp_floor(dtype: torch.dtype) -> float:
    """An exponent below which ``exp`` is negligible beside 1 in ``dtype`` (−700 in float64, −80
    in float32: ``e^−700`` and ``e^−80`` are below half an ulp of 1 even summed 10²⁷ times) and
    above the range where it underflows to subnormals.

    ``exp`` of arguments below about −708 (float64) or −87 (float32) leaves the vectorised path
    for a slow subnormal one, 10-20× slower: a far mode's log-terms (gmm40, the KDE of a d = 16
    batch) fall there. Clamping ``a − max`` at this floor before ``exp`` changes no sum that has a
    term of 1, so the result is the same float.
    """
    return -700.0 if dtype == torch.float64 else -80.0


def logsumexp(a: torch.Tensor, dim: int) -> torch.Tensor:
    """``torch.logsumexp(a, dim)``, step for step as ATen computes it, with ``a − max`` clamped at
    :func:`exp_floor`: the same floats, without the subnormal slow path. Where autograd records,
    torch's own, so that gradients (a reverse-KL flow's through the energy) keep their floats."""
    if a.requires_grad and torch.is_grad_enabled():
        return torch.logsumexp(a, dim)
    top = a.amax(dim, keepdim=True)
    empty = (top == -math.inf).squeeze(dim)  # all terms −inf: the clamp would lift them
    top = top.masked_fill(top.abs() == math.inf, 0.0)
    out = (a - top).clamp(min=exp_floor(a.dtype)).exp().sum(dim).log().add(top.squeeze(dim))
    return out.masked_fill(empty, -math.inf)


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
