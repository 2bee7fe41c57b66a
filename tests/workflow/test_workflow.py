"""Real Snakemake runs of the workflow on the smoke config (and dry runs of the default one)."""

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.snakemake_output import job_counts

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SMOKE = REPO / "tests" / "smoke" / "config.yaml"


def snakemake_command(workdir: Path, *args: str, config: Path | None = SMOKE) -> list[str]:
    """``--configfile`` goes last as it takes several values."""
    cmd = [str(BIN / "snakemake"), *args, "-s", str(REPO / "Snakefile")]
    cmd += ["--directory", str(workdir)]
    if config is not None:
        cmd += ["--configfile", str(config)]
    return cmd


def snakemake_env() -> dict[str, str]:
    """The environment with the repository importable (user energies ``tests.energies:...``)."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path}


def snakemake(workdir: Path, *args: str, config: Path | None = SMOKE):
    """Run the workflow in ``workdir``."""
    cmd = snakemake_command(workdir, *args, config=config)
    return subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, env=snakemake_env())


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
    smoke = yaml.safe_load(SMOKE.read_text())
    n_runs = len(smoke["divergences"])  # the figure uses one seed of every divergence
    assert jobs == {"build_target": 1, "train": n_runs, "evaluate": n_runs, "figure_samples": 1}


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ({"divergences": ["reverse_kl", "kl"]}, "divergences[1]"),
        ({"training": {"tau_init": -0.5}}, "tau_init"),
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
        ({"generator": {"latent_dim": 0}}, "latent_dim"),
        ({"training": {"stepz": 10}}, "stepz"),
        # Snakemake's own schema validation runs first and names it its way.
        ({"training": {"lr": "fast"}}, "['training']['lr']"),
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
    ],
)
def test_bad_config_fails_before_any_job(tmp_path, override, key):
    config = yaml.safe_load(SMOKE.read_text())
    config.update(override)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    done = snakemake(tmp_path, "--cores", "1", config=path)
    assert done.returncode != 0
    assert key in done.stderr + done.stdout
    assert not (tmp_path / "results").exists()


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory) -> Path:
    """One real run of the smoke workflow, shared by the tests below."""
    workdir = tmp_path_factory.mktemp("smoke")
    done = snakemake(workdir, "--cores", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    return workdir


def test_smoke_workflow_end_to_end(smoke_run):
    tmp_path = smoke_run
    smoke = yaml.safe_load(SMOKE.read_text())
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
    others = [r for r in rows if r not in generators and r["method"] != "reference_flow"]
    baselines = {(r["target"], r["method"], r["seed"]) for r in others}
    n_baselines = len(smoke["targets"]) * len(methods) * len(smoke["seeds"])
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
    assert "break-even" in comparison
    assert (results / "figures" / "comparison_gmm8.pdf").stat().st_size > 10_000
    for rule in ("build_target", "train", "evaluate", "figure_samples", "figure_training"):
        assert any((results / "logs" / rule).rglob("*.log")), rule
        assert any((results / "benchmarks" / rule).rglob("*.tsv")), rule
    # Nothing left to do: the outputs are complete and consistent.
    again = snakemake(tmp_path, "-n", "--cores", "1")
    assert "Nothing to be done" in again.stdout + again.stderr


def test_smoke_workflow_is_deterministic(smoke_run, tmp_path):
    """A second run from scratch reproduces main.csv byte for byte."""
    done = snakemake(tmp_path, "--cores", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    main = "results/tables/main.csv"
    assert (tmp_path / main).read_bytes() == (smoke_run / main).read_bytes()
