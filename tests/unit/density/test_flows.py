"""The reference flow: log Ẑ of a fitted flow, checkpoints, and the online flow estimator of q."""

import json
import math

import pytest
import torch

from wgf.estimators import FlowEstimatorConfig, make_estimator
from wgf.flows import (
    Flow,
    ReferenceConfig,
    fit_reference,
    load_flow,
    load_reference,
    log_z_estimate,
    save_flow,
    temper_schedule,
)
from wgf.targets import Target


@pytest.fixture(autouse=True)
def _one_thread():
    """One intra-op thread: on a shared machine, thread contention costs 100× here."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class _Gaussian(Target):
    """``E(x) = ½ (x − μ)ᵀ C⁻¹ (x − μ) + 3``: ``log Z = log 2π + ½ log|C| − 3`` (d = 2)."""

    name = "gaussian"
    dim = 2

    def __init__(self) -> None:
        self.mean = torch.tensor([1.0, -2.0], dtype=torch.float64)
        cov = torch.tensor([[2.0, 0.8], [0.8, 0.6]], dtype=torch.float64)
        self.chol = torch.linalg.cholesky(cov)
        self.log_z = math.log(2 * math.pi) + float(self.chol.diagonal().log().sum()) - 3.0

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        diff = (x - self.mean.to(x.dtype)).T
        sol = torch.linalg.solve_triangular(self.chol.to(x.dtype), diff, upper=False)
        return 0.5 * sol.square().sum(0) + 3.0


SMALL = dict(
    architecture="maf",
    layers=2,
    hidden=16,
    steps=300,
    rounds=6,
    pool_size=4000,
    batch_size=512,
    lr=1e-2,
    n_log_z=20_000,
)


@pytest.mark.parametrize(
    "method",
    [
        dict(method="iw_ml"),
        dict(method="reverse_kl", temper_start=0.3),
        dict(method="reverse_kl", temper_start=0.3, iaf=True),
    ],
)
def test_log_z_of_a_gaussian_is_exact_within_monte_carlo_error(method):
    """log Ẑ = log mean w, w = p̃/ν, x ~ ν: its standard error is √((1/ESS − 1)/n) (delta
    method, ESS the effective-sample-size fraction of the weights); allow 5 of them."""
    torch.manual_seed(0)
    target = _Gaussian()
    fit = fit_reference(target, ReferenceConfig(**{**SMALL, **method}), seed=0, progress=False)
    info = fit.info
    assert info["ess"] > 0.8, info
    stderr = math.sqrt((1 / info["ess"] - 1) / info["n_log_z"])
    assert abs(info["log_z_error"]) < 5 * stderr + 1e-6, (info["log_z_error"], stderr)
    assert info["log_z_true"] == pytest.approx(target.log_z)
    # The estimate is a plain function of the flow: the same on fresh ν samples, within error.
    again, ess = log_z_estimate(fit.flow, target, 20_000, torch.Generator().manual_seed(7))
    assert again == pytest.approx(target.log_z, abs=5 * math.sqrt((1 / ess - 1) / 20_000) + 1e-6)


def test_temper_schedule_is_geometric_then_one():
    betas = [temper_schedule(0.01, 0.5, k, 10) for k in range(10)]
    assert betas[0] == pytest.approx(0.01)
    assert all(a < b for a, b in zip(betas[:4], betas[1:5], strict=True))
    assert betas[4:] == [1.0] * 6
    assert temper_schedule(1.0, 0.5, 0, 10) == 1.0


@pytest.mark.parametrize(("architecture", "iaf"), [("maf", False), ("nsf", False), ("nsf", True)])
def test_checkpoint_round_trip(tmp_path, architecture, iaf):
    torch.manual_seed(0)
    flow = Flow(3, architecture, layers=2, hidden=8, iaf=iaf, loc=[1.0, 0.0, -1.0], scale=2.0)
    with torch.no_grad():  # move off the initialisation so the state dict matters
        for p in flow.parameters():
            p.add_(0.05 * torch.randn_like(p))
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
    (tmp_path / "log_z.json").write_text(json.dumps({"log_z_hat": 1.5, "ess": 0.9}))
    ref = load_reference(tmp_path / "flow.pt", tmp_path / "log_z.json")
    assert (ref.log_z, ref.ess) == (1.5, 0.9)
    log_nu, score = ref.log_prob_and_score(x.double())
    assert log_nu.dtype == torch.float64
    torch.testing.assert_close(score.float(), flow.score(x))


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
    target = _Gaussian()
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
