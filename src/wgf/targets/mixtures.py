"""Gaussian mixtures: the paper's benchmarks (gmm8, gmm40, gmm2hard16) and a user's own.

Exact samples, ``log Z`` and the component responsibilities (to count modes) come with them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from ..importance import exp_floor, logsumexp
from .base import Target, TargetError

__all__ = ["GaussianMixture", "gmm2hard16", "gmm40", "gmm40_means", "gmm8", "mixture"]


class GaussianMixture(Target):
    """``p(x) = Σ_k w_k N(x; m_k, C_k)`` with energy ``-log Σ_k w_k |C_k|^{-1/2} e^{-maha/2}``.

    The energy omits the ``(2π)^{-d/2}`` factor, so ``log Z = (d/2) log 2π`` is non-trivial and
    the samplers are exercised on a genuinely unnormalised density.
    """

    exact = True

    def __init__(
        self,
        means: Sequence[Sequence[float]] | torch.Tensor,
        covs: Sequence | torch.Tensor,
        weights: Sequence[float] | torch.Tensor,
        name: str = "mixture",
    ) -> None:
        self.name = name
        self.means = torch.as_tensor(means, dtype=torch.float64)
        if self.means.ndim != 2 or self.means.shape[0] == 0 or self.means.shape[1] == 0:
            raise TargetError("means must be a non-empty K×d list")
        k, d = self.means.shape
        self.covs = _as_covariances(covs, k, d, name)
        self.weights = torch.as_tensor(weights, dtype=torch.float64)
        if self.weights.shape != (k,):
            raise TargetError(f"weights must have one entry per mean ({k})")
        if not torch.isfinite(self.weights).all() or (self.weights < 0).any():
            raise TargetError("weights must be finite and non-negative")
        if abs(float(self.weights.sum()) - 1.0) > 1e-6:
            raise TargetError(f"weights must sum to one (they sum to {float(self.weights.sum())})")
        try:
            self.chol = torch.linalg.cholesky(self.covs)
        except RuntimeError as err:
            raise TargetError("covariances must be positive definite") from err
        self.dim = d
        self.n_modes = k
        self.log_z = 0.5 * d * math.log(2 * math.pi)
        self._log_norm = self.weights.log() - self.chol.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        self._prec = torch.cholesky_inverse(self.chol)
        self._cast: dict[tuple[torch.device, torch.dtype], tuple[torch.Tensor, ...]] = {}

    def _constants(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Means, log-normalisers and precisions on ``x``'s device and dtype (cast once: the hot
        path calls this every step)."""
        key = (x.device, x.dtype)
        if key not in self._cast:
            self._cast[key] = tuple(
                t.to(x.device, x.dtype) for t in (self.means, self._log_norm, self._prec)
            )
        return self._cast[key]

    def _terms(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``log w_k − ½ log|C_k| − ½ maha_k(x)``, shape (K, N), and ``C_k⁻¹ (x − m_k)``, shape
        (K, N, d): one batched product gives the Mahalanobis terms and the score's parts."""
        means, log_norm, prec = self._constants(x)
        diff = x[None] - means[:, None]
        pdiff = torch.bmm(diff, prec)  # C_k⁻¹ symmetric: rows (C_k⁻¹ (x − m_k))ᵀ
        return log_norm[:, None] - 0.5 * (diff * pdiff).sum(-1), pdiff

    def _component_log_terms(self, x: torch.Tensor) -> torch.Tensor:
        """The terms of :meth:`_terms` per sample and component, shape (N, K)."""
        return self._terms(x)[0].T

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        return -logsumexp(self._component_log_terms(x), -1)

    def responsibilities(self, x: torch.Tensor) -> torch.Tensor:
        """Posterior component probabilities, shape (N, K)."""
        return torch.softmax(self._component_log_terms(x), dim=-1)

    def assign(self, x: torch.Tensor) -> torch.Tensor:
        """Mode of each sample: the component with the highest responsibility."""
        return self._component_log_terms(x).argmax(dim=-1)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        return self.log_prob_and_score(x)[1]

    def log_prob_and_score(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``−E(x)`` and ``∇log p = −Σ_k γ_k C_k⁻¹ (x − m_k)`` in one pass over the components."""
        terms, pdiff = self._terms(x)
        log_p = logsumexp(terms, 0)
        shifted = terms - log_p
        if not shifted.requires_grad:  # under autograd, torch's floats and gradients as they were
            shifted.clamp_(min=exp_floor(shifted.dtype))
        gamma = shifted.exp_()
        return log_p, -(gamma[..., None] * pdiff).sum(0)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        idx = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        eps = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        x = self.means[idx] + torch.einsum("nij,nj->ni", self.chol[idx], eps)
        return x.float()

    def to_spec(self) -> dict[str, Any]:
        return {
            "kind": "mixture",
            "means": self.means.tolist(),
            "covs": self.covs.tolist(),
            "weights": self.weights.tolist(),
        }


def _as_covariances(covs: Any, k: int, d: int, name: str) -> torch.Tensor:
    """Accept a full (K, d, d) stack, per-component diagonals (K, d) or isotropic stds' squares."""
    c = torch.as_tensor(covs, dtype=torch.float64)
    if c.shape == (k, d, d):
        if not torch.allclose(c, c.transpose(-1, -2)):
            raise TargetError("covariances must be symmetric")
        return c
    if c.shape == (k, d):
        if (c <= 0).any():
            raise TargetError("diagonal covariances must be positive")
        return torch.diag_embed(c)
    raise TargetError(f"covs must have shape ({k}, {d}, {d}) or ({k}, {d}), got {tuple(c.shape)}")


def gmm8(
    radius: float = 2.0 * math.sqrt(2.0), std: float = 0.5 / math.sqrt(2.0)
) -> GaussianMixture:
    """The classic 8-Gaussians ring: equal weights at angles kπ/4."""
    angles = torch.arange(8, dtype=torch.float64) * math.pi / 4
    means = radius * torch.stack([angles.cos(), angles.sin()], dim=-1)
    return GaussianMixture(means, torch.full((8, 2), std**2), torch.full((8,), 1 / 8), "gmm8")


def gmm40_means(n_modes: int = 40, loc_scaling: float = 40.0, seed: int = 0) -> torch.Tensor:
    """The FAB / (i)DEM means: ``torch.manual_seed(0); (torch.rand(40, 2) - 0.5) * 2 * 40``."""
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand((n_modes, 2), generator=gen) - 0.5) * 2 * loc_scaling


def gmm40(n_modes: int = 40, loc_scaling: float = 40.0, seed: int = 0) -> GaussianMixture:
    """FAB's 40-mode mixture: uniform means in [-40, 40]², std softplus(1), equal weights."""
    std = F.softplus(torch.tensor(1.0, dtype=torch.float64))
    means = gmm40_means(n_modes, loc_scaling, seed).double()
    covs = torch.full((n_modes, 2), float(std) ** 2, dtype=torch.float64)
    return GaussianMixture(means, covs, torch.full((n_modes,), 1 / n_modes), "gmm40")


def gmm2hard16(
    dim: int = 16, a: float = 1.0, variance: float = 0.05, light_weight: float = 1 / 3
) -> GaussianMixture:
    """SLIPS ``two_modes_dim_16``: means ``-(2a/3)·1`` and ``(4a/3)·1``, covariance 0.05 I."""
    ones = torch.ones(dim, dtype=torch.float64)
    means = torch.stack([-(2 * a / 3) * ones, (4 * a / 3) * ones])
    covs = torch.full((2, dim), variance, dtype=torch.float64)
    return GaussianMixture(means, covs, [1 - light_weight, light_weight], "gmm2hard16")


def mixture(
    means: Sequence[Sequence[float]],
    weights: Sequence[float] | None = None,
    stds: Sequence[float] | float | None = None,
    covs: Sequence | None = None,
) -> GaussianMixture:
    """A Gaussian mixture from config: isotropic ``stds`` (scalar or one per mode) or ``covs``."""
    k = len(means)
    d = len(means[0]) if k else 0
    if (stds is None) == (covs is None):
        raise TargetError("a mixture target needs exactly one of 'stds' or 'covs'")
    if covs is None:
        s = torch.as_tensor(stds, dtype=torch.float64).reshape(-1)
        if s.numel() == 1:
            s = s.expand(k)
        if s.shape != (k,) or (s <= 0).any():
            raise TargetError(f"mixture stds must be positive, one per mode ({k}) or one in all")
        covs = (s[:, None] ** 2).expand(k, d)
    if weights is None:
        weights = [1.0 / k] * k
    return GaussianMixture(means, covs, weights)
