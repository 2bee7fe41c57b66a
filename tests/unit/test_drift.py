"""The universal drift against the first variation, in float64 with analytic p and q."""

import pytest
import torch

from tests.helpers import analytic_q, points
from wgf.divergences import DIVERGENCES, get_divergence
from wgf.drift import batch_log_z, f_drift
from wgf.importance import ess_fraction, temper_to_ess
from wgf.targets import build_target

ALL = [*DIVERGENCES, "alpha_0.5", "alpha_-1", "alpha_2.5"]


@pytest.mark.parametrize("name", ALL)
def test_drift_is_minus_gradient_of_first_variation(name):
    """w(r) β = −∇[f(r) − r f'(r)] with r = p/q exact; f' by autograd, ∇ by autograd."""
    div = get_divergence(name)
    p, q = build_target("gmm8"), analytic_q()
    x = points().requires_grad_(True)
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
def test_self_normalised_drift_is_invariant_to_z(name):
    """f_drift with exact q: homogeneous weights need no Z; JS uses the Z it is given."""
    div = get_divergence(name)
    p, q = build_target("gmm8"), analytic_q()
    x = points()
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
    p, q = build_target("gmm8"), analytic_q()
    x = q.sample(200_000, torch.Generator().manual_seed(0)).double()
    est = batch_log_z(-p.energy(x), -q.energy(x) - q.log_z)
    assert est == pytest.approx(p.log_z, abs=0.05)


def _spread_log_w(n: int = 400) -> torch.Tensor:
    """Forward-KL weights as degenerate as in d = 16: log w spread over ~60 nats."""
    return 15.0 * torch.randn(n, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def test_temper_to_ess_is_the_largest_lambda_above_the_floor():
    """ESS(w^λ) falls with λ, so bisection finds the λ where it crosses the floor."""
    log_w = _spread_log_w()
    assert ess_fraction(log_w) < 0.01
    lams = torch.linspace(0, 1, 21, dtype=torch.float64)
    ess = [ess_fraction(float(lam) * log_w) for lam in lams]
    assert all(a >= b for a, b in zip(ess, ess[1:], strict=False))
    for floor in (0.05, 0.3, 0.9):
        lam = temper_to_ess(log_w, floor)
        assert 0.0 < lam < 1.0
        assert ess_fraction(lam * log_w) >= floor
        assert ess_fraction((lam + 1e-6) * log_w) < floor
    assert temper_to_ess(log_w, 0.0) == 1.0
    assert temper_to_ess(torch.zeros(10, dtype=torch.float64), 0.99) == 1.0


def test_weight_ess_floor_moves_the_drift_towards_reverse_kl():
    """A floor keeps the batch's weight ESS above it; floor 0 is the untempered drift, and a
    floor of 1 gives equal weights: reverse KL's drift β."""
    p, q = build_target("gmm8"), analytic_q()
    x = q.sample(400, torch.Generator().manual_seed(1)).double()
    log_q, score_q = -q.energy(x) - q.log_z, q.score(x)
    div = get_divergence("pearson")
    plain = f_drift(x, p, div, log_q, score_q, log_z=p.log_z, log_r_clip=500.0)
    assert plain.ess < 0.3 and plain.temper == 1.0
    same = f_drift(x, p, div, log_q, score_q, p.log_z, 500.0, ess_floor=0.0)
    torch.testing.assert_close(same.velocity, plain.velocity, rtol=0, atol=0)
    floored = f_drift(x, p, div, log_q, score_q, p.log_z, 500.0, ess_floor=0.3)
    assert floored.ess >= 0.3 and 0.0 < floored.temper < 1.0
    flat = f_drift(x, p, div, log_q, score_q, p.log_z, 500.0, ess_floor=1.0)
    torch.testing.assert_close(flat.velocity, flat.beta, rtol=1e-6, atol=1e-9)
