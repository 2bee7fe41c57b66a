"""Faults through real Snakemake runs: a training job killed half-way resumes from its checkpoint
and ends exactly where an uninterrupted run ends; a diverging run leaves no result behind."""

import json
import os
import signal
import subprocess
import time

import pytest
import torch
import yaml

from tests.conftest import snakemake, snakemake_command, snakemake_env
from wgf.reporting.rows import is_timing

pytestmark = pytest.mark.slow

STEPS = 1200
RUN = "results/runs/gmm8/reverse_kl/seed0"
STATE = "results/checkpoints/gmm8/reverse_kl/seed0/state.pt"
LOG = "results/logs/train/gmm8/reverse_kl/seed0.log"
TINY = {
    "seeds": [0],
    "divergences": ["reverse_kl"],
    "targets": {"gmm8": {}},
    "target_samples": 1000,
    "training": {
        "steps": STEPS,
        "batch_size": 500,
        "log_every": 100,
        "checkpoint_every": 50,
        "device": "cpu",
    },
    "generator": {"hidden": 32, "layers": 2},
    "evaluation": {"n_samples": 1000, "n_ot": 300, "monitor_samples": 200},
}


def _config(workdir, raw):
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _checkpoint_step(path) -> int:
    try:
        return int(torch.load(path, weights_only=True)["step"])
    except Exception:  # not there yet
        return -1


def _metrics(workdir) -> dict[str, float]:
    data = json.loads((workdir / RUN / "metrics.json").read_text())
    return {k: v for k, v in data.items() if not is_timing(k)}


def test_killed_training_resumes_and_matches_an_uninterrupted_run(tmp_path):
    plain, killed = tmp_path / "plain", tmp_path / "killed"
    for workdir in (plain, killed):
        workdir.mkdir()
    target = f"{RUN}/metrics.json"
    done = snakemake(plain, "--cores", "1", target, config=_config(plain, TINY))
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (plain / STATE).exists()

    cmd = snakemake_command(killed, "--cores", "1", target, config=_config(killed, TINY))
    with open(killed / "console.txt", "w") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=killed,
            env=snakemake_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the kill takes the job with it
        )
        deadline = time.monotonic() + 120
        while _checkpoint_step(killed / STATE) < STEPS // 2:
            assert proc.poll() is None, "the workflow finished before the kill"
            assert time.monotonic() < deadline, "no checkpoint half-way through"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    saved = _checkpoint_step(killed / STATE)
    assert STEPS // 2 <= saved < STEPS
    assert not (killed / RUN / "run.json").exists()

    assert snakemake(killed, "--unlock", config=killed / "config.yaml").returncode == 0
    done = snakemake(
        killed, "--cores", "1", "--rerun-incomplete", target, config=killed / "config.yaml"
    )
    assert done.returncode == 0, done.stderr[-3000:]
    log = (killed / LOG).read_text()
    assert f"resumed from step {saved} of {STEPS}" in log
    assert not (killed / STATE).exists()
    assert json.loads((killed / RUN / "run.json").read_text())["resumed_from_step"] == saved

    assert _metrics(killed) == _metrics(plain)
    assert (killed / RUN / "samples.npy").read_bytes() == (plain / RUN / "samples.npy").read_bytes()
    a = torch.load(plain / RUN / "generator.pt", weights_only=True)["state_dict"]
    b = torch.load(killed / RUN / "generator.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_diverging_training_fails_and_leaves_no_result(tmp_path):
    raw = {
        **TINY,
        "targets": {
            "far": {
                "kind": "energy",
                "params": {"function": "tests.energies:nan_far", "dim": 2},
            }
        },
        "training": {**TINY["training"], "steps": 50},
    }
    run = "results/runs/far/reverse_kl/seed0"
    done = snakemake(tmp_path, "--cores", "1", f"{run}/run.json", config=_config(tmp_path, raw))
    assert done.returncode != 0
    log = (tmp_path / "results/logs/train/far/reverse_kl/seed0.log").read_text()
    assert "TrainingDiverged" in log and "reverse_kl" in log and "non-finite at step" in log
    assert not (tmp_path / run).exists() or not any((tmp_path / run).iterdir())
    # retries: 1 -> the job was attempted twice before the workflow gave up.
    assert (done.stdout + done.stderr).count("Error in rule train") == 2
