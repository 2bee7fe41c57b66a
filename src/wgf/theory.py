"""The theory of SCIENCE.md §1–§3 made executable: first variation, the compression–elasticity
identity, the regional response of every divergence, the soft under-coverage functional and the
log-variance drift.

Everything here works with *analytic* densities (targets with a known ``log_z``, typically Gaussian
mixtures), so ``r = p / q`` is exact and every statement can be checked to round-off. The KDE
route of training only enters through :func:`soft_undercoverage` / :func:`undercoverage_monitor`,
which estimate ``log q`` from a batch of generator samples.

Conventions: ``log p = −E − log Z`` with the target's true ``log Z``; ``log r = log p − log q``;
the velocity is ``V = w(r) ∇log r = w(r) β`` with the *true* weight ``w`` (no batch
self-normalisation, which would only divide every weight by a common constant).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .divergences import Divergence, get_divergence
from .kde import kde_log_density
from .targets import GaussianMixture, Target

__all__ = [
    "RegionalResponse",
    "default_undercoverage_tau",
    "dlogq_dt_autograd",
    "dlogq_dt_identity",
    "finite_step_inflow",
    "flux_coarea",
    "drift_from_first_variation",
    "first_variation",
    "identity_terms",
    "log_ratio",
    "lv_drift",
    "lv_first_variation",
    "particle_inflow",
    "regional_response",
    "repair_threshold",
    "smoothed_mixture",
    "soft_undercoverage",
    "undercoverage_after_step",
    "undercoverage_rate",
    "undercovering_q",
    "undercoverage_monitor",
    "universal_drift",
]

DivergenceLike = Divergence | str


def _div(d: DivergenceLike | Any) -> Divergence:
    """The f-divergence ``d`` names; the statements here need a weight ``w(r)``."""
    div = d if not isinstance(d, str) else get_divergence(d)
    if not isinstance(div, Divergence):
        raise ValueError(
            f"{div.name}: the regional response and the drift identities concern f-divergences "
            "(V = w(r)β); this is not one (a Log-Variance drift?)"
        )
    return div


def _log_density(t: Target, x: torch.Tensor) -> torch.Tensor:
    """Normalised ``log t(x) = −E(x) − log Z``; needs a target with a known ``log_z``."""
    if t.log_z is None:
        raise ValueError(f"target {t.name!r} has no known log Z; the theory needs normalised p, q")
    return -t.energy(x) - t.log_z


def log_ratio(p: Target, q: Target, x: torch.Tensor) -> torch.Tensor:
    """``log r(x) = log p(x) − log q(x)`` with both densities normalised."""
    return _log_density(p, x) - _log_density(q, x)


# --------------------------------------------------------------------------- §1 first variation


def first_variation(divergence: DivergenceLike, r: torch.Tensor) -> torch.Tensor:
    """``δD_f/δq = f(r) − r f'(r)``, with ``f'`` by autograd (differentiable in ``r``)."""
    div = _div(divergence)
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
    w = _div(divergence).weight(log_ratio(p, q, x))
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
    div = _div(divergence)
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        log_q = _log_density(q, x)
        log_r = _log_density(p, x) - log_q
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
    div = _div(divergence)
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


# --------------------------------------------------------------------------- regional response


def repair_threshold(divergence: DivergenceLike) -> float | None:
    """The depth κ* with ``w(e^κ*) = 1``: above it the divergence repairs faster than reverse KL.

    ``None`` when ``w(e^κ) − 1`` does not change sign on κ ∈ [−50, 50] (reverse KL, where
    ``w ≡ 1``, and JS, where ``w < ½``). Found by bisection on ``log w``.
    """
    div = _div(divergence)

    def g(k: float) -> float:
        return float(div.log_w(torch.tensor(k, dtype=torch.float64)))

    lo, hi = -50.0, 50.0
    glo, ghi = g(lo), g(hi)
    if not (math.isfinite(glo) and math.isfinite(ghi)) or glo * ghi >= 0:
        return None
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        gm = g(mid)
        if gm == 0:
            return mid
        if (gm < 0) == (glo < 0):
            lo, glo = mid, gm
        else:
            hi = mid
    return 0.5 * (lo + hi)


def undercovering_q(
    p: GaussianMixture,
    missing: Sequence[int] = (1, 4),
    broad_weight: float = 0.05,
    broad_std: float = 2.0,
) -> GaussianMixture:
    """An analytic ``q`` that misses modes of the mixture ``p``.

    The components of ``p`` not listed in ``missing`` (weights renormalised to ``1 −
    broad_weight``) plus one broad isotropic Gaussian at ``p``'s mean with weight
    ``broad_weight`` and std ``broad_std``. The broad component has heavier tails than every
    mode of ``p``, so ``log r → −∞`` at infinity and every ``A_κ`` is bounded.
    """
    keep = [k for k in range(p.n_modes) if k not in set(missing)]
    if not keep:
        raise ValueError("undercovering_q: every mode is missing")
    if not 0 < broad_weight < 1:
        raise ValueError("broad_weight must lie in (0, 1)")
    w = p.weights[keep]
    w = (1 - broad_weight) * w / w.sum()
    centre = (p.weights[:, None] * p.means).sum(0)
    means = torch.cat([p.means[keep], centre[None]])
    broad = broad_std**2 * torch.eye(p.dim, dtype=torch.float64)
    covs = torch.cat([p.covs[keep], broad[None]])
    weights = torch.cat([w, torch.tensor([broad_weight], dtype=torch.float64)])
    return GaussianMixture(means, covs, weights, name=f"{p.name}_undercover")


def _trapezoid_cdf(s: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """CDF at ``s`` of ``a U1 + b U2`` (U uniform on [0, 1], a ≥ b ≥ 0) : the trapezoid law."""
    b = np.maximum(b, 1e-12 * np.maximum(a, 1e-300))
    a = np.maximum(a, b)
    s = np.clip(s, 0.0, a + b)
    lo = s**2 / (2 * a * b)
    mid = (s - 0.5 * b) / a
    hi = 1 - (a + b - s) ** 2 / (2 * a * b)
    return np.where(s <= b, lo, np.where(s <= a, mid, hi))


def _cell_fraction(u: np.ndarray, grad: np.ndarray, h: float, level: float) -> np.ndarray:
    """Fraction of each square grid cell (side h) where the linearised ``u`` exceeds ``level``.

    ``u ≈ u_c + g·(x − c)`` over the cell, so ``u − u_c`` is the sum of two independent uniforms
    of widths ``|g_1| h`` and ``|g_2| h``: the fraction is one minus a trapezoid CDF. This is the
    sharp indicator integrated exactly for a linear level set (error O(h²) overall).
    """
    a = np.abs(grad[..., 0]) * h
    b = np.abs(grad[..., 1]) * h
    big, small = np.maximum(a, b), np.minimum(a, b)
    s = (level - u) + 0.5 * (big + small)
    frac = 1.0 - _trapezoid_cdf(s, big, small)
    flat = (big + small) < 1e-300
    return np.where(flat, (u > level).astype(float), frac)


@dataclass
class RegionalResponse:
    """Measured and predicted one-step inflow into ``A_κ = {log r > κ}``, per divergence and κ.

    ``measured[name][i] = d/dt q(A_κ_i) = −∫_{A_κ} ∇·(qV) dx`` (volume integral on the grid);
    ``predicted[name][i] = w(e^κ_i) Φ_κ_i``; ``phi[i] = ∮_{∂A_κ} q |∇log r| dS`` (line integral
    along the level set, independent of the divergence); ``mass[i] = q(A_κ_i)``.
    ``tiny[i]`` marks κ where ``Φ_κ < phi_floor · max Φ``. ``one_step[name]`` (optional) is
    :func:`finite_step_inflow` at step ``info["one_step_dt"]``.
    """

    kappas: np.ndarray
    phi: np.ndarray
    mass: np.ndarray
    measured: dict[str, np.ndarray]
    predicted: dict[str, np.ndarray]
    thresholds: dict[str, float | None]
    tiny: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)
    one_step: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def divergences(self) -> list[str]:
        return list(self.measured)

    def rel_error(self, name: str) -> np.ndarray:
        pred = self.predicted[name]
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self.measured[name] - pred) / np.abs(pred)

    ROW_COLUMNS = (
        "divergence",
        "kappa",
        "gain",
        "phi",
        "q_mass",
        "measured",
        "predicted",
        "rel_error",
        "phi_tiny",
        "one_step_dt",
        "one_step",
        "one_step_rel_error",
    )

    def one_step_rel_error(self, name: str) -> np.ndarray:
        pred = self.predicted[name]
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self.one_step[name] - pred) / np.abs(pred)

    def rows(self) -> list[dict[str, Any]]:
        """One row per (divergence, κ), with the columns of ``ROW_COLUMNS``."""
        out = []
        dt = self.info.get("one_step_dt", math.nan)
        for name in self.measured:
            err = self.rel_error(name)
            step = self.one_step.get(name)
            step_err = self.one_step_rel_error(name) if step is not None else None
            for i, k in enumerate(self.kappas):
                gain = float(
                    get_divergence(name).weight(torch.tensor(float(k), dtype=torch.float64))
                )
                out.append(
                    {
                        "divergence": name,
                        "kappa": float(k),
                        "gain": gain,
                        "phi": float(self.phi[i]),
                        "q_mass": float(self.mass[i]),
                        "measured": float(self.measured[name][i]),
                        "predicted": float(self.predicted[name][i]),
                        "rel_error": float(err[i]),
                        "phi_tiny": bool(self.tiny[i]),
                        "one_step_dt": dt if step is not None else math.nan,
                        "one_step": float(step[i]) if step is not None else math.nan,
                        "one_step_rel_error": float(step_err[i])
                        if step_err is not None
                        else math.nan,
                    }
                )
        return out

    def markdown(self, digits: int = 2) -> str:
        """Relative errors (in %) as a Markdown table: one row per κ, one column per divergence."""
        names = self.divergences
        lines = [
            "# Regional response: measured vs predicted inflow",
            "",
            "Relative error (measured − predicted) / predicted in %, measured = −∫_{A_κ} ∇·(qV) dx",
            "on the grid, predicted = w(e^κ) Φ_κ. Φ_κ = ∮ q|∇log r| dS, q(A_κ) its mass.",
            f"Grid: {self.info.get('grid_n', '?')}² cells on [−{self.info.get('lim', '?')}, "
            f"{self.info.get('lim', '?')}]². Rows marked * have Φ_κ below "
            f"{self.info.get('phi_floor', '?')} × max Φ (tiny).",
            "",
            "| κ | Φ_κ | q(A_κ) | " + " | ".join(names) + " |",
            "|---|---|---|" + "---|" * len(names),
        ]
        for i, k in enumerate(self.kappas):
            mark = "*" if self.tiny[i] else ""
            cells = [f"{100 * self.rel_error(n)[i]:+.{digits}f}" for n in names]
            lines.append(
                f"| {k:g}{mark} | {self.phi[i]:.4g} | {self.mass[i]:.4g} | "
                + " | ".join(cells)
                + " |"
            )
        worst = max(
            (
                abs(float(self.rel_error(n)[i]))
                for n in names
                for i in range(len(self.kappas))
                if not self.tiny[i]
            ),
            default=math.nan,
        )
        lines += ["", f"Largest |relative error| where Φ_κ is not tiny: {100 * worst:.3g} %.", ""]
        if self.one_step:
            step_names = [n for n in names if n in self.one_step]
            lines += [
                "## One explicit step",
                "",
                f"Relative error in % of [q_dt(A_κ) − q(A_κ)] / dt after one Euler step of size "
                f"dt = {self.info.get('one_step_dt', '?')} along the unnormalised drift, against "
                "the same prediction (where the linear response stops describing a finite step).",
                "",
                "| κ | " + " | ".join(step_names) + " |",
                "|---|" + "---|" * len(step_names),
            ]
            for i, k in enumerate(self.kappas):
                cells = [f"{100 * self.one_step_rel_error(n)[i]:+.3g}" for n in step_names]
                lines.append(f"| {k:g} | " + " | ".join(cells) + " |")
            lines.append("")
        return "\n".join(lines)


def _grid_points(lim: float, n: int) -> tuple[np.ndarray, float]:
    h = 2 * lim / n
    centres = -lim + h * (np.arange(n) + 0.5)
    return centres, h


def _level_set_flux(
    p: Target,
    q: Target,
    log_r_grid: np.ndarray,
    centres: np.ndarray,
    level: float,
    newton_steps: int = 3,
) -> tuple[float, bool]:
    """``∮_{log r = level} q |∇log r| dS`` by the trapezoid rule on the refined contour.

    The contour of the grid values (marching squares) is pulled onto the exact level set by
    Newton steps along ``∇log r``, then ``q|∇log r|`` is evaluated analytically at the vertices.
    Returns the flux and whether an open contour (one leaving the grid) was met.
    """
    import contourpy

    gen = contourpy.contour_generator(centres, centres, log_r_grid, line_type="Separate")
    lines = gen.lines(level)
    total, touches = 0.0, False
    for line in lines:
        if line.shape[0] < 3:
            continue
        closed = bool(np.allclose(line[0], line[-1]))
        touches |= not closed
        x = torch.from_numpy(np.ascontiguousarray(line, dtype=np.float64))
        for _ in range(newton_steps):
            g = p.score(x) - q.score(x)
            resid = log_ratio(p, q, x) - level
            x = x - (resid / g.square().sum(-1).clamp_min(1e-300))[:, None] * g
        g = p.score(x) - q.score(x)
        dens = (_log_density(q, x)).exp() * g.norm(dim=-1)
        seg = (x[1:] - x[:-1]).norm(dim=-1)
        total += float((0.5 * (dens[1:] + dens[:-1]) * seg).sum())
    return total, touches


def regional_response(
    p: Target,
    q: Target,
    divergences: Iterable[DivergenceLike],
    kappas: Sequence[float] | np.ndarray,
    lim: float = 6.0,
    grid_n: int = 1200,
    chunk: int = 65536,
    phi_floor: float = 1e-3,
    one_step_dt: float | None = None,
) -> RegionalResponse:
    """The one-step inflow ``d/dt q(A_κ)`` per divergence and κ, measured and predicted (2-D).

    *Measured*: ``−∫_{A_κ} ∇·(qV) dx`` with ``∇·(qV)`` from :func:`dlogq_dt_autograd` (times
    ``q``) at the centres of a ``grid_n²`` grid on ``[−lim, lim]²``; the indicator of ``A_κ`` is
    integrated cell by cell for the linearised ``log r`` (:func:`_cell_fraction`), so the sharp
    region is treated to O(h²). *Predicted*: ``w(e^κ) Φ_κ`` with ``Φ_κ = ∮ q|∇log r| dS`` the line
    integral along the level set ``log r = κ`` (:func:`_level_set_flux`), which never sees the
    divergence. Float64 throughout; ``p`` and ``q`` need known ``log Z``. With ``one_step_dt``
    the finite one-step inflow (:func:`finite_step_inflow`, same grid) is added as ``one_step``.
    """
    divs = [_div(d) for d in divergences]
    kappas = np.asarray(kappas, dtype=np.float64)
    if p.dim != 2 or q.dim != 2:
        raise ValueError("regional_response integrates on a 2-D grid")
    centres, h = _grid_points(lim, grid_n)
    xx, yy = np.meshgrid(centres, centres)
    pts = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], axis=1))

    log_r_parts, grad_parts, log_q_parts = [], [], []
    dtq: dict[str, list[np.ndarray]] = {d.name: [] for d in divs}
    for i in range(0, pts.shape[0], chunk):
        xb = pts[i : i + chunk]
        log_q = _log_density(q, xb)
        log_r_parts.append((_log_density(p, xb) - log_q).numpy())
        grad_parts.append((p.score(xb) - q.score(xb)).numpy())
        log_q_parts.append(log_q.numpy())
        for d in divs:  # ∂_t q = q · ∂_t log q, with −∇·(qV)/q by autograd
            dtq[d.name].append((log_q.exp() * dlogq_dt_autograd(p, q, d, xb)).numpy())
    log_r = np.concatenate(log_r_parts).reshape(xx.shape)
    grad = np.concatenate(grad_parts).reshape(*xx.shape, 2)
    q_grid = np.exp(np.concatenate(log_q_parts)).reshape(xx.shape)
    dtq_grid = {k: np.concatenate(v).reshape(xx.shape) for k, v in dtq.items()}

    cell = h * h
    phi = np.zeros(kappas.size)
    mass = np.zeros(kappas.size)
    measured = {d.name: np.zeros(kappas.size) for d in divs}
    predicted = {d.name: np.zeros(kappas.size) for d in divs}
    open_levels = []
    for i, k in enumerate(kappas):
        frac = _cell_fraction(log_r, grad, h, float(k))
        mass[i] = float((frac * q_grid).sum() * cell)
        phi[i], touches = _level_set_flux(p, q, log_r, centres, float(k))
        edge = np.concatenate([frac[0], frac[-1], frac[:, 0], frac[:, -1]])
        if touches or edge.max() > 0:
            open_levels.append(float(k))
        for d in divs:
            measured[d.name][i] = float((frac * dtq_grid[d.name]).sum() * cell)
            gain = float(d.weight(torch.tensor(float(k), dtype=torch.float64)))
            predicted[d.name][i] = gain * phi[i]
    tiny = phi < phi_floor * max(float(phi.max()), 1e-300)
    one_step = {}
    if one_step_dt:
        for d in divs:
            one_step[d.name] = finite_step_inflow(
                p, q, d, kappas, one_step_dt, lim=lim, grid_n=grid_n, chunk=chunk
            )
    return RegionalResponse(
        kappas=kappas,
        phi=phi,
        mass=mass,
        measured=measured,
        predicted=predicted,
        thresholds={d.name: repair_threshold(d) for d in divs},
        tiny=tiny,
        info={
            "grid_n": grid_n,
            "lim": lim,
            "h": h,
            "phi_floor": phi_floor,
            "max_log_r": float(log_r.max()),
            "levels_touching_grid_edge": open_levels,
            "one_step_dt": one_step_dt,
        },
        one_step=one_step,
    )


def flux_coarea(
    p: Target,
    q: Target,
    kappa: float,
    delta: float = 0.05,
    lim: float = 6.0,
    grid_n: int = 800,
) -> float:
    """``Φ_κ`` by the co-area formula, independently of the contour: ``Φ_κ = −F'(κ)`` with
    ``F(κ) = ∫_{A_κ} q |∇log r|² dx`` (the co-area formula with ``g = q|∇log r|`` turns
    ``∫ g |∇u| 1{u > κ} dx`` into ``∫_κ^∞ ∮_{u=s} g dS ds``), by a central difference of width
    ``2 delta`` (error O(δ²)) with the cell-fraction indicator on the grid.
    """
    centres, h = _grid_points(lim, grid_n)
    xx, yy = np.meshgrid(centres, centres)
    pts = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], axis=1))
    u = log_ratio(p, q, pts).numpy().reshape(xx.shape)
    g = (p.score(pts) - q.score(pts)).numpy().reshape(*xx.shape, 2)
    dens = _log_density(q, pts).exp().numpy().reshape(xx.shape) * (g**2).sum(-1)

    def big_f(k: float) -> float:
        return float((_cell_fraction(u, g, h, k) * dens).sum() * h * h)

    return (big_f(kappa - delta) - big_f(kappa + delta)) / (2 * delta)


def finite_step_inflow(
    p: Target,
    q: Target,
    divergence: DivergenceLike,
    kappas: Sequence[float] | np.ndarray,
    dt: float,
    lim: float = 6.0,
    grid_n: int = 800,
    chunk: int = 65536,
) -> np.ndarray:
    """One explicit step of size ``dt``: ``[q_dt(A_κ) − q(A_κ)] / dt`` with ``q_dt = T_# q``.

    ``T(x) = x + dt V(x)`` moves every particle of ``q`` once (the generator's update in
    training); ``q_dt(A) = ∫ q(x) 1{log r(T(x)) > κ} dx`` is the mass of the pre-image, which
    needs no inverse of ``T`` (it may fold). Both masses are integrated on the grid with the
    sharp indicator of the linearised ``log r`` resp. ``log r ∘ T`` (gradient by autograd). As
    ``dt → 0`` this tends to the measured inflow of :func:`regional_response`.
    """
    div = _div(divergence)
    kappas = np.asarray(kappas, dtype=np.float64)
    centres, h = _grid_points(lim, grid_n)
    xx, yy = np.meshgrid(centres, centres)
    pts = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], axis=1))
    u0, g0, u1, g1, qs = [], [], [], [], []
    for i in range(0, pts.shape[0], chunk):
        xb = pts[i : i + chunk]
        with torch.enable_grad():
            x = xb.clone().requires_grad_(True)
            beta = p.score(x) - q.score(x)
            moved = x + dt * div.weight(log_ratio(p, q, x))[:, None] * beta
            u = log_ratio(p, q, moved)
            (g,) = torch.autograd.grad(u.sum(), x)
        u0.append(log_ratio(p, q, xb).numpy())
        g0.append(beta.detach().numpy())
        u1.append(u.detach().numpy())
        g1.append(g.numpy())
        qs.append(_log_density(q, xb).exp().numpy())
    shape = xx.shape
    u0a, u1a = np.concatenate(u0).reshape(shape), np.concatenate(u1).reshape(shape)
    g0a, g1a = np.concatenate(g0).reshape(*shape, 2), np.concatenate(g1).reshape(*shape, 2)
    qa = np.concatenate(qs).reshape(shape)
    out = np.zeros(kappas.size)
    for i, k in enumerate(kappas):
        before = _cell_fraction(u0a, g0a, h, float(k))
        after = _cell_fraction(u1a, g1a, h, float(k))
        out[i] = float(((after - before) * qa).sum() * h * h / dt)
    return out


def particle_inflow(
    p: Target,
    q: GaussianMixture,
    divergence: DivergenceLike,
    kappa: float,
    n: int = 1_000_000,
    dt: float = 1e-3,
    seed: int = 0,
    chunk: int = 262_144,
) -> tuple[float, float]:
    """Particle twin of the measured inflow: push an exact sample of ``q`` by ``±dt V``.

    ``(N_A(+dt) − N_A(−dt)) / (2 dt n)`` with ``N_A`` the count in ``A_κ`` after an explicit
    Euler step (a central difference: bias O(dt²)). Returns the estimate and its Monte Carlo
    standard error (each crossing is a Bernoulli event: ``sqrt(#crossings) / (2 dt n)``).
    """
    div = _div(divergence)
    gen = torch.Generator().manual_seed(seed)
    idx = torch.multinomial(q.weights, n, replacement=True, generator=gen)
    eps = torch.randn(n, q.dim, generator=gen, dtype=torch.float64)
    x = q.means[idx] + torch.einsum("nij,nj->ni", q.chol[idx], eps)
    net, crossings = 0.0, 0.0
    for i in range(0, n, chunk):
        xb = x[i : i + chunk]
        v = universal_drift(p, q, div, xb)
        fwd = log_ratio(p, q, xb + dt * v) > kappa
        bwd = log_ratio(p, q, xb - dt * v) > kappa
        net += float(fwd.double().sum() - bwd.double().sum())
        crossings += float((fwd != bwd).double().sum())
    scale = 2 * dt * n
    return net / scale, math.sqrt(max(crossings, 1.0)) / scale


# --------------------------------------------------------------------------- §3 log-variance


def lv_first_variation(
    p: Target, q: Target, nu: Target, x: torch.Tensor, m: float | torch.Tensor
) -> torch.Tensor:
    """``δ/δq Var_ν[log q − log p] = −2 (ν/q)(log r + m)`` at ``x``, ``m = E_ν[log(q/p)]``."""
    log_r = log_ratio(p, q, x)
    return -2 * torch.exp(_log_density(nu, x) - _log_density(q, x)) * (log_r + m)


def lv_drift(
    p: Target, q: Target, nu: Target, x: torch.Tensor, m: float | torch.Tensor
) -> torch.Tensor:
    """``V_LV = 2 (ν/q) [β + (log r + m) ∇log(ν/q)]`` from the analytic scores (SCIENCE.md §3)."""
    x = x.detach()
    ratio = torch.exp(_log_density(nu, x) - _log_density(q, x))
    beta = p.score(x) - q.score(x)
    transverse = (log_ratio(p, q, x) + m)[:, None] * (nu.score(x) - q.score(x))
    return 2 * ratio[:, None] * (beta + transverse)


# --------------------------------------------------------------------------- under-coverage


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
    centres, h = _grid_points(lim, grid_n)
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
    return float((_log_density(p, x).exp() * sig * (1 - sig) / s * (-rate)).sum() * cell)


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
    div = _div(divergence)
    x, cell = _grid_tensor(lim, grid_n)
    with torch.enable_grad():
        xg = x.clone().requires_grad_(True)
        moved = xg + dt * div.weight(log_ratio(p, q, xg))[:, None] * (p.score(xg) - q.score(xg))
        rows = [torch.autograd.grad(moved[:, i].sum(), xg, retain_graph=True)[0] for i in range(2)]
    jac = torch.stack(rows, dim=1)
    log_det = torch.linalg.slogdet(jac)[1]
    y = moved.detach()
    log_p_y = _log_density(p, y)
    z = (log_p_y - _log_density(q, x) + log_det - kappa) / s
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
    reference: torch.Tensor,
    kappa: float = 1.0,
    s: float = 0.1,
    tau: float | None = None,
    kernel: str = "rbf",
    smooth_target: bool = True,
    max_reference: int = 5000,
) -> Callable[[torch.Tensor], dict[str, float]]:
    """Training monitor: ``samples (N×d) ↦ {"undercoverage": U_s}`` with ``q`` a KDE of them.

    ``log q̂`` is the normalised KDE (``kernel``, bandwidth ``tau``) of the generator's samples;
    ``U_s`` averages over (at most ``max_reference``) exact target samples ``reference``.
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
    ref = reference[:max_reference].detach().to(torch.float64)
    lz = target.log_z

    def monitor(samples: torch.Tensor) -> dict[str, float]:
        data = samples.detach().to(torch.float64)

        def log_q(x: torch.Tensor) -> torch.Tensor:
            return kde_log_density(x, data, tau, kernel)

        return {"undercoverage": soft_undercoverage(p_eval, log_q, ref, kappa, s, log_z=lz)}

    return monitor
