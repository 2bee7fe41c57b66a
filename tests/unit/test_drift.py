"""The universal drift against the first variation, in float64 with analytic p and q."""

import pytest
import torch

from tests.helpers import analytic_q, points
from wgf.divergences import DIVERGENCES, get_divergence
from wgf.drift import batch_log_z, f_drift
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
