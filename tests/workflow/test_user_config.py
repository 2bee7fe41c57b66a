"""A user's own configuration, as a new user runs it: exactly its own grid, the optional figures
for its own 2-D target, bad numbers caught before any job, and the command line giving the
workflow's numbers for the same generator."""

import csv
import json
import math
import os
import shutil
import subprocess
import sys

import pytest
import torch
import yaml

from tests.conftest import REPO, job_counts, snakemake, snakemake_env
from wgf.reporting.rows import is_timing

pytestmark = pytest.mark.slow

# One 2-D mixture of the user's, tiny settings, one divergence, one seed, MALA only.
MINE = {
    "seeds": [0],
    "divergences": ["reverse_kl"],
    "targets": {
        "mine": {"kind": "mixture", "params": {"means": [[-2.0, 0.0], [2.0, 0.5]], "stds": 0.5}}
    },
    "target_samples": 500,
    "training": {"steps": 30, "batch_size": 200, "log_every": 10, "device": "cpu"},
    "generator": {"hidden": 32, "layers": 2},
    "evaluation": {"n_samples": 500, "n_ot": 200, "monitor_samples": 200},
    "reference": {"layers": 2, "hidden": 16, "steps": 40, "rounds": 2, "pool_size": 1000},
    "baselines": {"methods": ["mala"], "throughput_samples": 2000},
    "diagnostics": {"fields": {"targets": ["mine"]}, "regional_response": {"grid_n": 100}},
    "figures": {"comparison": {"targets": ["mine"]}, "lv_reference": {"targets": []}},
}


def _workdir(tmp_path, config=MINE):
    """``tmp_path`` as a copy of the repository root: the paper's config.yaml, and ``my.yaml``."""
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")
    (tmp_path / "my.yaml").write_text(yaml.safe_dump(config))
    return tmp_path / "my.yaml"


def test_own_config_runs_exactly_its_own_grid(tmp_path):
    mine = _workdir(tmp_path)
    done = snakemake(tmp_path, "-n", config=mine)
    assert done.returncode == 0, done.stderr
    out = done.stdout + done.stderr
    targets = {
        line.split("target=")[1].split(",")[0] for line in out.splitlines() if "target=" in line
    }
    assert targets == {"mine"}
    jobs = job_counts(out)
    assert jobs["train"] == 1 and jobs["baseline_sampler"] == 1 and jobs["build_target"] == 1
    # the optional figures, for the user's own 2-D target: they are config, not names in code
    assert jobs["fields"] == 1 and jobs["figure_comparison"] == 1
    assert "table_published" not in jobs and "baseline_onestep" not in jobs
    assert "results/figures/fields_mine.pdf" in out

    # the control: without --configfile the paper's config.yaml is the grid ...
    paper = snakemake(tmp_path, "-n", "--quiet", "rules", config=None)
    assert paper.returncode == 0, paper.stderr
    assert job_counts(paper.stdout + paper.stderr)["train"] == 75
    # ... and --config alone adjusts it: reverse KL alone on the 3 targets and 3 seeds, plus
    # the LV-reference figure's lv_q, lv_flow and lv on gmm8 and gmm2hard16
    args = ("-n", "--quiet", "rules", "--config", 'divergences=["reverse_kl"]')
    one = snakemake(tmp_path, *args, config=None)
    assert one.returncode == 0, one.stderr
    assert job_counts(one.stdout + one.stderr)["train"] == 3 * 3 + 3 * 2 * 3


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"means": [[0.0, math.nan], [2.0, 0.5]], "stds": 0.5}, "targets.mine.params.means[0][1]"),
        (
            {"means": [[0.0, 0.0], [2.0, 0.5]], "stds": [0.5, math.inf]},
            "targets.mine.params.stds[1]",
        ),
    ],
)
def test_non_finite_target_parameters_fail_before_any_job(tmp_path, params, key):
    config = {**MINE, "targets": {"mine": {"kind": "mixture", "params": params}}}
    mine = _workdir(tmp_path, config)
    assert ".nan" in mine.read_text() or ".inf" in mine.read_text()
    done = snakemake(tmp_path, "-n", config=mine)
    assert done.returncode != 0
    assert f"config key '{key}'" in done.stdout + done.stderr
    done = snakemake(tmp_path, "--cores", "1", config=mine)
    assert done.returncode != 0
    assert not (tmp_path / "results").exists()


def _wgf(*args):
    cmd = [sys.executable, "-m", "wgf", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=snakemake_env())


def test_command_line_gives_the_workflows_numbers(tmp_path):
    """The same generator from ``wgf train`` and rule ``train`` (weights bit for bit, the same
    history), and the same metrics from ``wgf evaluate`` and rule ``evaluate``."""
    mine = _workdir(tmp_path)
    run = "results/runs/mine/reverse_kl/seed0"
    done = snakemake(tmp_path, "--cores", "2", f"{run}/metrics.json", config=mine)
    assert done.returncode == 0, done.stderr[-3000:]
    workflow = tmp_path / run

    cli = tmp_path / "cli"
    args = ["--target", "mine", "--config", str(mine)]
    done = _wgf("train", *args, "--divergence", "reverse_kl", "--seed", "0", "--out", str(cli))
    assert done.returncode == 0, done.stderr
    a = torch.load(workflow / "generator.pt", weights_only=True)
    b = torch.load(cli / "generator.pt", weights_only=True)
    assert a["hparams"] == b["hparams"]
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])
    history = {}
    for name, path in (("workflow", workflow), ("cli", cli)):
        rows = (path / "history.csv").read_text().splitlines()
        header = rows[0].split(",")
        keep = [i for i, h in enumerate(header) if not is_timing(h)]
        history[name] = [[row.split(",")[i] for i in keep] for row in rows]
    assert history["workflow"] == history["cli"]  # the monitor included (mmd, undercoverage)
    assert "undercoverage" in (workflow / "history.csv").read_text().splitlines()[0]
    info = [json.loads((p / "run.json").read_text()) for p in (workflow, cli)]
    assert info[0]["config"] == info[1]["config"]

    expected = json.loads((workflow / "metrics.json").read_text())
    for checkpoint in (workflow / "generator.pt", cli / "generator.pt"):
        out = tmp_path / f"{checkpoint.parent.name}_metrics.json"
        done = _wgf("evaluate", str(checkpoint), *args, "--out", str(out))
        assert done.returncode == 0, done.stderr
        got = json.loads(out.read_text())
        assert set(got) == set(expected)
        assert {k: v for k, v in got.items() if not is_timing(k)} == {
            k: v for k, v in expected.items() if not is_timing(k)
        }


ENERGIES = '''
import torch


def ring(x):
    """A ring of radius 3 and width 0.3 in the plane."""
    return (x.norm(dim=-1) - 3.0).square() / (2 * 0.3**2)


def banana(x):
    """A banana in 5-D: x1 bent by x0, the others standard normal."""
    bent = x[:, 1] - 0.5 * x[:, 0].square()
    return 0.5 * (x[:, 0].square() / 4 + bent.square() / 0.25 + x[:, 2:].square().sum(-1))
'''


def test_a_users_own_energy_runs_every_rule(tmp_path):
    """The README's route for an energy of one's own, defined outside the package: every rule of
    the default workflow completes, scoring by the kernel Stein discrepancy (no exact samples),
    with no floor rows and every figure drawn."""
    module = tmp_path / "mine"
    module.mkdir()
    (module / "my_energies.py").write_text(ENERGIES)
    config = {
        **MINE,
        "divergences": ["forward_kl"],
        "targets": {
            "ring": {"kind": "energy", "params": {"function": "my_energies:ring", "dim": 2}},
            "banana": {"kind": "energy", "params": {"function": "my_energies:banana", "dim": 5}},
        },
        "baselines": {"methods": ["mala"], "throughput_samples": 2000},
        # the vector fields need a 2-D mixture's log Z: for an energy, config check refuses them
        "diagnostics": {"fields": {"targets": []}, "regional_response": {"grid_n": 100}},
        "figures": {"comparison": {"targets": ["ring"]}, "lv_reference": {"targets": []}},
    }
    work = tmp_path / "work"
    work.mkdir()
    mine = _workdir(work, config)
    env = snakemake_env(PYTHONPATH=f"{module}{os.pathsep}{REPO}")
    done = snakemake(work, "--cores", "2", config=mine, env=env)
    assert done.returncode == 0, done.stderr[-4000:]
    for target in ("ring", "banana"):
        for figure in ("samples", "training", "mala_cost", "energy"):
            assert (work / f"results/figures/{figure}_{target}.pdf").stat().st_size > 5000
        # the reference flow's log Ẑ and ESS, with log Z unknown (–)
        line = next(
            ln
            for ln in (work / "results/tables/reference.md").read_text().splitlines()
            if ln.startswith(f"| {target} |")
        )
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert math.isfinite(float(cells[3])) and cells[4] == "–" and 0 < float(cells[6]) <= 1
        energy = (work / f"results/tables/energy_{target}.md").read_text()
        assert "| mala vs mala |" in energy and "| generator forward_kl |" in energy
        assert "not an exact sample" in energy
    rows = [r for r in csv.DictReader(open(work / "results/tables/main.csv"))]
    ksd = {
        (r["target"], r["method"], r["divergence"]): float(r["value"])
        for r in rows
        if r["metric"] == "ksd"
    }
    for target in ("ring", "banana"):
        for div in config["divergences"]:
            assert math.isfinite(ksd[(target, "generator_kde", div)])
        assert math.isfinite(ksd[(target, "mala", "-")])
    assert not any(r["method"] == "exact_vs_exact" for r in rows)
    assert not any(r["metric"] == "mmd_median" for r in rows)
    history = list(csv.DictReader(open(work / "results/runs/ring/forward_kl/seed0/history.csv")))
    assert all(math.isfinite(float(r["ksd"])) for r in history if r.get("ksd"))
    main_md = (work / "results/tables/main.md").read_text()
    assert "| ksd" in main_md or " ksd |" in main_md
    be = json.loads((work / "results/tables/break_even.json").read_text())
    assert {b["target"] for b in be} == {"ring", "banana"} and all("ksd" in b for b in be)
