"""The universal drift ``V = w(r) β``, ``β = ∇log p − ∇log q̂``, with the normaliser handled.

For homogeneous weights (the α-family) the unknown ``Z`` only rescales ``w`` and cancels when the
weights are self-normalised over the batch. Otherwise ``log Z`` is estimated by importance
sampling over the batch, ``log Ẑ = logmeanexp_i(−E(x_i) − log q̂(x_i))``, or supplied (e.g. by a
reference flow). Weights are always divided by their batch mean, a global step-size
normalisation that leaves the direction field unchanged.

The Log-Variance drifts (SCIENCE.md §3) take a reference density ``ν`` on the batch
(:func:`lv_reference`: ``q̂`` itself, the reference flow, or ``λ·flow + (1 − λ)·q̂``).
Expectations under ``ν`` are importance-weighted over the generator's batch with the
self-normalised weights ``ŵ_i = (ν/q̂)(x_i) / mean_j (ν/q̂)(x_j)``. ``Z`` cancels exactly:
``log r + m = c − E_ν[c]`` with ``c = log p̃ − log q̂``, so no ``log Ẑ`` enters the velocity (one is
recorded for the diagnostic ``log r`` only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .config import DEFAULTS
from .divergences import Divergence, LogVariance
from .importance import ess_fraction, log_mean_exp, temper_to_ess
from .targets import Target

__all__ = [
    "LV_REFERENCES",
    "Drift",
    "LVConfig",
    "batch_log_z",
    "f_drift",
    "lv_drift",
    "lv_reference",
    "lv_surrogate",
    "variance_drift",
]

LV_REFERENCES = ("q", "flow", "mixture")
_LV = DEFAULTS["training"]["lv"]


@dataclass
class LVConfig:
    """``training.lv``: the reference ``ν`` of the LV drifts, the flow's weight ``λ`` in the
    mixture ``λ·flow + (1 − λ)·q̂``, and the surrogate's exponent ``γ`` (``γ = 0``: reverse KL).

    ``defensive = ε`` replaces the flow by ``(1 − ε) ν_flow + ε N(loc, scale² I)`` (its fit's
    broad proposal) wherever the flow enters: a MAF's density and score explode off its support
    (see :meth:`wgf.density.flows.Flow.defensive_log_prob_and_score`). Defaults: ours
    (SCIENCE.md §3 fixes none), in :mod:`wgf.config.defaults`.
    """

    reference: str = _LV["reference"]
    mix: float = _LV["mix"]
    gamma: float = _LV["gamma"]
    defensive: float = _LV["defensive"]


@dataclass
class Drift:
    velocity: torch.Tensor
    log_r: torch.Tensor
    weights: torch.Tensor
    beta: torch.Tensor
    log_z: float
    normaliser: str
    temper: float | torch.Tensor = 1.0  # λ of the weights w^λ (1: untempered; temper_to_ess)

    @property
    def ess(self) -> float:
        """Effective sample size fraction ``(Σw)² / (N Σw²)`` of the weights."""
        return ess_fraction(self.weights.log())


def batch_log_z(log_p_unnorm: torch.Tensor, log_q: torch.Tensor) -> float:
    """Importance-sampling estimate of ``log Z`` with the batch (q̂) as proposal."""
    return float(log_mean_exp(log_p_unnorm - log_q))


def _shared_terms(
    x: torch.Tensor,
    target: Target,
    log_q: torch.Tensor,
    score_q: torch.Tensor,
    log_z: float | None,
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """``log p̃`` and ``β = ∇log p − ∇log q̂`` on the detached batch, and ``log Z`` (given, else
    the batch importance-sampling estimate): what every drift shares."""
    log_p, score_p = target.log_prob_and_score(x.detach())
    beta = score_p - score_q
    estimate = log_z if log_z is not None else batch_log_z(log_p, log_q)
    return log_p, beta, estimate


def f_drift(
    x: torch.Tensor,
    target: Target,
    divergence: Divergence,
    log_q: torch.Tensor,
    score_q: torch.Tensor,
    log_z: float | None = None,
    log_r_clip: float = 10.0,
    ess_floor: float = 0.0,
) -> Drift:
    """The drift at the detached batch ``x`` given the estimator's ``log q̂`` and ``∇log q̂``.

    Homogeneous weights only need differences of ``log r``: it is shifted so that the batch
    maximum sits at ``+log_r_clip`` and clipped to ``[−log_r_clip, log_r_clip]``, keeping the
    ordering of the best-covered points intact (a median-centred clip flattens the top half of
    the batch in high dimension, where ``log r`` spans hundreds of nats). With ``log Z`` known
    or estimated, ``log r`` is clipped to ``±log_r_clip`` around 0.

    ``ess_floor > 0`` tempers the weights to ``w^λ``, ``λ`` the largest keeping their ESS
    fraction at least the floor: between reverse KL (``λ = 0``) and the divergence, so the fixed
    point ``p`` stays, while a batch is never moved by a handful of its points.
    """
    log_p, beta, estimate = _shared_terms(x, target, log_q, score_q, log_z)
    raw = log_p - log_q
    if divergence.homogeneous and log_z is None:
        normaliser = "self"
        centre = raw.max() - log_r_clip
    else:
        normaliser = "given" if log_z is not None else "batch"
        centre = torch.as_tensor(estimate, dtype=raw.dtype)
    log_r = (raw - centre).clamp(-log_r_clip, log_r_clip)
    log_w = divergence.log_w(log_r)
    lam = temper_to_ess(log_w, ess_floor)
    log_w = lam.to(log_w.dtype) * log_w
    weights = torch.exp(log_w - (torch.logsumexp(log_w, 0) - math.log(log_w.numel())))
    return Drift(weights[:, None] * beta, log_r, weights, beta, estimate, normaliser, lam)


def _self_normalised(log_v: torch.Tensor, log_r_clip: float) -> torch.Tensor:
    """``exp(log_v)`` divided by its batch mean, ``log_v`` first shifted so that its maximum sits at
    ``+log_r_clip`` and clipped to ``±log_r_clip`` (the convention of :func:`f_drift`)."""
    lv = (log_v - (log_v.max() - log_r_clip)).clamp(-log_r_clip, log_r_clip)
    return torch.exp(lv - (torch.logsumexp(lv, 0) - math.log(lv.numel())))


def lv_reference(
    choice: str,
    mix: float,
    log_q: torch.Tensor,
    score_q: torch.Tensor,
    log_flow: torch.Tensor | None = None,
    score_flow: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(log ν, ∇log ν)`` on the batch for ``choice`` in :data:`LV_REFERENCES`.

    ``mixture``: ``ν = λ ν_flow + (1 − λ) q̂``, ``∇log ν = s ∇log ν_flow + (1 − s) ∇log q̂`` with
    ``s = λ ν_flow / ν``. ``ν`` is held fixed in the first variation (a frozen reference per step).
    """
    if choice not in LV_REFERENCES:
        raise ValueError(f"unknown LV reference {choice!r}; known: {', '.join(LV_REFERENCES)}")
    if choice == "q":
        return log_q, score_q
    if log_flow is None or score_flow is None:
        raise ValueError(f"the LV reference {choice!r} needs the reference flow's log ν and score")
    if choice == "flow" or mix >= 1.0:
        return log_flow, score_flow
    if mix <= 0.0:
        return log_q, score_q
    a = log_flow + math.log(mix)
    b = log_q + math.log1p(-mix)
    s = torch.sigmoid(a - b)[:, None]
    return torch.logaddexp(a, b), s * score_flow + (1 - s) * score_q


def lv_drift(
    x: torch.Tensor,
    target: Target,
    log_q: torch.Tensor,
    score_q: torch.Tensor,
    log_nu: torch.Tensor,
    score_nu: torch.Tensor,
    log_z: float | None = None,
    mean_log_ratio: float | None = None,
    log_r_clip: float = 10.0,
) -> Drift:
    """The exact LV drift ``V = 2 (ν/q)[β + (log r + m) ∇log(ν/q)]``, ``m = E_ν[log(q/p)]``.

    Returned with the density ratio self-normalised over the batch, ``ŵ_i = (ν/q̂)(x_i) /
    mean_j (ν/q̂)(x_j)`` (a global step-size factor, estimating ``E_q[ν/q] = 1``): ``V_i = 2 ŵ_i
    [β_i + (c_i − c̄) ∇log(ν/q̂)_i]`` with ``c = log p̃ − log q̂`` and ``c̄ = E_ν[c]``, so that
    ``c_i − c̄ = log r_i + m`` for any ``Z``. ``c̄`` is ``mean_log_ratio`` when known exactly
    (tests), else ``mean_i ŵ_i c_i``. ``log ν/q̂`` is clipped as in :func:`f_drift`, and the centred
    log-ratio to ``±log_r_clip``.
    """
    log_p, beta, estimate = _shared_terms(x, target, log_q, score_q, log_z)
    c = log_p - log_q
    weights = _self_normalised(log_nu - log_q, log_r_clip)
    c_bar = (weights * c).mean() if mean_log_ratio is None else mean_log_ratio
    centred = (c - c_bar).clamp(-log_r_clip, log_r_clip)
    velocity = 2 * weights[:, None] * (beta + centred[:, None] * (score_nu - score_q))
    log_r = (c - estimate).clamp(-log_r_clip, log_r_clip)
    return Drift(velocity, log_r, weights, beta, estimate, "invariant")


def lv_surrogate(
    x: torch.Tensor,
    target: Target,
    log_q: torch.Tensor,
    score_q: torch.Tensor,
    log_nu: torch.Tensor,
    gamma: float,
    log_z: float | None = None,
    log_r_clip: float = 10.0,
) -> Drift:
    """The LV-inspired surrogate ``V = ŵ_γ β``, ``ŵ_γ = (ν/q̂)^γ`` self-normalised over the batch.

    ``γ = 0`` is the reverse-KL drift exactly; ``ν = q̂`` too, for every ``γ``.
    """
    log_p, beta, estimate = _shared_terms(x, target, log_q, score_q, log_z)
    weights = _self_normalised(gamma * (log_nu - log_q), log_r_clip)
    log_r = (log_p - log_q - estimate).clamp(-log_r_clip, log_r_clip)
    return Drift(weights[:, None] * beta, log_r, weights, beta, estimate, "invariant")


def variance_drift(
    divergence: LogVariance,
    x: torch.Tensor,
    target: Target,
    log_q: torch.Tensor,
    score_q: torch.Tensor,
    log_nu: torch.Tensor,
    score_nu: torch.Tensor,
    cfg: LVConfig,
    log_z: float | None = None,
    log_r_clip: float = 10.0,
) -> Drift:
    """Dispatch a registry entry of kind ``lv`` to :func:`lv_drift` or :func:`lv_surrogate`."""
    if divergence.surrogate:
        return lv_surrogate(x, target, log_q, score_q, log_nu, cfg.gamma, log_z, log_r_clip)
    return lv_drift(x, target, log_q, score_q, log_nu, score_nu, log_z, None, log_r_clip)
