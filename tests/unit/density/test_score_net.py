"""The DSM score network recovers a Gaussian's (noise-smoothed) score."""

import torch

from wgf.density.estimators import make_estimator
from wgf.density.score_net import ScoreNet, ScoreNetConfig, fit_dsm

MU = torch.tensor([1.0, -1.0])
STD = torch.tensor([0.7, 1.5])


def test_score_net_recovers_a_gaussian_score():
    """After DSM at σ, s(x, σ) ≈ −(x − μ)/(std² + σ²), the exact score of q ∗ N(0, σ²):
    relative L2 error below 10% on fresh points."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    x = MU + STD * torch.randn(4000, 2, generator=gen)
    net = ScoreNet(2, hidden=64, layers=3)
    net.loc.copy_(x.mean(0))
    net.scale.copy_(x.std(0))
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sigma = 0.5
    fit_dsm(net, x, sigma, opt, 800, spread=1.5, batch_size=1000, generator=gen)
    for group in opt.param_groups:  # a short low-rate phase on the full batch averages the noise
        group["lr"] = 2e-4
    fit_dsm(net, x, sigma, opt, 200, spread=1.5, generator=gen)
    test = MU + STD * torch.randn(2000, 2, generator=gen)
    exact = -(test - MU) / (STD**2 + sigma**2)
    with torch.no_grad():
        err = (net.score(test, sigma) - exact).norm() / exact.norm()
    assert err < 0.1, float(err)


def test_untrained_network_is_far_from_the_score():
    """The bound above is not vacuous: an unfitted network misses it."""
    torch.manual_seed(0)
    test = MU + STD * torch.randn(2000, 2, generator=torch.Generator().manual_seed(1))
    exact = -(test - MU) / (STD**2 + 0.5**2)
    net = ScoreNet(2, hidden=64, layers=3)
    with torch.no_grad():
        err = (net.score(test, 0.5) - exact).norm() / exact.norm()
    assert err > 0.1


def test_score_net_estimator_is_registered_and_finite():
    est = make_estimator("score_net", score_net=ScoreNetConfig(warmup_steps=20, steps=2))
    x = torch.randn(300, 2, generator=torch.Generator().manual_seed(0))
    log_q, score = est(x, 0.3)
    assert log_q.shape == (300,) and score.shape == (300, 2)
    assert torch.isfinite(log_q).all() and torch.isfinite(score).all()
    log_q2, _ = est(x, 0.3)  # warm-started: same network, a few more steps
    assert est.calls == 2 and torch.allclose(log_q, log_q2)
