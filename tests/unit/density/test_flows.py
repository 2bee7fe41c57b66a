"""Normalizing flows: checkpoints, samples against densities, the inverse-autoregressive
direction, the defensive mixture, and the online flow estimator of q (warm-started)."""

import math

import pytest
import torch

from tests.helpers import ShiftedGaussian, perturbed_flow
from wgf.density.estimators import FlowEstimatorConfig, make_estimator
from wgf.density.flows import Flow, load_flow, save_flow

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize(("architecture", "iaf"), [("maf", False), ("nsf", False), ("nsf", True)])
def test_checkpoint_round_trip(tmp_path, architecture, iaf):
    flow = perturbed_flow(architecture, iaf)
    save_flow(tmp_path / "flow.pt", flow, {"log_z_hat": 1.5})
    ckpt = torch.load(tmp_path / "flow.pt", weights_only=True)
    assert ckpt["extra"] == {"log_z_hat": 1.5} and ckpt["hparams"]["dim"] == 3
    loaded = load_flow(tmp_path / "flow.pt")
    x = torch.randn(50, 3)
    torch.testing.assert_close(loaded.log_prob(x), flow.log_prob(x))
    torch.testing.assert_close(loaded.score(x), flow.score(x))
    a = flow.sample(20, torch.Generator().manual_seed(3))
    b = loaded.sample(20, torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, b)


@pytest.mark.parametrize("iaf", [False, True])
def test_sample_and_log_prob_agree(iaf):
    torch.manual_seed(1)
    flow = Flow(2, "nsf", layers=2, hidden=8, bins=4, iaf=iaf)
    x, log_nu = flow.sample_and_log_prob(100, torch.Generator().manual_seed(0))
    torch.testing.assert_close(log_nu, flow.log_prob(x), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("iaf", "sample_passes", "density_passes"), [(False, 5, 1), (True, 1, 5)])
def test_iaf_swaps_the_sequential_direction(iaf, sample_passes, density_passes):
    """Per layer, MADE evaluations for a draw with its log ν and for the density of given points:
    d = 5 and 1 (MAF direction) or 1 and d (inverse autoregressive)."""
    from nflows.transforms.made import MADE

    torch.manual_seed(0)
    flow = Flow(5, "nsf", layers=2, hidden=8, bins=4, iaf=iaf)
    made = [m for m in flow.modules() if isinstance(m, MADE)]
    calls = [0]
    for m in made:
        m.register_forward_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    x, _ = flow.rsample_and_log_prob(10, torch.Generator().manual_seed(0))
    assert calls[0] == sample_passes * len(made)
    calls[0] = 0
    flow.log_prob(x.detach())
    assert calls[0] == density_passes * len(made)


def test_flow_estimator_is_warm_started_and_fits_a_gaussian():
    torch.manual_seed(0)
    target = ShiftedGaussian()
    x = target.mean.float() + torch.randn(2000, 2) @ target.chol.float().T
    cfg = FlowEstimatorConfig(layers=2, hidden=16, warmup_steps=300, steps=2, lr=1e-2)
    estimate = make_estimator("flow", flow=cfg)
    log_q, score = estimate(x, 0.1)
    flow = estimate.flow
    exact = -target.energy(x.double()) - target.log_z
    assert float((log_q.double() - exact).abs().mean()) < 0.2
    torch.testing.assert_close(score, flow.score(x))
    estimate(x, 0.1)
    assert estimate.flow is flow and estimate.calls == 2


def test_defensive_mixture_density_and_score():
    """``(1 − ε) ν + ε N(loc, scale²)``: log-density and score against autograd, float64."""
    torch.manual_seed(0)
    loc, scale = [1.0, 0.0, -1.0], [2.0, 1.0, 0.5]
    flow = Flow(3, "maf", layers=2, hidden=8, loc=loc, scale=scale)
    x = 3 * torch.randn(40, 3, dtype=torch.float64)
    eps = 0.2
    log_nu, score = flow.defensive_log_prob_and_score(x, eps)
    xg = x.clone().requires_grad_(True)
    broad = torch.distributions.Normal(torch.tensor(loc).double(), torch.tensor(scale).double())
    exact = torch.logaddexp(
        math.log1p(-eps) + flow.log_prob(xg), math.log(eps) + broad.log_prob(xg).sum(-1)
    )
    (grad,) = torch.autograd.grad(exact.sum(), xg)
    torch.testing.assert_close(log_nu, exact.detach(), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(score, grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(flow.defensive_log_prob_and_score(x, 0.0)[0], flow.log_prob(x))


def test_defensive_mixture_takes_over_where_the_flow_overflows():
    """Where the flow's own log-density is NaN (a trained MAF far out, |x| ≈ 90 on gmm2hard16),
    the defensive mixture is the broad component alone; elsewhere it is unchanged."""
    torch.manual_seed(0)
    flow = Flow(2, "maf", layers=2, hidden=8, loc=[0.0, 0.0], scale=[2.0, 2.0])
    x = torch.randn(6, 2, dtype=torch.float64)
    clean = flow.defensive_log_prob_and_score(x, 0.1)
    real = flow.log_prob_and_score

    def overflowing(y):
        log_nu, score = real(y)
        return log_nu.index_fill(0, torch.tensor([1, 4]), math.nan), score.index_fill(
            0, torch.tensor([4]), math.nan
        )

    flow.log_prob_and_score = overflowing
    log_nu, score = flow.defensive_log_prob_and_score(x, 0.1)
    broad = torch.distributions.Normal(torch.zeros(2).double(), 2 * torch.ones(2).double())
    for i in (1, 4):
        expect = math.log(0.1) + broad.log_prob(x[i]).sum()
        torch.testing.assert_close(log_nu[i], expect)
        torch.testing.assert_close(score[i], -x[i] / 4)
    keep = [0, 2, 3, 5]
    torch.testing.assert_close(log_nu[keep], clean[0][keep], rtol=0, atol=0)
    torch.testing.assert_close(score[keep], clean[1][keep], rtol=0, atol=0)
