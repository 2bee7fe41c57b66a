"""Neal's funnel: the Beyond-ELBOs ``funnel`` (d = 10), a hierarchical density with a narrow neck.

``v ~ N(0, σ_v²)`` and ``x_i | v ~ N(0, eᵛ)`` for ``i = 1..d−1`` (variance ``eᵛ``), with ``v``
the first coordinate as in ``targets/funnel.py`` of
github.com/DenisBless/variational_sampling_methods.
Exact samples and ``log Z`` are known; the neck (``v ≪ 0``) is where samplers fail.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .base import Target, TargetError

__all__ = ["Funnel", "funnel", "funnel10"]


class Funnel(Target):
    """``E(v, x) = v²/(2σ_v²) + (d−1) v/2 + e⁻ᵛ |x|²/2``: the density without its ``2π``
    factors, so ``log Z = log σ_v + (d/2) log 2π`` is non-trivial (as for the mixtures)."""

    exact = True
    plot_pair = (1, 0)  # x₁ across, v up: the neck at the bottom

    def __init__(self, dim: int = 10, v_std: float = 3.0, name: str = "funnel") -> None:
        self.name = name
        self.dim = int(dim)
        if self.dim < 2 or self.dim != dim:
            raise TargetError(f"dim must be an integer ≥ 2, got {dim!r}")
        self.v_std = float(v_std)
        if not math.isfinite(self.v_std) or self.v_std <= 0:
            raise TargetError(f"v_std must be positive and finite, got {v_std!r}")
        self.log_z = math.log(self.v_std) + 0.5 * self.dim * math.log(2 * math.pi)

    def pair_log_prob(self, xy: torch.Tensor) -> torch.Tensor:
        """``log N(v; 0, σ_v²) + log N(x₁; 0, eᵛ)`` at rows ``(x₁, v)``."""
        x1, v = xy[:, 0], xy[:, 1]
        log_2pi = math.log(2 * math.pi)
        log_v = -0.5 * (v / self.v_std).square() - math.log(self.v_std) - 0.5 * log_2pi
        return log_v - 0.5 * (x1.square() * torch.exp(-v) + v + log_2pi)

    def coordinate_label(self, k: int) -> str:
        return "$v$" if k == 0 else f"$x_{{{k}}}$"

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        v, rest = x[:, 0], x[:, 1:]
        return (
            0.5 * v.square() / self.v_std**2
            + 0.5 * (self.dim - 1) * v
            + 0.5 * torch.exp(-v) * rest.square().sum(-1)
        )

    def score(self, x: torch.Tensor) -> torch.Tensor:
        return self.log_prob_and_score(x)[1]

    def log_prob_and_score(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``−E`` and its gradient: ``∂_v = −v/σ_v² − (d−1)/2 + e⁻ᵛ|x|²/2``, ``∂_x = −e⁻ᵛ x``."""
        v, rest = x[:, 0], x[:, 1:]
        precision = torch.exp(-v)
        half_sq = 0.5 * precision * rest.square().sum(-1)
        prior = v / self.v_std**2
        log_p = -(0.5 * v * prior + 0.5 * (self.dim - 1) * v + half_sq)
        grad_v = -prior - 0.5 * (self.dim - 1) + half_sq
        return log_p, torch.cat([grad_v[:, None], -precision[:, None] * rest], dim=-1)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        eps = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        v = self.v_std * eps[:, :1]
        return torch.cat([v, torch.exp(0.5 * v) * eps[:, 1:]], dim=-1).float()

    def to_spec(self) -> dict[str, Any]:
        return {"kind": "funnel", "dim": self.dim, "v_std": self.v_std}


def funnel(dim: int = 10, v_std: float = 3.0) -> Funnel:
    """Neal's funnel in ``dim`` dimensions with neck scale ``v_std``."""
    return Funnel(dim, v_std)


def funnel10() -> Funnel:
    """The Beyond-ELBOs funnel: d = 10, ``v ~ N(0, 3²)``."""
    return Funnel(10, 3.0, "funnel10")
