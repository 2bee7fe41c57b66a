"""The target protocol: an unnormalised density ``p(x) = exp(−E(x)) / Z`` on R^d.

A target is anything with ``dim``, ``energy`` and ``score``. Built-in benchmarks may also give
exact samples and ``log Z``; those are for evaluation only, never for a sampler.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["Target", "TargetError", "Tempered"]


class TargetError(ValueError):
    """A target specification that cannot describe a valid density."""


class Target:
    """Base class: an energy on R^d, its score, and (optionally) exact sampling and ``log Z``."""

    name: str = "target"
    dim: int
    log_z: float | None = None
    exact: bool = False
    #: The coordinates (horizontal, vertical) a samples figure shows when ``d > 2``: where the
    #: target's structure is seen (the funnel's neck, two of the many-well's wells).
    plot_pair: tuple[int, int] = (0, 1)

    def energy(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def pair_log_prob(self, xy: torch.Tensor) -> torch.Tensor | None:
        """The normalised log-density of the ``plot_pair`` marginal at ``(n, 2)`` points, or
        None where it has no closed form (the figure then shows samples alone)."""
        return None

    def coordinate_label(self, k: int) -> str:
        """Axis label of coordinate ``k`` (0-based) in figures."""
        return f"$x_{{{k + 1}}}$"

    def log_prob_unnorm(self, x: torch.Tensor) -> torch.Tensor:
        return -self.energy(x)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """``∇ log p = -∇E`` by autograd; subclasses override with an analytic form."""
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(-self.energy(x).sum(), x)
        return grad

    def log_prob_and_score(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(log p̃(x), ∇log p(x))``, detached: the drift and MALA need both at every step. One
        evaluation of the energy by autograd, or the subclass's own :meth:`score` if it has one."""
        if type(self).score is not Target.score:
            return self.log_prob_unnorm(x).detach(), self.score(x)
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            log_p = -self.energy(x)
            (grad,) = torch.autograd.grad(log_p.sum(), x)
        return log_p.detach(), grad

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError(f"target {self.name!r} has no exact sampler")

    def to_spec(self) -> dict[str, Any]:
        raise NotImplementedError


class Tempered(Target):
    """``p^β``: the target with its energy scaled by ``β`` (annealing; ``β = 1`` is the target).

    The energy and score are the target's times ``β``; no exact samples (``p^β`` is another
    density), so it is a training view only, never evaluated against."""

    def __init__(self, target: Target, beta: float) -> None:
        self.target, self.beta = target, float(beta)
        self.dim, self.name = target.dim, f"{target.name}^{self.beta:.3g}"

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        return self.beta * self.target.energy(x)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        return self.beta * self.target.score(x)

    def log_prob_and_score(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_p, score = self.target.log_prob_and_score(x)
        return self.beta * log_p, self.beta * score
