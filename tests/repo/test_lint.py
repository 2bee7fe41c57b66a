"""The repository's own style gates: ruff on Python, snakefmt on the workflow."""

import subprocess

from tests.conftest import BIN, REPO


def test_ruff_clean():
    done = subprocess.run(
        [str(BIN / "ruff"), "check", "."], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout


def test_snakefmt_clean():
    cmd = [str(BIN / "snakefmt"), "--check", "Snakefile", "workflow"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
