"""The reference flow ν of a target: log Ẑ of a fitted flow (each fit method), its tempering
schedule, and the reference read back from the rule's flow.pt and log_z.json."""

import json
import math

import pytest
import torch

from tests.helpers import ShiftedGaussian, perturbed_flow
from wgf.density.flows import save_flow
from wgf.reference import (
    ReferenceConfig,
    fit_reference,
    load_reference,
    log_z_estimate,
    temper_schedule,
)

pytestmark = pytest.mark.usefixtures("one_thread")


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
    target = ShiftedGaussian()
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
def test_load_reference_reads_flow_and_log_z(tmp_path, architecture, iaf):
    flow = perturbed_flow(architecture, iaf)
    save_flow(tmp_path / "flow.pt", flow, {"log_z_hat": 1.5})
    x = torch.randn(50, 3)
    (tmp_path / "log_z.json").write_text(json.dumps({"log_z_hat": 1.5, "ess": 0.9}))
    ref = load_reference(tmp_path / "flow.pt", tmp_path / "log_z.json")
    assert (ref.log_z, ref.ess) == (1.5, 0.9)
    log_nu, score = ref.log_prob_and_score(x.double())
    assert log_nu.dtype == torch.float64
    torch.testing.assert_close(score.float(), flow.score(x))
