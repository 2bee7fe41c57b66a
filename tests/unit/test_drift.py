"""The universal drift against the first variation, in float64 with analytic p and q."""

import math

import pytest
import torch

from wgf.divergences import DIVERGENCES, UnknownDivergence, get_divergence
from wgf.drift import batch_log_z, f_drift
from wgf.targets import GaussianMixture, build_target

ALL = [*DIVERGENCES, "alpha_0.5", "alpha_-1", "alpha_2.5"]


def _q_mixture() -> GaussianMixture:
    """An analytic q that misses part of gmm8's mass: 3 broad modes."""
    means = [[2.0, 0.0], [0.0, 2.5], [-1.5, -1.5]]
    return GaussianMixture(means, [[0.6, 0.6], [0.4, 0.8], [1.0, 1.0]], [0.5, 0.3, 0.2])


def _points(n: int = 200) -> torch.Tensor:
    return 3 * torch.randn(n, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


@pytest.mark.parametrize("name", ALL)
def test_drift_is_minus_gradient_of_first_variation(name):
    """w(r) β = −∇[f(r) − r f'(r)] with r = p/q exact; f' by autograd, ∇ by autograd."""
    div = get_divergence(name)
    p, q = build_target("gmm8"), _q_mixture()
    x = _points().requires_grad_(True)
    log_r = (-p.energy(x) - p.log_z) - (-q.energy(x) - q.log_z)
    r = log_r.exp()
    f_r = div.f(r)
    (f_prime,) = torch.autograd.grad(f_r.sum(), r, create_graph=True)
    phi = f_r - r * f_prime
    (grad_phi,) = torch.autograd.grad(phi.sum(), x)
    x = x.detach()
    beta = p.score(x) - q.score(x)
    drift = div.weight(log_r.detach())[:, None] * beta
    scale = drift.norm(dim=-1).clamp_min(1e-12)
    rel = ((drift + grad_phi).norm(dim=-1) / scale).max()
    assert float(rel) < 1e-5


@pytest.mark.parametrize("name", ALL)
def test_weights_and_elasticity(name):
    """w(r) = r² f''(r) and ε = d log w / d log r, both by autograd against the table."""
    div = get_divergence(name)
    log_r = torch.linspace(-4, 4, 41, dtype=torch.float64).requires_grad_(True)
    r = log_r.exp()
    (f1,) = torch.autograd.grad(div.f(r).sum(), r, create_graph=True)
    (f2,) = torch.autograd.grad(f1.sum(), r, create_graph=True)
    torch.testing.assert_close(r.square() * f2, div.weight(log_r), rtol=1e-9, atol=1e-12)
    (eps,) = torch.autograd.grad(div.log_w(log_r).sum(), log_r, materialize_grads=True)
    torch.testing.assert_close(eps, div.elasticity(log_r.detach()), rtol=1e-9, atol=1e-12)


TABLE = {  # SCIENCE.md §1: w(r) at r = e^κ
    "reverse_kl": lambda r: 1.0,
    "forward_kl": lambda r: r,
    "hellinger": lambda r: 0.5 * math.sqrt(r),
    "js": lambda r: 0.5 * r / (1 + r),
    "pearson": lambda r: 2 * r * r,
    "neyman": lambda r: 2 / r,
}


@pytest.mark.parametrize("name", TABLE)
def test_weight_table(name):
    for r in (0.1, 0.7, 1.0, 3.0, 20.0):
        w = float(get_divergence(name).weight(torch.tensor(math.log(r), dtype=torch.float64)))
        assert w == pytest.approx(TABLE[name](r), rel=1e-12)


@pytest.mark.parametrize("name", ALL)
def test_self_normalised_drift_is_invariant_to_z(name):
    """f_drift with exact q: homogeneous weights need no Z; JS uses the Z it is given."""
    div = get_divergence(name)
    p, q = build_target("gmm8"), _q_mixture()
    x = _points()
    log_q, score_q = -q.energy(x) - q.log_z, q.score(x)
    exact_log_r = -p.energy(x) - p.log_z - log_q
    w = div.weight(exact_log_r)
    expected = (w / w.mean())[:, None] * (p.score(x) - score_q)
    given = None if div.homogeneous else p.log_z
    drift = f_drift(x, p, div, log_q, score_q, log_z=given, log_r_clip=500.0)
    torch.testing.assert_close(drift.velocity, expected, rtol=1e-9, atol=1e-9)


def test_all_drifts_vanish_at_q_equal_p():
    p = build_target("gmm8")
    x = p.sample(500, torch.Generator().manual_seed(0)).double()
    log_q, score_q = -p.energy(x) - p.log_z, p.score(x)
    for name in ALL:
        drift = f_drift(x, p, get_divergence(name), log_q, score_q)
        assert float(drift.velocity.abs().max()) < 1e-9


def test_batch_log_z_is_unbiased_importance_sampling():
    """With q̂ = q exact and samples from q, logmeanexp(log p̃ − log q) → log Z (MC error)."""
    p, q = build_target("gmm8"), _q_mixture()
    x = q.sample(200_000, torch.Generator().manual_seed(0)).double()
    est = batch_log_z(-p.energy(x), -q.energy(x) - q.log_z)
    assert est == pytest.approx(p.log_z, abs=0.05)


def test_unknown_divergence():
    with pytest.raises(UnknownDivergence, match="unknown divergence 'kl'"):
        get_divergence("kl")
    with pytest.raises(UnknownDivergence):
        get_divergence("alpha_1")
