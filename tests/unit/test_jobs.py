"""Workflow steps as functions: the floor of every metric, and one evaluation for every
one-step sampler."""

import math
import subprocess
import sys

import pytest
import torch

from wgf import jobs
from wgf.config import DEFAULTS
from wgf.density.flows import Flow
from wgf.generator import Generator
from wgf.reporting.rows import FLOOR_METHOD, run_rows
from wgf.targets import build_target, exact_samples

EVAL = {
    k: DEFAULTS["evaluation"][k]
    for k in ("n_ot", "sinkhorn_reg", "coverage_threshold", "ksd_samples")
}


def test_a_training_job_imports_neither_pot_nor_matplotlib():
    """Every job is a new process: what the train and reference-flow scripts import is paid
    ~150 times per reproduction. POT (with scipy) and matplotlib (which nflows'
    ``distributions`` package pulls in) cost about 3 s of a 3.5 s start-up; they are imported
    where used (the OT metrics, the figures)."""
    code = (
        "import sys, wgf.jobs, wgf.training, wgf.reference, wgf.density.flows;"
        "heavy = [m for m in ('ot', 'scipy', 'matplotlib') if m in sys.modules];"
        "assert not heavy, heavy"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def gmm40_floor():
    """Five draws of gmm40's floor: 2000 vs 2000 samples, and the published 1000 vs 1000."""
    target = build_target("gmm40")
    ev = {**EVAL, "n_samples": 2000, "n_ot": 500, "seed": 12345}
    exact = exact_samples(target, 2000, ev["seed"])
    return jobs.exact_floor(target, exact, ev, draws=5, published_n=1000)


def test_published_floor_of_gmm40_is_the_published_exact_vs_exact(gmm40_floor):
    """DEM/iDEM protocol, exact against exact: 4.16 ± 0.60 over 25 batches (iDEM; ICLR 2025 blog
    'a need for a course correction', Table 1). Five draws: their mean lies within 3 standard
    errors of 4.16 (0.60 / √5 = 0.27), and the mode TV is that of two multinomial draws."""
    w2 = [d["x_w2"] for d in gmm40_floor["published"]]
    assert len(w2) == 5 and abs(sum(w2) / 5 - 4.16) < 3 * 0.60 / math.sqrt(5)
    tv = [d["mode_tv"] for d in gmm40_floor["published"]]
    # E TV of 1000 draws over 40 equal modes ≈ ½·40·√(2/π · (1/40)(39/40)/1000) ≈ 0.079
    assert all(0.03 < t < 0.15 for t in tv)


def test_floor_metrics_are_small_and_vary_between_draws(gmm40_floor):
    metrics = gmm40_floor["metrics"]
    assert len(metrics) == 5
    mmd = [m["mmd_median"] for m in metrics]
    assert all(0 < v < 0.05 for v in mmd) and len(set(mmd)) == 5  # independent draws
    assert all(m["mode_coverage"] == 1.0 for m in metrics)
    # 2000 samples over 40 equal modes: each weight within a few binomial errors of 1/40
    err = math.sqrt((1 / 40) * (39 / 40) / 2000)
    assert all(m["mode_weight_max_error"] < 5 * err for m in metrics)


def test_floor_rows_are_method_exact_vs_exact_one_seed_per_draw(gmm40_floor):
    runs = jobs.floor_runs(gmm40_floor)
    rows = [r for info, m, source in runs for r in run_rows(info, m, source)]
    assert {r["method"] for r in rows} == {FLOOR_METHOD}
    assert {r["seed"] for r in rows} == set(range(5)) and {r["divergence"] for r in rows} == {"-"}


def test_no_floor_without_an_exact_sampler():
    target = build_target(
        "e", {"kind": "energy", "params": {"function": "tests.energies:quadratic", "dim": 2}}
    )
    floor = jobs.exact_floor(
        target, torch.zeros(0, 2), {**EVAL, "n_samples": 100, "seed": 0}, 3, 100
    )
    assert floor["metrics"] == [] and jobs.floor_runs(floor) == []


@pytest.mark.parametrize("kind", ["generator", "flow"])
def test_every_one_step_sampler_is_evaluated_alike(kind):
    target = build_target("gmm8")
    torch.manual_seed(0)
    model = (
        Generator(2, 2, hidden=16, layers=2) if kind == "generator" else Flow(2, layers=1, hidden=8)
    )
    ev = {**EVAL, "n_samples": 500, "n_ot": 100, "seed": 3}
    exact = exact_samples(target, 500, 0)
    samples, metrics = jobs.evaluate_one_step(target, model, exact, ev, throughput_samples=2000)
    assert samples.shape == (500, 2)
    assert metrics["target_evaluations_per_sample"] == 0.0 and metrics["samples_per_s"] > 0
    again = jobs.evaluate_one_step(target, model, exact, ev, throughput_samples=2000)[1]
    assert {k: v for k, v in again.items() if k != "samples_per_s"} == {
        k: v for k, v in metrics.items() if k != "samples_per_s"
    }


def test_a_reference_flow_with_non_finite_samples_fails_its_own_job():
    """A diverged ν (seen: importance-weighted ML on manywell32, 257 of 10 000 samples not
    finite) fails the reference_flow job, naming the count, log Ẑ and ESS; finite samples pass."""
    info = {"log_z_hat": -58.0, "ess": 2e-5}
    samples = torch.randn(100, 3)
    jobs.require_finite_reference(samples, "manywell32", info)
    samples[[4, 17], 1] = float("inf")
    samples[60, 0] = float("nan")
    with pytest.raises(FloatingPointError, match=r"manywell32: 3 of 100 .*-58.*2e-05"):
        jobs.require_finite_reference(samples, "manywell32", info)
