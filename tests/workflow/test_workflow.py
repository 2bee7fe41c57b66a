"""Real Snakemake runs of the workflow on the smoke config (and dry runs of the default one)."""

import csv
import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, job_counts, smoke_raw, snakemake
from wgf import plan
from wgf.baselines import get_method
from wgf.config import DEFAULTS

pytestmark = pytest.mark.slow


def test_default_config_lists_one_training_job_per_run(tmp_path):
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")
    done = snakemake(tmp_path, "-n", "--quiet", "rules", config=None)
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    grid = len(config["targets"]) * len(config["divergences"]) * len(config["seeds"])
    # The LV-reference figure adds lv_q and lv_flow on gmm8 and gmm2hard16 (its other columns,
    # reverse_kl and lv, are grid runs).
    extra = 2 * 2 * len(config["seeds"])
    assert grid == 63
    assert job_counts(done.stdout + done.stderr)["train"] == grid + extra == 75


def test_one_figure_builds_only_what_it_needs(tmp_path):
    done = snakemake(tmp_path, "results/figures/samples_gmm8.pdf", "-n", "--quiet", "rules")
    assert done.returncode == 0, done.stderr
    jobs = job_counts(done.stdout + done.stderr)
    n_runs = len(smoke_raw()["divergences"])  # the figure uses one seed of every divergence
    # check_config is a target of `all` only (rule check_config says why).
    assert jobs == {
        "build_target": 1,
        "train": n_runs,
        "evaluate": n_runs,
        "figure_samples": 1,
    }


def test_dry_run_lists_one_baseline_job_per_target_method_seed(tmp_path):
    config = plan.prepare(smoke_raw())
    done = snakemake(tmp_path, "-n", "--quiet", "rules")
    assert done.returncode == 0, done.stderr
    jobs = job_counts(done.stdout + done.stderr)
    methods = config["baselines"]["methods"]
    samplers = [m for m in methods if get_method(m).kind == "sampler"]
    per = len(config["targets"]) * len(plan.baseline_seeds(config))
    assert plan.baseline_seeds(config) == [0] != config["seeds"]  # baselines.seeds: fewer jobs
    assert jobs["baseline_sampler"] == len(samplers) * per
    assert jobs["baseline_onestep"] == (len(methods) - len(samplers)) * per
    assert jobs["table_comparison"] == 1 and jobs["figure_comparison"] == 1


# Errors found while Snakemake builds the DAG (structure, names: wgf.plan.prepare).
DAG_ERRORS = [
    ({"divergences": ["reverse_kl", "kl"]}, "divergences[1]"),
    ({"training": {"tau_init": -0.5}}, "tau_init"),
    ({"generator": {"latent_dim": 0}}, "latent_dim"),
    ({"training": {"stepz": 10}}, "stepz"),
    # Schema errors are wgf.plan.prepare's (Snakemake's own validate() is gone), named its way.
    ({"training": {"lr": "fast"}}, "config key 'training.lr'"),
]
# Errors that need torch: the first job, check_config, fails before any other job runs.
JOB_ERRORS = [
    (
        {
            "targets": {
                "bad": {
                    "kind": "mixture",
                    "params": {"means": [[0, 0]], "stds": 1.0, "weights": [0.7]},
                }
            }
        },
        "targets.bad",
    ),
    (
        {"targets": {"bad": {"kind": "energy", "params": {"function": "no_such:f", "dim": 2}}}},
        "targets.bad",
    ),
    (
        {
            "targets": {
                "bad": {
                    "kind": "energy",
                    "params": {"function": "tests.energies:always_nan", "dim": 2},
                }
            }
        },
        "targets.bad",
    ),
]


def _run_bad(tmp_path, override):
    config = smoke_raw()
    config.update(override)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    return snakemake(tmp_path, "--cores", "1", config=path)


@pytest.mark.parametrize(("override", "key"), DAG_ERRORS)
def test_bad_config_fails_before_any_job(tmp_path, override, key):
    done = _run_bad(tmp_path, override)
    assert done.returncode != 0
    assert key in done.stderr + done.stdout
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(("override", "key"), JOB_ERRORS)
def test_bad_target_fails_in_the_first_job(tmp_path, override, key):
    """The run fails in check_config, naming the key, before any target is built or trained:
    results/ holds nothing but that job's log and benchmark."""
    done = _run_bad(tmp_path, override)
    assert done.returncode != 0
    assert key in done.stderr + done.stdout
    assert "check_config" in done.stderr + done.stdout
    results = tmp_path / "results"
    assert not (results / "targets").exists() and not (results / "runs").exists()
    files = [p.relative_to(results) for p in results.rglob("*") if p.is_file()]
    assert files and all(p.parts[0] in ("logs", "benchmarks") for p in files), files


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory) -> Path:
    """One real run of the smoke workflow, shared by the tests below."""
    workdir = tmp_path_factory.mktemp("smoke")
    done = snakemake(workdir, "--cores", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    return workdir


def test_smoke_workflow_end_to_end(smoke_run):
    tmp_path = smoke_run
    smoke = smoke_raw()
    results = tmp_path / "results"
    with open(results / "tables" / "main.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["target", "method", "divergence", "seed", "metric", "value"]
    methods = smoke["baselines"]["methods"]
    generators = [r for r in rows if r["method"] == "generator_kde"]  # the main grid
    runs = {(r["target"], r["divergence"], r["seed"]) for r in generators}
    assert len(runs) == len(smoke["targets"]) * len(smoke["divergences"]) * len(smoke["seeds"])
    flows = {r["target"] for r in rows if r["method"] == "reference_flow"}
    assert flows == set(smoke["targets"])  # the reference flow as a one-step sampler
    # the floor: exact samples in place of a sampler's, evaluation.floor_draws draws per target
    floors = {(r["target"], r["seed"]) for r in rows if r["method"] == "exact_vs_exact"}
    draws = DEFAULTS["evaluation"]["floor_draws"]
    assert floors == {(t, str(k)) for t in smoke["targets"] for k in range(draws)}
    floor_mmd = [
        float(r["value"])
        for r in rows
        if r["method"] == "exact_vs_exact" and r["metric"] == "mmd_median"
    ]
    grid_mmd = [float(r["value"]) for r in generators if r["metric"] == "mmd_median"]
    assert max(floor_mmd) < min(grid_mmd)  # 40 training steps: far from the floor
    one_step = ("reference_flow", "exact_vs_exact")
    others = [r for r in rows if r not in generators and r["method"] not in one_step]
    baselines = {(r["target"], r["method"], r["seed"]) for r in others}
    n_baselines = len(smoke["targets"]) * len(methods) * len(smoke["baselines"]["seeds"])
    assert len(baselines) == n_baselines
    metrics = {r["metric"] for r in rows}
    assert {"mmd_median", "w2", "sinkhorn", "mode_weight_max_error", "emc"} <= metrics
    # Clock measurements live apart, so that main.csv is reproducible byte for byte.
    with open(results / "tables" / "timings.csv", newline="") as fh:
        timings = {r["metric"] for r in csv.DictReader(fh)}
    assert {"train_wall_s", "time_per_step_s", "samples_per_s"} <= timings
    assert not timings & metrics
    assert not list(results.glob("checkpoints/**/*.pt"))  # removed once the outputs exist
    summary = (results / "tables" / "main.md").read_text()
    assert "± " in summary and "## gmm2hard16" in summary
    for target in smoke["targets"]:
        for name in (f"samples_{target}.pdf", f"samples_{target}.png", f"training_{target}.pdf"):
            assert (results / "figures" / name).stat().st_size > 10_000
    assert (results / "figures" / "lv_reference.pdf").stat().st_size > 10_000
    comparison = (results / "tables" / "comparison.md").read_text()
    assert all(f"| {m} |" in comparison for m in smoke["baselines"]["methods"])
    assert "| exact_vs_exact | floor |" in comparison and "| reference_flow | flow |" in comparison
    assert "break-even" in comparison
    assert (results / "figures" / "comparison_gmm8.pdf").stat().st_size > 10_000
    for rule in ("build_target", "train", "evaluate", "figure_samples", "figure_training"):
        assert any((results / "logs" / rule).rglob("*.log")), rule
        assert any((results / "benchmarks" / rule).rglob("*.tsv")), rule
    # Nothing left to do: the outputs are complete and consistent.
    again = snakemake(tmp_path, "-n", "--cores", "1")
    assert "Nothing to be done" in again.stdout + again.stderr


def test_a_changed_setting_reruns_what_it_affects_in_one_go(smoke_run, tmp_path):
    """A training setting changed after a complete run: one `snakemake` reruns the config check,
    every training run and what follows from them; no target, floor, reference flow or sampler
    baseline. (With the check as an ancient() input of build_target, Snakemake 9 reran the check
    alone and called the workflow done.)"""
    config = smoke_raw()
    config["training"]["lr_final_ratio"] = 0.2
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(config))
    done = snakemake(smoke_run, "-n", "--quiet", "rules", config=path)
    assert done.returncode == 0, done.stderr[-3000:]
    jobs = job_counts(done.stdout + done.stderr)
    grid = len(config["targets"]) * len(config["divergences"]) * len(config["seeds"])
    assert jobs["check_config"] == 1
    assert jobs["train"] >= grid and jobs["evaluate"] >= grid and jobs["table_main"] == 1
    assert not {"build_target", "exact_floor", "reference_flow", "baseline_sampler"} & set(jobs)


def test_workflow_is_deterministic(small_run, tmp_path):
    """A second run from scratch of the small config (tests/workflow/conftest.py: every kind of
    row of main.csv) gives main.csv byte for byte."""
    done = snakemake(tmp_path, "--cores", "2", "results/tables/main.csv", config=small_run.config)
    assert done.returncode == 0, done.stderr[-3000:]
    main = (tmp_path / "results/tables/main.csv").read_bytes()
    assert main == (small_run.workdir / "results/tables/main.csv").read_bytes()
    assert b"generator_kde" in main and b"mala" in main and b"exact_vs_exact" in main
    assert b"flow_reverse_kl" in main and b"reference_flow" in main
