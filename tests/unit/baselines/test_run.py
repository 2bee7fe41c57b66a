"""Every baseline end to end on gmm8 (tiny): samples, metrics and cost by its kind, seeded; and a
new generator-kind entry is one line."""

import math

import numpy as np
import pytest
import torch

from tests.conftest import smoke_raw
from wgf import plan
from wgf.baselines import METHODS, generator_method, get_method
from wgf.baselines.run import run_baseline
from wgf.targets import build_target

EVALUATION = {
    "n_samples": 300,
    "n_ot": 100,
    "sinkhorn_reg": 0.05,
    "coverage_threshold": 0.1,
    "seed": 0,
    "ksd_samples": 300,
}


def smoke_config() -> dict:
    return plan.prepare(smoke_raw())


@pytest.fixture(scope="module")
def gmm8():
    target = build_target("gmm8")
    return target, target.sample(1000, torch.Generator().manual_seed(0))


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_runs_on_gmm8(name, gmm8, tmp_path):
    target, exact = gmm8
    config = smoke_config()
    settings = plan.baseline_params(config, "gmm8", name)
    if "chains" in settings:
        settings["chains"] = 300
    run, result = run_baseline(name, target, settings, 0, exact, EVALUATION, 2000)
    assert np.isfinite(run.samples.numpy()).all()
    for key in ("mmd_median", "w2", "mode_weight_tv", "samples_per_s"):
        assert math.isfinite(result[key]), key
    kind = get_method(name).kind
    assert run.info["kind"] == kind
    if kind == "sampler":
        assert run.curve and result["target_evaluations_per_sample"] > 0
        assert run.curve[-1]["steps"] == settings["steps"]
    else:
        assert run.model is not None and result["target_evaluations_per_sample"] == 0
        torch.save(run.model, tmp_path / "model.pt")  # plain data: loads with weights_only
        assert torch.load(tmp_path / "model.pt", weights_only=True)["hparams"]
        assert run.info["target_evaluations"] > 0 and run.info["train_wall_s"] > 0


def test_mala_baseline_is_seeded(gmm8):
    target, exact = gmm8
    settings = plan.baseline_params(smoke_config(), "gmm8", "mala")
    settings["chains"] = 200
    a, _ = run_baseline("mala", target, settings, 3, None, EVALUATION, 1000)
    b, _ = run_baseline("mala", target, settings, 3, None, EVALUATION, 1000)
    c, _ = run_baseline("mala", target, settings, 4, None, EVALUATION, 1000)
    assert torch.equal(a.samples, b.samples) and not torch.equal(a.samples, c.samples)


def test_a_new_generator_entry_is_one_line(monkeypatch, gmm8):
    """E.g. ``generator_flow`` = forward KL with the online flow estimator, on gmm8."""
    target, exact = gmm8
    entry = generator_method("generator_flow", "forward_kl", "flow", "forward KL, flow estimator")
    monkeypatch.setitem(METHODS, "generator_flow", entry)
    raw = smoke_raw()
    raw["baselines"]["methods"] = ["generator_flow"]
    raw["training"]["flow_estimator"] = {"warmup_steps": 20, "steps": 1, "hidden": 8}
    config = plan.prepare(raw)
    settings = plan.baseline_params(config, "gmm8", "generator_flow")
    assert settings["training"]["steps"] == raw["training"]["steps"]
    run, result = run_baseline("generator_flow", target, settings, 0, exact, EVALUATION, 1000)
    assert run.info["divergence"] == "forward_kl" and run.info["estimator"] == "flow"
    assert math.isfinite(result["mmd_median"])
