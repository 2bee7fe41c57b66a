"""The Log-Variance drifts (SCIENCE.md §3) against their first variation, with analytic p, q, ν.

``D_LV = Var_ν[log q − log p]`` with ν held fixed has ``δD/δq = −2 (ν/q)(log r + m)``,
``m = E_ν[log(q/p)]``. ``m`` is a functional of q, not a function of x: the drift is minus the
spatial gradient of the first variation *at fixed m*, so the check computes ``m`` once, exactly
(quadrature), and differentiates ``x ↦ −2 (ν/q)(x)(log r(x) + m)`` by autograd.
"""

import math

import pytest
import torch

from tests.helpers import analytic_q, points
from wgf.divergences import LV_DIVERGENCES, get_divergence
from wgf.drift import LVConfig, f_drift, lv_drift, lv_reference, lv_surrogate, variance_drift
from wgf.targets import GaussianMixture, build_target

pytestmark = pytest.mark.usefixtures("one_thread")


def _nu() -> GaussianMixture:
    """An analytic reference covering the ring more broadly than q."""
    means = [[2.0, 2.0], [-2.0, 2.0], [0.0, -2.5]]
    return GaussianMixture(means, [[1.5, 1.5], [1.2, 1.0], [2.0, 1.0]], [0.4, 0.3, 0.3])


def _log_density(g: GaussianMixture, x: torch.Tensor) -> torch.Tensor:
    return -g.energy(x) - g.log_z


def _grid(lim: float = 12.0, n: int = 801) -> tuple[torch.Tensor, float]:
    t = torch.linspace(-lim, lim, n, dtype=torch.float64)
    xx, yy = torch.meshgrid(t, t, indexing="ij")
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], -1), float((t[1] - t[0]) ** 2)


def _nu_expectation_of_c(p, q, nu) -> float:
    """``E_ν[log p̃ − log q]`` by quadrature on a fine grid (ν's mass outside is < 1e-12)."""
    x, cell = _grid()
    dens = _log_density(nu, x).exp()
    c = -p.energy(x) - _log_density(q, x)
    assert float(dens.sum() * cell) == pytest.approx(1.0, abs=1e-8)
    return float((dens * c).sum() * cell)


def test_lv_drift_is_minus_gradient_of_first_variation_at_fixed_m():
    p, q, nu = build_target("gmm8"), analytic_q(), _nu()
    c_bar = _nu_expectation_of_c(p, q, nu)
    m = p.log_z - c_bar  # m = E_ν[log q − log p] = −E_ν[log p̃ − log q] + log Z
    x = points().requires_grad_(True)
    log_r = -p.energy(x) - p.log_z - _log_density(q, x)
    ratio = (_log_density(nu, x) - _log_density(q, x)).exp()
    first_variation = -2 * ratio * (log_r + m)
    (grad,) = torch.autograd.grad(first_variation.sum(), x)
    x = x.detach()
    log_q, log_nu = _log_density(q, x), _log_density(nu, x)
    drift = lv_drift(
        x, p, log_q, q.score(x), log_nu, nu.score(x), mean_log_ratio=c_bar, log_r_clip=500.0
    )
    # The drift comes with ν/q divided by its batch mean (a global step-size factor): undo it.
    velocity = drift.velocity * (log_nu - log_q).exp().mean()
    scale = grad.norm(dim=-1).clamp_min(1e-12)
    assert float(((velocity + grad).norm(dim=-1) / scale).max()) < 1e-8
    # Z cancels: the same velocity with the normaliser of p unknown or wrong.
    other = lv_drift(x, p, log_q, q.score(x), log_nu, nu.score(x), log_z=123.0,
                     mean_log_ratio=c_bar, log_r_clip=500.0)  # fmt: skip
    torch.testing.assert_close(other.velocity, drift.velocity)


def test_first_variation_by_directional_derivative():
    """``d/dε D_LV(q + ε(h − q))`` at 0 equals ``∫ (h − q) δD/δq``, 1-D quadrature."""
    p = GaussianMixture([[-2.0], [1.5]], [[0.3], [0.6]], [0.3, 0.7])
    q = GaussianMixture([[-1.0], [2.0], [0.0]], [[0.8], [0.5], [4.0]], [0.5, 0.3, 0.2])
    h = GaussianMixture([[0.0]], [[2.0]], [1.0])
    nu = GaussianMixture([[-1.5], [1.0]], [[1.0], [1.5]], [0.4, 0.6])
    x = torch.linspace(-14, 14, 56001, dtype=torch.float64)[:, None]
    dx = float(x[1, 0] - x[0, 0])
    dens = {g: _log_density(g, x).exp() for g in (q, h, nu)}
    log_p = -p.energy(x)  # unnormalised: D_LV does not see Z

    def d_lv(eps: float) -> float:
        log_qe = (dens[q] + eps * (dens[h] - dens[q])).log()
        mean = (dens[nu] * (log_qe - log_p)).sum() * dx
        return float((dens[nu] * (log_qe - log_p - mean).square()).sum() * dx)

    eps = 1e-5
    numeric = (d_lv(eps) - d_lv(-eps)) / (2 * eps)
    log_r = log_p - p.log_z - dens[q].log()
    m = float((dens[nu] * -(log_p - p.log_z - dens[q].log())).sum() * dx)
    first_variation = -2 * dens[nu] / dens[q] * (log_r + m)
    analytic = float(((dens[h] - dens[q]) * first_variation).sum() * dx)
    assert numeric == pytest.approx(analytic, rel=1e-6)


def test_reference_equal_to_q_gives_twice_the_shared_direction():
    p, q = build_target("gmm8"), analytic_q()
    x = points()
    log_q, score_q = _log_density(q, x), q.score(x)
    log_nu, score_nu = lv_reference("q", 0.5, log_q, score_q)
    drift = lv_drift(x, p, log_q, score_q, log_nu, score_nu)
    beta = p.score(x) - score_q
    torch.testing.assert_close(drift.velocity, 2 * beta, rtol=1e-12, atol=1e-12)
    rkl = f_drift(x, p, get_divergence("reverse_kl"), log_q, score_q)
    torch.testing.assert_close(drift.velocity, 2 * rkl.velocity, rtol=1e-12, atol=1e-12)


def test_mixture_reference_is_the_mixture_density_and_its_score():
    q, flow = analytic_q(), _nu()
    x = points().requires_grad_(True)
    lam = 0.3
    exact = torch.logaddexp(
        math.log(lam) + _log_density(flow, x), math.log1p(-lam) + _log_density(q, x)
    )
    (grad,) = torch.autograd.grad(exact.sum(), x)
    x = x.detach()
    log_nu, score_nu = lv_reference(
        "mixture", lam, _log_density(q, x), q.score(x), _log_density(flow, x), flow.score(x)
    )
    torch.testing.assert_close(log_nu, exact.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(score_nu, grad, rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match="needs the reference flow"):
        lv_reference("flow", lam, _log_density(q, x), q.score(x))


def test_surrogate_with_gamma_zero_is_reverse_kl():
    p, q, nu = build_target("gmm8"), analytic_q(), _nu()
    x = points()
    log_q, score_q = _log_density(q, x), q.score(x)
    rkl = f_drift(x, p, get_divergence("reverse_kl"), log_q, score_q)
    sur = lv_surrogate(x, p, log_q, score_q, _log_density(nu, x), gamma=0.0)
    torch.testing.assert_close(sur.velocity, rkl.velocity, rtol=1e-12, atol=1e-12)
    # γ = 1: weights are ν/q divided by their batch mean.
    full = lv_surrogate(x, p, log_q, score_q, _log_density(nu, x), gamma=1.0, log_r_clip=500.0)
    ratio = (_log_density(nu, x) - log_q).exp()
    torch.testing.assert_close(full.weights, ratio / ratio.mean(), rtol=1e-9, atol=1e-12)


def test_batch_estimate_of_the_centring_is_importance_sampling():
    """With x ~ q, ``mean_i ŵ_i c_i`` (ŵ = ν/q self-normalised) estimates ``E_ν[c]``."""
    p, q, nu = build_target("gmm8"), analytic_q(), _nu()
    x = q.sample(100_000, torch.Generator().manual_seed(1)).double()
    log_q, log_nu = _log_density(q, x), _log_density(nu, x)
    drift = lv_drift(x, p, log_q, q.score(x), log_nu, nu.score(x), log_r_clip=500.0)
    c = -p.energy(x) - log_q
    estimate = float((drift.weights * c).mean())
    # Delta-method standard error of the self-normalised estimate.
    w = drift.weights
    stderr = float(((w * (c - estimate)).square().mean() / len(w)).sqrt())
    assert estimate == pytest.approx(_nu_expectation_of_c(p, q, nu), abs=5 * stderr)


def test_registry_kinds_and_dispatch():
    assert {d.kind for d in LV_DIVERGENCES.values()} == {"lv"}
    assert get_divergence("js").kind == "f"
    p, q, nu = build_target("gmm8"), analytic_q(), _nu()
    x = points()
    args = (x, p, _log_density(q, x), q.score(x), _log_density(nu, x), nu.score(x))
    cfg = LVConfig(reference="flow", gamma=0.7)
    exact = variance_drift(get_divergence("lv"), *args, cfg)
    torch.testing.assert_close(exact.velocity, lv_drift(*args).velocity)
    sur = variance_drift(get_divergence("lv_surrogate"), *args, cfg)
    torch.testing.assert_close(sur.velocity, lv_surrogate(*args[:5], gamma=0.7).velocity)
