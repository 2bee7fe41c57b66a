"""Estimators of the generator's own ``log q`` and ``∇log q`` from its detached batch.

One registry entry per estimator; each maps ``(x, tau)`` to ``(log q̂(x), ∇log q̂(x))``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .kde import kde_stats, mean_shift

__all__ = ["ESTIMATORS", "Estimator", "make_estimator"]

Estimator = Callable[[torch.Tensor, float], tuple[torch.Tensor, torch.Tensor]]


def _kde(kernel: str, chunk: int) -> Estimator:
    def estimate(x: torch.Tensor, tau: float) -> tuple[torch.Tensor, torch.Tensor]:
        return kde_stats(x, x, tau, kernel=kernel, chunk=chunk)

    return estimate


def _drifting(kernel: str, chunk: int) -> Estimator:
    """Laplace mean shift in place of the score (divided by τ to carry score units)."""

    def estimate(x: torch.Tensor, tau: float) -> tuple[torch.Tensor, torch.Tensor]:
        log_q, _ = kde_stats(x, x, tau, kernel="laplace", chunk=chunk)
        return log_q, mean_shift(x, x, tau, chunk=chunk) / tau

    return estimate


ESTIMATORS: dict[str, Callable[[str, int], Estimator]] = {"kde": _kde, "drifting": _drifting}


def make_estimator(name: str, kernel: str = "laplace", chunk: int = 1024) -> Estimator:
    if name not in ESTIMATORS:
        raise ValueError(f"unknown score estimator {name!r}; known: {', '.join(ESTIMATORS)}")
    return ESTIMATORS[name](kernel, chunk)
