"""The repository's own style gates: ruff on Python, snakefmt and Snakemake's linter on the
workflow."""

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


def test_snakemake_lint_clean():
    """``snakemake --lint`` on the default config (it found rules and functions mixed in one
    rule file, logs or benchmarks missing, and the like)."""
    done = subprocess.run(
        [str(BIN / "snakemake"), "--lint"], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Congratulations" in done.stdout + done.stderr
