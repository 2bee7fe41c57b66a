"""``python -m wgf`` as a user runs it, in a subprocess: training writes its run, or nothing when
it diverges; the flow estimator of q from the command line. Each test starts the interpreter
twice (about 10 s), hence here among the slow tests."""

import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def _wgf(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m wgf ARGS`` from the repository root (user energies ``tests.energies:...``
    importable), on one thread."""
    cmd = [sys.executable, "-m", "wgf", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env)


def test_cli_trains_and_writes_nothing_on_divergence(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--target", "gmm8", "--divergence", "forward_kl", "--seed", "0"]
    done = _wgf(*args, "--out", str(out), "--steps", "5", "--device", "cpu")
    assert done.returncode == 0, done.stderr
    assert {p.name for p in out.iterdir()} == {"generator.pt", "history.csv", "run.json"}

    config = tmp_path / "bad.yaml"
    spec = {"kind": "energy", "params": {"function": "tests.energies:nan_far", "dim": 2}}
    config.write_text(yaml.safe_dump({"targets": {"far": spec}}))
    bad_out = tmp_path / "bad_run"
    args = ["train", "--target", "far", "--divergence", "reverse_kl", "--out", str(bad_out)]
    done = _wgf(*args, "--config", str(config), "--steps", "5", "--device", "cpu")
    assert done.returncode == 2
    assert "non-finite at step" in done.stderr and "reverse_kl" in done.stderr
    assert not bad_out.exists()


def test_cli_trains_with_the_flow_estimator(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--target", "gmm8", "--divergence", "js", "--out", str(out)]
    args += ["--steps", "3", "--device", "cpu", "--q-estimator"]
    done = _wgf(*args, "flow")
    assert done.returncode == 0, done.stderr
    info = json.loads((out / "run.json").read_text())
    assert info["config"]["estimator"] == "flow"
    bad = _wgf(*args, "magic")
    assert bad.returncode == 2 and "unknown score estimator 'magic'" in bad.stderr
