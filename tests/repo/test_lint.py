"""The repository's own style gates: ruff on Python, snakefmt on the workflow."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_ruff_clean():
    done = subprocess.run(
        [str(BIN / "ruff"), "check", "."], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout


def test_snakefmt_clean():
    cmd = [str(BIN / "snakefmt"), "--check", "Snakefile", "workflow"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
