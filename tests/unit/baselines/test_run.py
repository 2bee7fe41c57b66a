"""The method registry: errors, every entry end to end on gmm8 (tiny), the break-even and the
published protocol, and the workflow's baseline jobs."""

import copy
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

import wgf.config
from tests.snakemake_output import job_counts
from wgf.comparison import break_even, published_protocol
from wgf.methods import METHODS, UnknownMethod, generator_method, get_method, run_baseline
from wgf.plots import plot_mala_cost
from wgf.targets import build_target

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "tests" / "smoke" / "config.yaml"
EVALUATION = {
    "n_samples": 300,
    "n_ot": 100,
    "sinkhorn_reg": 0.05,
    "coverage_threshold": 0.1,
    "seed": 0,
}


def smoke_config() -> dict:
    return wgf.config.prepare(yaml.safe_load(SMOKE.read_text()))


def test_unknown_method_names_it():
    with pytest.raises(UnknownMethod, match="'mcmc'"):
        get_method("mcmc")


def test_config_rejects_an_unknown_method_naming_the_key():
    raw = yaml.safe_load(SMOKE.read_text())
    raw["baselines"]["methods"] = ["mala", "mcmc"]
    with pytest.raises(wgf.config.ConfigError, match=r"baselines\.methods\[1\].*'mcmc'"):
        wgf.config.prepare(raw)


@pytest.fixture(scope="module")
def gmm8():
    target = build_target("gmm8")
    return target, target.sample(1000, torch.Generator().manual_seed(0))


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_runs_on_gmm8(name, gmm8, tmp_path):
    target, reference = gmm8
    config = smoke_config()
    settings = wgf.config.baseline_settings(config, "gmm8", name)
    if "chains" in settings:
        settings["chains"] = 300
    run, result = run_baseline(name, target, settings, 0, reference, EVALUATION, 2000)
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
    target, reference = gmm8
    settings = wgf.config.baseline_settings(smoke_config(), "gmm8", "mala")
    settings["chains"] = 200
    a, _ = run_baseline("mala", target, settings, 3, None, EVALUATION, 1000)
    b, _ = run_baseline("mala", target, settings, 3, None, EVALUATION, 1000)
    c, _ = run_baseline("mala", target, settings, 4, None, EVALUATION, 1000)
    assert torch.equal(a.samples, b.samples) and not torch.equal(a.samples, c.samples)


def test_a_new_generator_entry_is_one_line(monkeypatch, gmm8):
    """E.g. ``generator_flow`` = forward KL with the online flow estimator, on gmm8."""
    target, reference = gmm8
    entry = generator_method("generator_flow", "forward_kl", "flow", "forward KL, flow estimator")
    monkeypatch.setitem(METHODS, "generator_flow", entry)
    raw = yaml.safe_load(SMOKE.read_text())
    raw["baselines"]["methods"] = ["generator_flow"]
    raw["training"]["flow_estimator"] = {"warmup_steps": 20, "steps": 1, "hidden": 8}
    config = wgf.config.prepare(raw)
    settings = wgf.config.baseline_settings(config, "gmm8", "generator_flow")
    assert settings["training"]["steps"] == raw["training"]["steps"]
    run, result = run_baseline("generator_flow", target, settings, 0, reference, EVALUATION, 1000)
    assert run.info["divergence"] == "forward_kl" and run.info["estimator"] == "flow"
    assert math.isfinite(result["mmd_median"])


def _rows(method, values):
    return [
        {
            "target": "t",
            "method": method,
            "divergence": "reverse_kl",
            "seed": s,
            "metric": k,
            "value": v,
        }
        for s in (0, 1)
        for k, v in values.items()
    ]


def test_break_even_counts_training_over_per_sample_cost():
    rows = _rows(
        "generator_kde",
        {
            "mmd_median": 0.02,
            "target_evaluations": 3e6,
            "train_wall_s": 30.0,
            "samples_per_s": 1e6,
            "mode_weight_tv": 0.01,
        },
    )
    curve = [
        {
            "steps": 10,
            "mmd_median": 0.1,
            "mode_weight_tv": 0.2,
            "target_evaluations_per_sample": 22.0,
            "wall_per_sample_s": 1e-5,
        },
        {
            "steps": 100,
            "mmd_median": 0.015,
            "mode_weight_tv": 0.05,
            "target_evaluations_per_sample": 202.0,
            "wall_per_sample_s": 1e-4,
        },
    ]
    res = break_even(rows, {}, curve, "t")
    mmd = res["mmd_median"]
    assert mmd["reached"] and mmd["mala_steps"] == 100
    assert mmd["break_even_evaluations"] == pytest.approx(3e6 / 202)
    assert mmd["break_even_wall"] == pytest.approx(30.0 / (1e-4 - 1e-6))
    tv = res["mode_weight_tv"]  # 0.05 > 0.01 at the largest budget: an upper bound
    assert not tv["reached"] and tv["break_even_evaluations"] == pytest.approx(3e6 / 202)


def test_published_protocol_separates_exact_from_collapsed_samples():
    target = build_target("gmm40")
    exact = target.sample(1000, torch.Generator().manual_seed(1)).numpy()
    good = published_protocol(target, exact, seed=2)
    collapsed = np.repeat(exact[:1], 1000, axis=0)
    bad = published_protocol(target, collapsed, seed=2)
    assert good["n"] == 1000 and good["mode_tv"] < 0.1 < bad["mode_tv"]
    assert good["x_w2"] < bad["x_w2"] / 3


def test_dry_run_lists_one_baseline_job_per_target_method_seed(tmp_path):
    raw = yaml.safe_load(SMOKE.read_text())
    config = wgf.config.prepare(copy.deepcopy(raw))
    cmd = [
        str(Path(sys.executable).parent / "snakemake"),
        "-n",
        "--quiet",
        "rules",
        "-s",
        str(REPO / "Snakefile"),
        "--directory",
        str(tmp_path),
        "--configfile",
        str(SMOKE),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    jobs = job_counts(done.stdout + done.stderr)
    methods = config["baselines"]["methods"]
    samplers = [m for m in methods if get_method(m).kind == "sampler"]
    per = len(config["targets"]) * len(config["seeds"])
    assert jobs["baseline_sampler"] == len(samplers) * per
    assert jobs["baseline_onestep"] == (len(methods) - len(samplers)) * per
    assert jobs["table_comparison"] == 1 and jobs["figure_comparison"] == 1


def test_mala_cost_figure(tmp_path):
    curve = [
        {"target_evaluations_per_sample": e, "mmd_median": m} for e, m in ((8, 0.1), (62, 0.02))
    ]
    best = {
        "best_method": "generator_kde",
        "best_divergence": "reverse_kl",
        "train_evaluations": 3e6,
        "train_wall_s": 30.0,
        "mmd_median": {
            "reached": True,
            "mala_steps": 30,
            "break_even_evaluations": 5e4,
            "break_even_wall": 1e6,
        },
    }
    path = tmp_path / "cost.pdf"
    plot_mala_cost("gmm8", {"mala": curve}, {"generator_kde reverse_kl": 0.03}, best, [path])
    assert path.stat().st_size > 5_000
