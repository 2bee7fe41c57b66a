"""The soft under-coverage functional ``U_s[q] = E_p[σ((log r − κ)/s)]`` (SCIENCE.md §2): its
rate under each divergence's flow, its value after one step, and the training monitor.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..density.kde import kde_log_density
from ..targets import GaussianMixture, Target
from .identities import DivergenceLike, dlogq_dt_identity, f_divergence, log_density, log_ratio
from .regional import grid_points

__all__ = [
    "default_undercoverage_tau",
    "smoothed_mixture",
    "soft_undercoverage",
    "undercoverage_after_step",
    "undercoverage_monitor",
    "undercoverage_rate",
]


def soft_undercoverage(
    p: Target,
    log_q_fn: Callable[[torch.Tensor], torch.Tensor],
    samples_p: torch.Tensor,
    kappa: float = 1.0,
    s: float = 0.1,
    log_z: float | None = None,
) -> float:
    """``U_s[q] = E_p[σ((log r − κ)/s)]`` by Monte Carlo over exact samples of ``p``.

    ``log r = log p − log q`` with ``log p = −E − log Z`` (``log_z`` overrides the target's own)
    and ``log q = log_q_fn(x)`` normalised (e.g. a KDE of the generator's samples). The estimate
    is the sample mean of ``σ((log r(x_i) − κ)/s)`` over ``samples_p``; its Monte Carlo standard
    error is at most ``½/√M`` (bounded summands), plus whatever error ``log_q_fn`` carries.
    """
    lz = p.log_z if log_z is None else log_z
    if lz is None:
        raise ValueError("soft_undercoverage needs log Z (the target's or an estimate)")
    x = samples_p.detach().to(torch.float64)
    log_r = -p.energy(x) - lz - log_q_fn(x).to(torch.float64)
    return float(torch.sigmoid((log_r - kappa) / s).mean())


def _grid_tensor(lim: float, grid_n: int) -> tuple[torch.Tensor, float]:
    centres, h = grid_points(lim, grid_n)
    xx, yy = np.meshgrid(centres, centres)
    return torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], axis=1)), h * h


def undercoverage_rate(
    p: Target,
    q: Target,
    divergence: DivergenceLike,
    kappa: float = 1.0,
    s: float = 0.1,
    lim: float = 6.0,
    grid_n: int = 400,
) -> float:
    """``d/dt U_s = (1/s) ∫ p σ'(z) w(r)[Δlog r + ∇log q·∇log r + ε(r)|∇log r|²] dx``.

    ``z = (log r − κ)/s``; it follows from ``∂_t log r = −∂_t log q`` (p does not move) and the
    compression–elasticity identity. Integrated on a ``grid_n²`` grid over ``[−lim, lim]²``.
    """
    x, cell = _grid_tensor(lim, grid_n)
    rate = dlogq_dt_identity(p, q, divergence, x)
    z = (log_ratio(p, q, x) - kappa) / s
    sig = torch.sigmoid(z)
    return float((log_density(p, x).exp() * sig * (1 - sig) / s * (-rate)).sum() * cell)


def undercoverage_after_step(
    p: Target,
    q: Target,
    divergence: DivergenceLike,
    dt: float,
    kappa: float = 1.0,
    s: float = 0.1,
    lim: float = 6.0,
    grid_n: int = 400,
) -> float:
    """``U_s[T_# q]`` after one step ``T(x) = x + dt V(x)``, by the change of variables y = T(x).

    ``log (T_# q)(T(x)) = log q(x) − log|det DT(x)|`` (``DT`` by autograd), so
    ``U_s = ∫ p(T(x)) |det DT(x)| σ((log p(T(x)) − log q(x) + log|det DT(x)| − κ)/s) dx``;
    valid while ``T`` is a diffeomorphism (small ``dt``). Never uses the identity, so
    ``[U(dt) − U(−dt)] / 2dt`` checks :func:`undercoverage_rate`.
    """
    div = f_divergence(divergence)
    x, cell = _grid_tensor(lim, grid_n)
    with torch.enable_grad():
        xg = x.clone().requires_grad_(True)
        moved = xg + dt * div.weight(log_ratio(p, q, xg))[:, None] * (p.score(xg) - q.score(xg))
        rows = [torch.autograd.grad(moved[:, i].sum(), xg, retain_graph=True)[0] for i in range(2)]
    jac = torch.stack(rows, dim=1)
    log_det = torch.linalg.slogdet(jac)[1]
    y = moved.detach()
    log_p_y = log_density(p, y)
    z = (log_p_y - log_density(q, x) + log_det - kappa) / s
    return float((torch.exp(log_p_y + log_det) * torch.sigmoid(z)).sum() * cell)


def smoothed_mixture(p: GaussianMixture, tau: float) -> GaussianMixture:
    """``p * N(0, τ² I)``: the mean of a Gaussian KDE of exact samples of ``p`` (analytic)."""
    covs = p.covs + tau**2 * torch.eye(p.dim, dtype=torch.float64)
    return GaussianMixture(p.means, covs, p.weights, name=f"{p.name}_tau{tau:g}")


def default_undercoverage_tau(target: Target) -> float:
    """RMS component standard deviation of a mixture (0.354 on gmm8, 1.31 on gmm40)."""
    if not isinstance(target, GaussianMixture):
        raise ValueError("give tau explicitly for a target that is not a Gaussian mixture")
    var = torch.diagonal(target.covs, dim1=-2, dim2=-1).mean()
    return float(var.sqrt())


def undercoverage_monitor(
    target: Target,
    exact: torch.Tensor,
    kappa: float = 1.0,
    s: float = 0.1,
    tau: float | None = None,
    kernel: str = "rbf",
    smooth_target: bool = True,
    max_exact: int = 5000,
) -> Callable[[torch.Tensor], dict[str, float]]:
    """Training monitor: ``samples (N×d) ↦ {"undercoverage": U_s}`` with ``q`` a KDE of them.

    ``log q̂`` is the normalised KDE (``kernel``, bandwidth ``tau``) of the generator's samples;
    ``U_s`` averages over (at most ``max_exact`` of) the exact target samples ``exact``.
    With ``smooth_target`` (Gaussian mixtures and the RBF kernel) ``p`` is replaced by
    ``p_τ = p * N(0, τ²I)``: the KDE's expectation at ``q = p`` is exactly ``p_τ``, so the
    smoothing bias cancels and ``U_s`` at ``q = p`` is ``σ(−κ/s)`` up to the KDE's noise, in any
    dimension. ``tau=None`` takes the RMS component std of the mixture.
    """
    if tau is None:
        tau = default_undercoverage_tau(target)
    p_eval: Target = target
    if smooth_target:
        if not isinstance(target, GaussianMixture) or kernel != "rbf":
            raise ValueError("smooth_target needs a Gaussian mixture target and the rbf kernel")
        p_eval = smoothed_mixture(target, tau)
    ref = exact[:max_exact].detach().to(torch.float64)
    lz = target.log_z

    def monitor(samples: torch.Tensor) -> dict[str, float]:
        data = samples.detach().to(torch.float64)

        def log_q(x: torch.Tensor) -> torch.Tensor:
            return kde_log_density(x, data, tau, kernel)

        return {"undercoverage": soft_undercoverage(p_eval, log_q, ref, kappa, s, log_z=lz)}

    return monitor
