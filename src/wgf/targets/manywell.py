"""The many-well: FAB's and DEM's ``ManyWell`` (d = 32), 2^(d/2) modes of unequal weight.

``d/2`` independent copies of the double well ``E(x₁, x₂) = a x₁ + b x₁² + c x₁⁴ + ½ x₂²`` with
``a = −0.5, b = −6, c = 1`` on the coordinate pairs ``(x_{2i}, x_{2i+1})``, as in
``fab/target_distributions/many_well.py`` of github.com/lollcat/fab-torch. Each ``x₁`` has a deep
well near +1.7 and a shallow one near −1.7; ``x₁`` is sampled exactly by rejection from a
two-Gaussian proposal (fab-torch's), ``x₂ ~ N(0, 1)``.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from .base import Target, TargetError

__all__ = ["ManyWell", "double_well_constants", "many_well", "manywell32"]

A, B, C = -0.5, -6.0, 1.0
# fab-torch's proposal for the rejection sampler of x₁: 0.2 N(−1.7, 0.5²) + 0.8 N(1.7, 0.5²)
PROPOSAL_WEIGHTS = (0.2, 0.8)
PROPOSAL_MEANS = (-1.7, 1.7)
PROPOSAL_STD = 0.5


def _well_energy(x1: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    return A * x1 + B * x1**2 + C * x1**4


def _proposal_log_density(x1: np.ndarray) -> np.ndarray:
    terms = [
        math.log(w) - 0.5 * ((x1 - m) / PROPOSAL_STD) ** 2
        for w, m in zip(PROPOSAL_WEIGHTS, PROPOSAL_MEANS, strict=True)
    ]
    return np.logaddexp(*terms) - math.log(PROPOSAL_STD * math.sqrt(2 * math.pi))


@lru_cache(maxsize=1)
def double_well_constants() -> dict[str, float]:
    """``log Z₁ = log ∫ e^{−a x − b x² − c x⁴} dx`` and the deep well's weight ``P(x₁ > 0)`` by
    the trapezoidal rule on [−6, 6] (spacing 2·10⁻⁵; the integrand is below e⁻¹⁰⁰⁰ outside,
    and the rule converges geometrically for it), and ``log M``, the bound of the rejection
    sampler: the largest ``log p̃ − log q`` on that grid plus 0.05 (the ratio is flat at its
    maximum and tends to 0 in the tails, where ``q`` is Gaussian and ``p̃`` quartic)."""
    x = np.linspace(-6.0, 6.0, 600_001)
    h = x[1] - x[0]
    log_f = -_well_energy(x)
    shift = log_f.max()
    f = np.exp(log_f - shift)
    total = h * (f.sum() - 0.5 * (f[0] + f[-1]))
    right = h * (f[x > 0].sum() + 0.5 * f[x == 0].sum())
    return {
        "log_z1": float(np.log(total) + shift),
        "deep_weight": float(right / total),
        "log_bound": float((log_f - _proposal_log_density(x)).max() + 0.05),
    }


class ManyWell(Target):
    """``E(x) = Σ_i a x_{2i} + b x_{2i}² + c x_{2i}⁴ + ½ x_{2i+1}²`` for ``i < d/2``, with
    ``log Z = (d/2)(log Z₁ + ½ log 2π)``."""

    exact = True

    def __init__(self, dim: int = 32, name: str = "many_well") -> None:
        self.name = name
        self.dim = int(dim)
        if self.dim != dim or self.dim < 2 or self.dim % 2:
            raise TargetError(f"dim must be an even integer ≥ 2, got {dim!r}")
        self.n_wells = self.dim // 2
        consts = double_well_constants()
        self.log_z1 = consts["log_z1"]
        self.log_z = self.n_wells * (self.log_z1 + 0.5 * math.log(2 * math.pi))
        self.deep_weight = consts["deep_weight"]

    @property
    def plot_pair(self) -> tuple[int, int]:
        """The double-well coordinates of the first two wells (x₁, x₃): four modes."""
        return (0, 2) if self.n_wells >= 2 else (0, 1)

    def pair_log_prob(self, xy: torch.Tensor) -> torch.Tensor:
        """The exact marginal of :attr:`plot_pair`: two independent double-well marginals
        ``e^{−a x − b x² − c x⁴} / Z₁`` (or one and ``N(0, 1)`` when d = 2)."""
        first = -_well_energy(xy[:, 0]) - self.log_z1
        if self.n_wells >= 2:
            return first - _well_energy(xy[:, 1]) - self.log_z1
        return first - 0.5 * xy[:, 1].square() - 0.5 * math.log(2 * math.pi)

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = x[:, 0::2], x[:, 1::2]
        return (_well_energy(x1) + 0.5 * x2.square()).sum(-1)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        grad = torch.empty_like(x)
        x1 = x[:, 0::2]
        grad[:, 0::2] = -(A + 2 * B * x1 + 4 * C * x1**3)
        grad[:, 1::2] = -x[:, 1::2]
        return grad

    def log_prob_and_score(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return -self.energy(x), self.score(x)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        x = torch.empty(n, self.dim, dtype=torch.float64)
        x[:, 0::2] = sample_well(n * self.n_wells, generator).reshape(n, self.n_wells)
        x[:, 1::2] = torch.randn(n, self.n_wells, generator=generator, dtype=torch.float64)
        return x.float()

    def to_spec(self) -> dict[str, Any]:
        return {"kind": "many_well", "dim": self.dim}


def sample_well(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` exact draws of ``x₁ ∝ e^{−a x − b x² − c x⁴}`` (float64) by rejection from
    fab-torch's proposal under the bound of :func:`double_well_constants` (acceptance ≈ 0.37)."""
    log_bound = double_well_constants()["log_bound"]
    weights = torch.tensor(PROPOSAL_WEIGHTS, dtype=torch.float64)
    means = torch.tensor(PROPOSAL_MEANS, dtype=torch.float64)
    accepted: list[torch.Tensor] = []
    count = 0
    while count < n:
        m = max(1024, int(3 * (n - count)))
        comp = torch.multinomial(weights, m, replacement=True, generator=generator)
        y = means[comp] + PROPOSAL_STD * torch.randn(m, generator=generator, dtype=torch.float64)
        log_ratio = -_well_energy(y) - torch.from_numpy(_proposal_log_density(y.numpy()))
        u = torch.rand(m, generator=generator, dtype=torch.float64)
        keep = y[u.log() < log_ratio - log_bound]
        accepted.append(keep)
        count += len(keep)
    return torch.cat(accepted)[:n]


def many_well(dim: int = 32) -> ManyWell:
    """The many-well in ``dim`` (even) dimensions."""
    return ManyWell(dim)


def manywell32() -> ManyWell:
    """FAB's and DEM's many-well: d = 32, 2¹⁶ modes."""
    return ManyWell(32, "manywell32")
