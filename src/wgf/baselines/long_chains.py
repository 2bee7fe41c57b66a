"""A reference sample of a target without an exact sampler: many long MALA chains, checked.

The chains run on the target whitened by its Laplace approximation (``θ = m + L y`` with
``m`` the mode and ``L Lᵀ`` the inverse Hessian there): a constant linear change of variables,
so the chains stay exact MCMC for the target while one shared step size suits every coordinate.
They start from the Laplace approximation with ``init_scale`` × its spread, adapt the step size
during ``burn_in`` (and at its half re-whiten by the chains' own covariance, given more than 2d
chains), then keep every ``thin``-th state. Overdispersed starts (``init_scale`` 1.5 on
logreg_cancer) leave a fifth of the chains stuck far out, where the logistic likelihood is much
stiffer than at the mode: R̂ 1.44 after 1500 steps; from half the Laplace spread every chain
reaches the bulk (R̂ 1.007).
Convergence is required, not hoped for: the rank-normalised split-R̂ of every coordinate must
be at most ``rhat_max`` (Vehtari et al. 2021), and the bulk ESS is reported beside it.

The kept draws are dealt to ``1 + floor_sets`` disjoint groups of chains: the first group is the
reference that evaluation scores every sampler against, the others are the independent sets of
the reference-vs-reference floor.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..config import DEFAULTS
from ..evaluation.convergence import bulk_ess, convergence_summary, split_rhat
from ..targets import Target
from .chains import MALA

__all__ = [
    "LongChainSettings",
    "NotConverged",
    "ReferenceSample",
    "Whitened",
    "laplace",
    "reference_sample",
]


class NotConverged(RuntimeError):
    """The chains disagree (R̂ above the limit): the sample cannot serve as a reference."""


_R = DEFAULTS["reference_sample"]


@dataclass(frozen=True)
class LongChainSettings:
    """The ``reference_sample`` config block (its defaults are the config's): chains,
    adaptation, thinning and the R̂ limit."""

    chains: int = _R["chains"]
    burn_in: int = _R["burn_in"]
    thin: int = _R["thin"]
    step_size: float = _R["step_size"]
    target_accept: float = _R["target_accept"]
    init_scale: float = _R["init_scale"]
    rhat_max: float = _R["rhat_max"]
    seed: int = _R["seed"]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LongChainSettings:
        """The settings from the config block (its ``targets`` list is the plan's)."""
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class ReferenceSample:
    """The reference draws, the floor's sets and the convergence record."""

    samples: torch.Tensor
    floor_sets: list[torch.Tensor]
    info: dict[str, Any]


class Whitened(Target):
    """``y ↦ p(m + L y)``: the target in the coordinates of its Laplace approximation (the
    Jacobian ``|L|`` is constant, so energies differ by a constant only)."""

    def __init__(self, target: Target, mean: torch.Tensor, chol: torch.Tensor) -> None:
        self.target, self.mean, self.chol = target, mean, chol
        self.dim, self.name = target.dim, f"{target.name}(whitened)"

    def to_target(self, y: torch.Tensor) -> torch.Tensor:
        return self.mean + y @ self.chol.T

    def energy(self, y: torch.Tensor) -> torch.Tensor:
        return self.target.energy(self.to_target(y))

    def log_prob_and_score(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_p, score = self.target.log_prob_and_score(self.to_target(y))
        return log_p, score @ self.chol

    def score(self, y: torch.Tensor) -> torch.Tensor:
        return self.log_prob_and_score(y)[1]


def laplace(target: Target, iterations: int = 200) -> tuple[torch.Tensor, torch.Tensor]:
    """The mode (L-BFGS from 0) and the Cholesky factor of the inverse Hessian of the energy
    there (autograd, float64); the identity where the Hessian is not positive definite."""
    theta = torch.zeros(target.dim, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [theta],
        max_iter=iterations,
        tolerance_grad=1e-10,
        tolerance_change=1e-14,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = target.energy(theta[None])[0]
        loss.backward()
        return loss

    opt.step(closure)
    mode = theta.detach()
    hessian = torch.autograd.functional.hessian(lambda t: target.energy(t[None])[0], mode)
    try:
        chol = torch.linalg.cholesky(torch.linalg.inv(0.5 * (hessian + hessian.T)))
    except RuntimeError:
        chol = torch.eye(target.dim, dtype=torch.float64)
    return mode, chol


def reference_sample(
    target: Target, settings: LongChainSettings, n: int, floor_sets: int = 0, floor_n: int = 0
) -> ReferenceSample:
    """``n`` reference draws and ``floor_sets`` independent sets of ``floor_n`` from
    ``settings.chains`` MALA chains (float64), or :class:`NotConverged` naming the R̂."""
    s = settings
    groups = 1 + floor_sets
    if s.chains < 2 * groups:
        raise ValueError(
            f"reference_sample.chains must be at least {2 * groups} (2 per set), got {s.chains}"
        )
    per_group = s.chains // groups
    draws = math.ceil(max(n, floor_n if floor_sets else 0) / per_group)
    draws = max(draws, 4)
    start = time.perf_counter()
    mode, chol = laplace(target)
    white = Whitened(target, mode, chol)
    gen = torch.Generator().manual_seed(s.seed)
    y = s.init_scale * torch.randn(s.chains, target.dim, generator=gen, dtype=torch.float64)
    kernel = MALA(s.step_size, gen, s.burn_in, s.target_accept)
    state = kernel.init(white, y)
    kept = torch.empty(draws, s.chains, target.dim, dtype=torch.float64)
    steps = s.burn_in + draws * s.thin
    evaluations = 0
    for k in range(1, steps + 1):
        if k == s.burn_in // 2 + 1 and s.chains > 2 * target.dim:
            # halfway through burn-in, whiten by the chains' own mean and covariance instead of
            # the Laplace approximation (frozen from here: exact MCMC after burn-in); with fewer
            # chains than 2d their covariance is too noisy (or singular), and Laplace stays
            theta = white.to_target(state.x)
            centred = theta - theta.mean(0)
            cov = centred.T @ centred / (len(theta) - 1)
            white = Whitened(target, theta.mean(0), torch.linalg.cholesky(cov))
            log_h = state.extra["log_h"]
            evaluations += state.evaluations
            state = kernel.init(
                white, torch.linalg.solve_triangular(white.chol, centred.T, upper=False).T
            )
            state.extra["log_h"] = log_h
        kernel.step(white, state, k)
        if not torch.isfinite(state.x).all():
            raise FloatingPointError(f"long MALA chains became non-finite at step {k}")
        after = k - s.burn_in
        if after > 0 and after % s.thin == 0:
            kept[after // s.thin - 1] = white.to_target(state.x)
    evaluations += state.evaluations
    chains = kept.transpose(0, 1).numpy()  # (chains, draws, d)
    rhat, ess = split_rhat(chains), bulk_ess(chains)
    info = {
        **convergence_summary(chains),
        "rhat": rhat.tolist(),
        "ess_bulk": ess.tolist(),
        "rhat_limit": s.rhat_max,
        "steps": steps,
        "burn_in": s.burn_in,
        "thin": s.thin,
        "step_size": kernel.current_step_size(state),
        "acceptance": kernel.acceptance(state),
        "target_evaluations": evaluations,
        "wall_s": time.perf_counter() - start,
        "laplace_mode": mode.tolist(),
    }
    if not np.all(rhat <= s.rhat_max):
        worst = int(np.nanargmax(np.where(np.isnan(rhat), np.inf, rhat)))
        raise NotConverged(
            f"reference_sample: split-R̂ {rhat[worst]:.4f} at coordinate {worst} exceeds "
            f"reference_sample.rhat_max = {s.rhat_max} after {steps} steps of {s.chains} chains; "
            "raise reference_sample.burn_in or reference_sample.thin"
        )
    sets = [kept[:, g::groups].transpose(0, 1).reshape(-1, target.dim) for g in range(groups)]
    return ReferenceSample(sets[0][:n].float(), [t[:floor_n].float() for t in sets[1:]], info)
