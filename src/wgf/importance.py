"""Importance-sampling estimates from log-weights: ``log Ẑ`` and the effective sample size."""

from __future__ import annotations

import math

import torch

__all__ = ["ess_fraction", "log_mean_exp"]


def log_mean_exp(log_w: torch.Tensor) -> torch.Tensor:
    """``log mean exp(log_w)``: the ``log Ẑ`` of the weights, without overflow."""
    return torch.logsumexp(log_w, 0) - math.log(log_w.numel())


def ess_fraction(log_w: torch.Tensor) -> float:
    """Effective sample size over the sample size, ``(Σw)² / (n Σw²)``, from ``log w``."""
    log_ess = 2 * torch.logsumexp(log_w, 0) - torch.logsumexp(2 * log_w, 0)
    return float(torch.exp(log_ess)) / log_w.numel()
