"""SCIENCE.md §1–§2 as checks: the first variation, the compression–elasticity identity, the
regional response ``d/dt q(A_κ) = w(e^κ) Φ_κ`` and the soft under-coverage functional.

Everything uses analytic p (gmm8) and q (a mixture that misses two of its modes), in float64.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tests.helpers import (
    RESPONSE_DIVERGENCES,
    RESPONSE_KAPPAS,
    gmm8_response,
    points,
    undercovered_gmm8,
)
from wgf.divergences import get_divergence
from wgf.targets import GaussianMixture
from wgf.theory import (
    dlogq_dt_autograd,
    dlogq_dt_identity,
    drift_from_first_variation,
    exact_lv_drift,
    finite_step_inflow,
    flux_coarea,
    identity_terms,
    lv_first_variation,
    particle_inflow,
    repair_threshold,
    smoothed_mixture,
    soft_undercoverage,
    undercoverage_after_step,
    undercoverage_monitor,
    undercoverage_rate,
    undercovering_q,
    universal_drift,
)

ALL = RESPONSE_DIVERGENCES
KAPPAS = RESPONSE_KAPPAS


@pytest.fixture(scope="module")
def pq() -> tuple[GaussianMixture, GaussianMixture]:
    return undercovered_gmm8()


@pytest.fixture(scope="module")
def response(pq):
    return gmm8_response(*pq)


# --------------------------------------------------------------------------- §1


@pytest.mark.parametrize("name", ALL)
def test_universal_drift_is_minus_gradient_of_first_variation(pq, name):
    """w(r) β = −∇[f(r) − r f'(r)] through wgf.theory (cf. tests/unit/test_drift.py).

    Points with |log r| > 15 are left out: there autograd forms d/dr[f − r f'] = −r f'' as a
    difference of O(1) terms (e.g. χ²: 2(r − 1) − [2(r − 1) + 2r]), which loses r² f'' to
    round-off once r < 1e-8; the identity itself is not in question there.
    """
    p, q = pq
    x = points(400)
    x = x[(p.log_prob_unnorm(x) - p.log_z - q.log_prob_unnorm(x) + q.log_z).abs() < 15]
    assert x.shape[0] > 150
    v_fv = drift_from_first_variation(p, q, name, x)
    v = universal_drift(p, q, name, x)
    rel = (v - v_fv).norm(dim=-1) / v.norm(dim=-1).clamp_min(1e-300)
    assert float(rel.max()) < 1e-5


# --------------------------------------------------------------------------- §2 identity


@pytest.mark.parametrize("name", ALL)
def test_compression_elasticity_identity(pq, name):
    """−∇·(qV)/q by autograd = −w(r)[Δlog r + ∇log q·∇log r + ε(r)|∇log r|²], rel. 1e-6.

    The error is measured against the sum of the magnitudes of the three terms (times w), so
    points where they cancel to ~0 do not divide by zero; round-off is ~1e-13.
    """
    p, q = pq
    x = points(400)
    lhs = dlogq_dt_autograd(p, q, name, x)
    rhs = dlogq_dt_identity(p, q, name, x)
    t = identity_terms(p, q, name, x)
    scale = t["w"] * (t["laplacian"].abs() + t["transport"].abs() + t["elastic"].abs())
    assert torch.isfinite(lhs).all() and torch.isfinite(rhs).all()
    assert float(((lhs - rhs).abs() / scale).max()) < 1e-6


@pytest.mark.parametrize("name", ["forward_kl", "js", "hellinger", "pearson", "neyman"])
def test_identity_fails_without_the_elasticity_term(pq, name):
    """The check has teeth: dropping ε(r)|∇log r|² breaks it wherever ε ≠ 0."""
    p, q = pq
    x = points(400)
    lhs = dlogq_dt_autograd(p, q, name, x)
    t = identity_terms(p, q, name, x)
    wrong = -t["w"] * (t["laplacian"] + t["transport"])
    scale = t["w"] * (t["laplacian"].abs() + t["transport"].abs() + t["elastic"].abs())
    assert float(((lhs - wrong).abs() / scale).max()) > 0.1


# --------------------------------------------------------------------------- regional response


def test_repair_thresholds():
    """w(e^κ*) = 1: forward KL 0, Hellinger log 4, Pearson −½ log 2, Neyman log 2; none for
    reverse KL (w ≡ 1) and JS (w < ½)."""
    expected = {
        "forward_kl": 0.0,
        "hellinger": math.log(4),
        "pearson": -0.5 * math.log(2),
        "neyman": math.log(2),
        "alpha_0.5": 0.0,
    }
    for name, k in expected.items():
        assert repair_threshold(name) == pytest.approx(k, abs=1e-9)
    assert repair_threshold("reverse_kl") is None
    assert repair_threshold("js") is None


def test_regional_response_matches_prediction(response):
    """Measured −∫_{A_κ} ∇·(qV) dx equals w(e^κ) Φ_κ within 5 % where Φ_κ is not tiny."""
    res = response
    assert not res.tiny.any()
    assert res.info["levels_touching_grid_edge"] == []
    assert (res.phi > 0.01).all() and (res.mass > 0).all()
    for name in ALL:
        err = np.abs(res.rel_error(name))
        assert err.max() < 0.05, (name, err)
    # O(h²): at h = 0.04 the worst case (Pearson, κ = 0) is 2.1 %; 0.29 % at h = 0.015
    assert max(np.abs(res.rel_error(n)).max() for n in ALL) < 0.025


def test_regional_response_gains_order_the_divergences(response):
    """Deep holes: forward KL and χ² beat reverse KL (w > 1), JS never does (w < ½)."""
    res = response
    deep = np.asarray(KAPPAS) >= 2.0
    rk = res.measured["reverse_kl"]
    assert (res.measured["forward_kl"][deep] > rk[deep]).all()
    assert (res.measured["pearson"] > res.measured["forward_kl"]).all()
    assert (res.measured["js"] < 0.5 * rk * 1.01).all()
    np.testing.assert_allclose(rk, res.phi, rtol=0.01)  # reverse KL: the flux itself


def test_flux_by_coarea_matches_contour_integral(pq, response):
    """Φ_κ two ways: ∮ q|∇log r| dS on the contour, and −d/dκ ∫_{A_κ} q|∇log r|² (co-area)."""
    p, q = pq
    for i in (1, 3):
        phi = flux_coarea(p, q, KAPPAS[i], delta=0.05, grid_n=300)
        assert phi == pytest.approx(response.phi[i], rel=0.01)


def test_one_explicit_step_tends_to_the_prediction_and_breaks_down(pq, response):
    """A finite Euler step matches w(e^κ)Φ_κ as dt → 0, and fails once dt·w·curvature ~ 1."""
    p, q = pq
    k = [1.0, 2.0]
    pred = response.predicted["forward_kl"][1:3]
    small = finite_step_inflow(p, q, "forward_kl", k, dt=1e-5, grid_n=300)
    assert np.abs(small / pred - 1).max() < 0.02
    large = finite_step_inflow(p, q, "forward_kl", k, dt=1e-2, grid_n=300)
    assert np.abs(large / pred - 1).min() > 0.5


def test_particle_push_agrees_within_monte_carlo_error(pq, response):
    """The particle twin (exact sample of q pushed ±dt) for reverse KL at κ = 1 (z-test)."""
    p, q = pq
    est, se = particle_inflow(p, q, "reverse_kl", 1.0, n=300_000, dt=1e-3, seed=1)
    assert abs(est - response.predicted["reverse_kl"][1]) < 4 * se


# --------------------------------------------------------------------------- §3 log-variance


def test_lv_drift_is_minus_gradient_of_its_first_variation(pq):
    """V_LV = −∇[−2(ν/q)(log r + m)] (m fixed), and V_LV = 2β on-policy (ν = q)."""
    p, q = pq
    nu = smoothed_mixture(p, 0.3)
    x = points(300, seed=4) / 1.5
    m = 0.37
    xg = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(lv_first_variation(p, q, nu, xg, m).sum(), xg)
    v = exact_lv_drift(p, q, nu, x, m)
    rel = (v + grad).norm(dim=-1) / v.norm(dim=-1).clamp_min(1e-300)
    assert float(rel.max()) < 1e-9
    beta = p.score(x) - q.score(x)
    torch.testing.assert_close(exact_lv_drift(p, q, q, x, m), 2 * beta, rtol=1e-12, atol=1e-12)


def test_lv_first_variation_by_directional_derivative(pq):
    """d/dε Var_ν[log q_ε − log p] at ε = 0, q_ε = q + ε(q₂ − q), equals ∫ δD/δq (q₂ − q) dx,
    with m = E_ν[log(q/p)]: the variance's centring is what puts m into the first variation."""
    p, q = pq
    nu = smoothed_mixture(p, 0.3)
    q2 = undercovering_q(p, missing=(0, 2, 5), broad_weight=0.2, broad_std=1.5)
    n, lim = 300, 6.0
    axis = -lim + (2 * lim / n) * (np.arange(n) + 0.5)
    xx, yy = np.meshgrid(axis, axis)
    x = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], axis=1))
    cell = (2 * lim / n) ** 2
    dens = {t: (-t.energy(x) - t.log_z).exp() for t in (p, q, q2, nu)}

    def lv(eps: float) -> float:
        g = torch.log(dens[q] + eps * (dens[q2] - dens[q])) - torch.log(dens[p])
        mean = (dens[nu] * g).sum() * cell
        return float((dens[nu] * (g - mean) ** 2).sum() * cell)

    eps = 1e-7  # central difference: error O(ε² E_ν[|h/q|³]) and h/q reaches 290
    numeric = (lv(eps) - lv(-eps)) / (2 * eps)
    m = float((dens[nu] * (torch.log(dens[q]) - torch.log(dens[p]))).sum() * cell)
    analytic = float((lv_first_variation(p, q, nu, x, m) * (dens[q2] - dens[q])).sum() * cell)
    assert numeric == pytest.approx(analytic, rel=1e-6)
    wrong = float((lv_first_variation(p, q, nu, x, 0.0) * (dens[q2] - dens[q])).sum() * cell)
    assert abs(wrong - numeric) > 1e-3 * abs(numeric)  # m matters


# --------------------------------------------------------------------------- under-coverage


def test_soft_undercoverage_with_exact_densities(pq):
    """q = p: U_s = σ(−κ/s) exactly; q missing 2 of 8 modes: U_s ≈ their p-mass 1/4."""
    p, q = pq
    ref = p.sample(4000, torch.Generator().manual_seed(0))
    same = soft_undercoverage(p, lambda x: -p.energy(x) - p.log_z, ref, kappa=1.0, s=0.1)
    assert same == pytest.approx(1 / (1 + math.exp(10.0)), rel=1e-9)
    miss = soft_undercoverage(p, lambda x: -q.energy(x) - q.log_z, ref, kappa=1.0, s=0.1)
    assert miss == pytest.approx(0.25, abs=4 * 0.5 / math.sqrt(4000))


def test_undercoverage_monitor_from_generator_samples(pq):
    """The KDE monitor: ~0 at q = p (up to MC and KDE noise), clearly positive with holes."""
    p, q = pq
    gen = torch.Generator().manual_seed(3)
    monitor = undercoverage_monitor(p, p.sample(4000, gen), kappa=1.0, s=0.1)
    at_p = monitor(p.sample(2000, gen))["undercoverage"]
    holes = monitor(q.sample(2000, gen))["undercoverage"]
    assert 0 <= at_p < 0.01
    assert holes > 0.2


@pytest.mark.parametrize("name", ["reverse_kl", "forward_kl"])
def test_undercoverage_response_follows_from_the_identity(pq, name):
    """d/dt U_s by the identity = central difference of U_s[(id + dt V)_# q] (change of
    variables, no identity), s = 0.25 so that σ' is resolved by the grid (h = 0.048).

    Sign: reverse KL shrinks U_s; forward KL (ε = 1) *grows* it at this q, because the
    elasticity term drains q from the rim of each hole faster than it fills (docs/theory.md).
    """
    p, q = pq
    rate = undercoverage_rate(p, q, name, kappa=1.0, s=0.25, grid_n=250)
    dt = 1e-5
    plus = undercoverage_after_step(p, q, name, dt, kappa=1.0, s=0.25, grid_n=250)
    minus = undercoverage_after_step(p, q, name, -dt, kappa=1.0, s=0.25, grid_n=250)
    assert rate == pytest.approx((plus - minus) / (2 * dt), rel=1e-3)
    assert (rate < 0) if name == "reverse_kl" else (rate > 0)


def test_undercoverage_monitor_rejects_unsmoothable_targets(pq):
    p, _ = pq
    with pytest.raises(ValueError, match="rbf"):
        undercoverage_monitor(p, p.sample(10), kernel="laplace")


def test_weights_used_by_the_prediction_are_the_registry_weights(response):
    for name in ALL:
        w = get_divergence(name).weight(torch.tensor(KAPPAS, dtype=torch.float64)).numpy()
        np.testing.assert_allclose(response.predicted[name], w * response.phi, rtol=1e-12)


def test_lv_divergences_are_refused_by_the_f_divergence_statements():
    from wgf.theory.identities import f_divergence

    with pytest.raises(ValueError, match="lv_surrogate: .*f-divergences"):
        f_divergence("lv_surrogate")
    assert f_divergence("js").name == "js"
