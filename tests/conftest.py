"""What several test files share: the repository's paths, running Snakemake on it and reading
its console output, and fixtures.

``tests/unit/`` mirrors ``src/wgf`` and runs in seconds; ``tests/workflow/`` runs the real
workflow (Snakemake, SLURM) and is marked ``slow`` (``pytest -m "not slow"`` leaves it out).
Plain helpers that need torch live in :mod:`tests.helpers`; user energies for configs in
:mod:`tests.energies` (referenced as ``tests.energies:<name>``).

Only ``tests/`` itself is a package: pytest imports this file as ``tests.conftest``, which puts
the repository root on ``sys.path`` (so ``tests.*`` imports work from any directory), and every
test file below by its basename, so basenames must stay unique across ``tests/``.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the virtual environment's scripts: snakemake, ruff, ...
SMOKE = REPO / "tests" / "smoke" / "config.yaml"
SNAKEFILE = REPO / "Snakefile"


@cache
def _smoke() -> dict[str, Any]:
    return yaml.safe_load(SMOKE.read_text())


def smoke_raw() -> dict[str, Any]:
    """The smoke configuration as written (a fresh copy: edit it freely)."""
    return copy.deepcopy(_smoke())


# --------------------------------------------------------------------------- Snakemake


def snakemake_command(
    workdir: Path, *args: str, config: Path | None = SMOKE, snakefile: Path = SNAKEFILE
) -> list[str]:
    """The command running ``snakefile`` in ``workdir``; ``--configfile`` goes last as it takes
    several values (``config=None``: none, the Snakefile's own ``configfile:``)."""
    cmd = [str(BIN / "snakemake"), *args, "-s", str(snakefile), "--directory", str(workdir)]
    if config is not None:
        cmd += ["--configfile", str(config)]
    return cmd


def snakemake_env(**extra: str) -> dict[str, str]:
    """The environment with the repository importable (user energies ``tests.energies:...``) and
    this interpreter's scripts first on ``PATH``, plus ``extra``."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    bins = os.pathsep.join(p for p in (str(BIN), os.environ.get("PATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "PATH": bins, **extra}


def snakemake(
    workdir: Path,
    *args: str,
    config: Path | None = SMOKE,
    snakefile: Path = SNAKEFILE,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the workflow in ``workdir`` (``env``: default :func:`snakemake_env`)."""
    return subprocess.run(
        snakemake_command(workdir, *args, config=config, snakefile=snakefile),
        capture_output=True,
        text=True,
        cwd=workdir,
        env=snakemake_env() if env is None else env,
        timeout=timeout,
    )


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a (dry) run's console output as {rule: count}."""
    lines = output.split("Job stats:")[1].splitlines()[3:]
    counts = {}
    for line in lines:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        counts[parts[0]] = int(parts[1])
    return counts


# --------------------------------------------------------------------------- targets


def assert_score_is_minus_grad_energy(
    target: Any, x: Any, rtol: float, atol: float, log_p_rtol: float, log_p_atol: float
) -> None:
    """A target's analytic ``score`` and ``log_prob_and_score`` against autograd's ``−∇E`` at
    ``x``, and the latter's log-density against ``−E``."""
    import torch

    leaf = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(-target.energy(leaf).sum(), leaf)
    x = x.detach()
    torch.testing.assert_close(target.score(x), grad, rtol=rtol, atol=atol)
    log_p, score = target.log_prob_and_score(x)
    torch.testing.assert_close(score, grad, rtol=rtol, atol=atol)
    torch.testing.assert_close(log_p, -target.energy(x), rtol=log_p_rtol, atol=log_p_atol)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def one_thread():
    """One intra-op thread: on a shared machine, thread contention costs 100× in small flows
    and generators (``pytestmark = pytest.mark.usefixtures("one_thread")``)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
