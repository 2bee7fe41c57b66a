"""The universal drift ``V = w(r) β``, ``β = ∇log p − ∇log q̂``, with the normaliser handled.

For homogeneous weights (the α-family) the unknown ``Z`` only rescales ``w`` and cancels when the
weights are self-normalised over the batch. Otherwise ``log Z`` is estimated by importance
sampling over the batch, ``log Ẑ = logmeanexp_i(−E(x_i) − log q̂(x_i))``, or supplied (e.g. by a
reference flow). Weights are always divided by their batch mean, a global step-size
normalisation that leaves the direction field unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .divergences import Divergence
from .targets import Target

__all__ = ["Drift", "batch_log_z", "f_drift"]


@dataclass
class Drift:
    velocity: torch.Tensor
    log_r: torch.Tensor
    weights: torch.Tensor
    beta: torch.Tensor
    log_z: float
    normaliser: str

    @property
    def ess(self) -> float:
        """Effective sample size fraction ``(Σw)² / (N Σw²)`` of the weights."""
        w = self.weights
        return float(w.sum() ** 2 / (w.numel() * w.square().sum()))


def batch_log_z(log_p_unnorm: torch.Tensor, log_q: torch.Tensor) -> float:
    """Importance-sampling estimate of ``log Z`` with the batch (q̂) as proposal."""
    log_ratio = log_p_unnorm - log_q
    return float(torch.logsumexp(log_ratio, 0) - math.log(log_ratio.numel()))


def f_drift(
    x: torch.Tensor,
    target: Target,
    divergence: Divergence,
    log_q: torch.Tensor,
    score_q: torch.Tensor,
    log_z: float | None = None,
    log_r_clip: float = 10.0,
) -> Drift:
    """The drift at the detached batch ``x`` given the estimator's ``log q̂`` and ``∇log q̂``.

    Homogeneous weights only need differences of ``log r``: it is shifted so that the batch
    maximum sits at ``+log_r_clip`` and clipped to ``[−log_r_clip, log_r_clip]``, keeping the
    ordering of the best-covered points intact (a median-centred clip flattens the top half of
    the batch in high dimension, where ``log r`` spans hundreds of nats). With ``log Z`` known
    or estimated, ``log r`` is clipped to ``±log_r_clip`` around 0.
    """
    x = x.detach()
    log_p = target.log_prob_unnorm(x).detach()
    beta = target.score(x).detach() - score_q
    raw = log_p - log_q
    estimate = log_z if log_z is not None else batch_log_z(log_p, log_q)
    if divergence.homogeneous and log_z is None:
        normaliser = "self"
        centre = raw.max() - log_r_clip
    else:
        normaliser = "given" if log_z is not None else "batch"
        centre = torch.as_tensor(estimate, dtype=raw.dtype)
    log_r = (raw - centre).clamp(-log_r_clip, log_r_clip)
    log_w = divergence.log_w(log_r)
    weights = torch.exp(log_w - (torch.logsumexp(log_w, 0) - math.log(log_w.numel())))
    return Drift(weights[:, None] * beta, log_r, weights, beta, estimate, normaliser)
