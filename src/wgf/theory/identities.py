"""SCIENCE.md §1–§3 made executable: the first variation of an f-divergence, the universal drift,
the compression–elasticity identity and the log-variance drift, from *analytic* densities.

Everything here works with targets of known ``log_z`` (typically Gaussian mixtures), so
``r = p / q`` is exact and every statement can be checked to round-off. Conventions: ``log p =
−E − log Z`` with the target's true ``log Z``; ``log r = log p − log q``; the velocity is
``V = w(r) ∇log r = w(r) β`` with the *true* weight ``w`` (no batch self-normalisation, which
would only divide every weight by a common constant).
"""

from __future__ import annotations

from typing import Any

import torch

from ..divergences import Divergence, get_divergence
from ..targets import Target

__all__ = [
    "DivergenceLike",
    "dlogq_dt_autograd",
    "dlogq_dt_identity",
    "drift_from_first_variation",
    "exact_lv_drift",
    "f_divergence",
    "first_variation",
    "identity_terms",
    "log_density",
    "log_ratio",
    "lv_first_variation",
    "universal_drift",
]

DivergenceLike = Divergence | str


def f_divergence(d: DivergenceLike | Any) -> Divergence:
    """The f-divergence ``d`` names; the statements here need a weight ``w(r)``."""
    div = d if not isinstance(d, str) else get_divergence(d)
    if not isinstance(div, Divergence):
        raise ValueError(
            f"{div.name}: the regional response and the drift identities concern f-divergences "
            "(V = w(r)β); this is not one (a Log-Variance drift?)"
        )
    return div


def log_density(t: Target, x: torch.Tensor) -> torch.Tensor:
    """Normalised ``log t(x) = −E(x) − log Z``; needs a target with a known ``log_z``."""
    if t.log_z is None:
        raise ValueError(f"target {t.name!r} has no known log Z; the theory needs normalised p, q")
    return -t.energy(x) - t.log_z


def log_ratio(p: Target, q: Target, x: torch.Tensor) -> torch.Tensor:
    """``log r(x) = log p(x) − log q(x)`` with both densities normalised."""
    return log_density(p, x) - log_density(q, x)


# --------------------------------------------------------------------------- §1 first variation


def first_variation(divergence: DivergenceLike, r: torch.Tensor) -> torch.Tensor:
    """``δD_f/δq = f(r) − r f'(r)``, with ``f'`` by autograd (differentiable in ``r``)."""
    div = f_divergence(divergence)
    with torch.enable_grad():
        if not r.requires_grad:
            r = r.detach().requires_grad_(True)
        f_r = div.f(r)
        (f_prime,) = torch.autograd.grad(f_r.sum(), r, create_graph=True)
    return f_r - r * f_prime


def drift_from_first_variation(
    p: Target, q: Target, divergence: DivergenceLike, x: torch.Tensor
) -> torch.Tensor:
    """``V = −∇[f(r) − r f'(r)]`` at ``x`` by autograd through the analytic ``r = p/q``."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        r = log_ratio(p, q, x).exp()
        phi = first_variation(divergence, r)
        (grad,) = torch.autograd.grad(phi.sum(), x)
    return -grad


def universal_drift(
    p: Target, q: Target, divergence: DivergenceLike, x: torch.Tensor
) -> torch.Tensor:
    """``V = w(r) β`` with ``β = ∇log p − ∇log q`` from the analytic scores (Theorem 1)."""
    x = x.detach()
    w = f_divergence(divergence).weight(log_ratio(p, q, x))
    return w[:, None] * (p.score(x) - q.score(x))


# --------------------------------------------------------------------------- §2 the identity


def _divergence_of(u: torch.Tensor, x: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
    """``∇·u`` for a row-wise field ``u(x)`` (row i depends on ``x_i`` only): exact Jacobian trace.

    One backward pass per dimension; summing over rows is exact because rows do not interact.
    """
    out = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    for i in range(x.shape[1]):
        (g,) = torch.autograd.grad(u[:, i].sum(), x, create_graph=create_graph, retain_graph=True)
        out = out + g[:, i]
    return out


def dlogq_dt_autograd(
    p: Target, q: Target, divergence: DivergenceLike, x: torch.Tensor
) -> torch.Tensor:
    """``∂_t log q = −∇·(q V) / q`` at ``x`` from the continuity equation, all by autograd.

    ``V = w(r) ∇log r`` with ``∇log r`` by autograd of the analytic ``log r``; the divergence is
    the exact trace of the Jacobian of ``q V`` (for the mixture's score that is the Hessian trace
    of ``log r``). ``q`` enters as ``exp(log q − stopgrad(log q))``: equal to one in value, with
    the gradient of ``log q``, so ``∇·(qV)/q`` is formed without ``q`` underflowing far in the
    tails; the product rule that autograd applies is unchanged.
    """
    div = f_divergence(divergence)
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        log_q = log_density(q, x)
        log_r = log_density(p, x) - log_q
        (grad_log_r,) = torch.autograd.grad(log_r.sum(), x, create_graph=True)
        velocity = div.weight(log_r)[:, None] * grad_log_r
        flux = torch.exp(log_q - log_q.detach())[:, None] * velocity
        out = -_divergence_of(flux, x)
    return out.detach()


def identity_terms(
    p: Target, q: Target, divergence: DivergenceLike, x: torch.Tensor
) -> dict[str, torch.Tensor]:
    """The pieces of the compression–elasticity identity at ``x``.

    ``w = w(r)``; ``laplacian = Δ log r`` (autograd trace of the Jacobian of the analytic
    ``β = ∇log p − ∇log q``); ``transport = ∇log q · ∇log r``; ``elastic = ε(r) |∇log r|²``.
    """
    div = f_divergence(divergence)
    x = x.detach()
    with torch.enable_grad():
        xg = x.clone().requires_grad_(True)
        beta = p.score(xg) - q.score(xg)
        laplacian = _divergence_of(beta, xg).detach()
    beta = beta.detach()
    log_r = log_ratio(p, q, x)
    return {
        "w": div.weight(log_r),
        "laplacian": laplacian,
        "transport": (q.score(x) * beta).sum(-1),
        "elastic": div.elasticity(log_r) * beta.square().sum(-1),
    }


def dlogq_dt_identity(
    p: Target, q: Target, divergence: DivergenceLike, x: torch.Tensor
) -> torch.Tensor:
    """Right-hand side ``−w(r)[Δ log r + ∇log q·∇log r + ε(r)|∇log r|²]`` of the identity."""
    t = identity_terms(p, q, divergence, x)
    return -t["w"] * (t["laplacian"] + t["transport"] + t["elastic"])


# --------------------------------------------------------------------------- §3 log-variance


def lv_first_variation(
    p: Target, q: Target, nu: Target, x: torch.Tensor, m: float | torch.Tensor
) -> torch.Tensor:
    """``δ/δq Var_ν[log q − log p] = −2 (ν/q)(log r + m)`` at ``x``, ``m = E_ν[log(q/p)]``."""
    log_r = log_ratio(p, q, x)
    return -2 * torch.exp(log_density(nu, x) - log_density(q, x)) * (log_r + m)


def exact_lv_drift(
    p: Target, q: Target, nu: Target, x: torch.Tensor, m: float | torch.Tensor
) -> torch.Tensor:
    """``V_LV = 2 (ν/q) [β + (log r + m) ∇log(ν/q)]`` from the analytic scores (SCIENCE.md §3)."""
    x = x.detach()
    ratio = torch.exp(log_density(nu, x) - log_density(q, x))
    beta = p.score(x) - q.score(x)
    transverse = (log_ratio(p, q, x) + m)[:, None] * (nu.score(x) - q.score(x))
    return 2 * ratio[:, None] * (beta + transverse)
