"""The workflow on a real one-node SLURM, through snakemake-executor-plugin-slurm.

The fixture installs Debian's munge, slurmctld, slurmd and slurm-client (once; nothing is
installed when `slurmctld` is already there), starts a private cluster on this host only
(tests/slurm/start_slurm.sh: its own slurm.conf under a tmpdir, daemons on free loopback ports,
no accounting storage) and stops the daemons it started by their pids. The test runs a small
version of the smoke workflow with `--workflow-profile profiles/slurm-test` (no GPU requested)
and checks that every job went through SLURM and that the results equal a local run's.
It skips where it cannot be root or apt is unavailable, or where the install fails.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO, job_counts, snakemake

pytestmark = pytest.mark.slow
START = REPO / "tests" / "slurm" / "start_slurm.sh"
PROFILE = REPO / "profiles" / "slurm-test"
SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _stop(name: str, pid: int) -> None:
    """SIGTERM, then SIGKILL after 30 s; only the pids the start script recorded."""
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 5)):
        if not _alive(pid):
            return
        os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    if _alive(pid):
        print(f"could not stop {name} (pid {pid})")


def _pids(state: Path) -> list[tuple[str, int]]:
    """The (name, pid) of every daemon start_slurm.sh started, in start order."""
    path = state / "pids"
    lines = path.read_text().splitlines() if path.exists() else []
    return [(name, int(pid)) for name, pid in (line.split() for line in lines if line.strip())]


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A running one-node SLURM; yields the environment for its clients and the workflow."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("SLURM test needs root (to install and run munge/slurmctld/slurmd)")
    if not shutil.which("slurmctld") and not (shutil.which("apt-get") and shutil.which("dpkg")):
        pytest.skip("SLURM test needs apt-get and dpkg to install Debian's SLURM packages")
    if not shutil.which("setpriv"):
        pytest.skip("SLURM test needs setpriv (util-linux) to run munged as its user")
    state = tmp_path_factory.mktemp("slurm")
    env = {
        **os.environ,
        "SLURM_CONF": str(state / "slurm.conf"),
        # The jobs run `python -m snakemake` and the scripts with this interpreter (sbatch
        # exports the submitting environment).
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    ctld_port = _free_port()
    slurmd_port = _free_port()
    while slurmd_port == ctld_port:
        slurmd_port = _free_port()
    start = time.monotonic()
    try:
        done = subprocess.run(
            ["bash", str(START), str(state), str(ctld_port), str(slurmd_port)],
            capture_output=True,
            text=True,
            timeout=1200,
        )
        if done.returncode == 77:
            pytest.skip(f"cannot run SLURM here: {done.stderr.strip()[-500:]}")
        if done.returncode != 0:
            logs = "".join(
                f"\n--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(state.glob("log/*"))
            )
            pytest.fail(f"SLURM did not start:\n{done.stdout}\n{done.stderr}{logs}")
        print(f"\nSLURM up in {time.monotonic() - start:.1f} s: {_pids(state)}")
        print(done.stdout.strip())
        yield env
    finally:
        # Cancel whatever is left in this private cluster, then stop the daemons the start
        # script recorded (a munged that was already running is not among them).
        pids = _pids(state)
        if any(name == "slurmctld" for name, _ in pids):
            try:
                subprocess.run(["scancel", "--user", "root"], env=env, timeout=60)
            except (OSError, subprocess.SubprocessError) as err:
                print(f"scancel: {err}")
        for name, pid in reversed(pids):
            _stop(name, pid)
        # Configless slurmd links its cached slurm.conf here; drop the link into our tmpdir.
        link = Path("/run/slurm/conf")
        if link.is_symlink() and str(state) in os.readlink(link):
            link.unlink()


class StatePoller(threading.Thread):
    """Records every state `squeue` shows for every job of the cluster (sacct is unavailable)."""

    def __init__(self, env):
        super().__init__(daemon=True)
        self.env = env
        self.states: dict[str, list[str]] = {}
        self.comments: dict[str, str] = {}
        self.gres: dict[str, str] = {}
        self.stop = threading.Event()

    def poll(self):
        out = subprocess.run(
            ["squeue", "--states=all", "--noheader", "--format=%i|%T|%k|%b"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        for line in out.splitlines():
            jobid, state, comment, gres = line.strip().split("|", 3)
            seen = self.states.setdefault(jobid, [])
            if not seen or seen[-1] != state:
                seen.append(state)
            self.comments[jobid] = comment
            self.gres[jobid] = gres

    def run(self):
        while not self.stop.is_set():
            self.poll()
            self.stop.wait(0.5)


def _timed(workdir: Path, config: Path, *args: str, env=None, timeout=1500):
    """Run the workflow in ``workdir``; returns the finished process and its wall time."""
    start = time.monotonic()
    done = snakemake(workdir, *args, config=config, env=env, timeout=timeout)
    return done, time.monotonic() - start


def test_workflow_through_slurm_matches_local_run(slurm, small_run, tmp_path):
    # The small config of tests/workflow/conftest.py (gmm8, two divergences, one seed, MALA and
    # the reverse-KL flow) for main.csv and the gmm8 figures, run locally by the fixture.
    remote = tmp_path / "slurm"
    remote.mkdir()
    poller = StatePoller(slurm)
    poller.start()
    try:
        done, slurm_s = _timed(
            remote,
            small_run.config,
            *small_run.targets,
            "--workflow-profile",
            str(PROFILE),
            env=slurm,
        )
    finally:
        poller.stop.set()
        poller.join()
    poller.poll()  # the final states (finished jobs stay in squeue for MinJobAge = 300 s)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-5000:]

    submitted = SUBMITTED.findall(log)
    print(f"\nSLURM run: {slurm_s:.1f} s wall")
    print(f"{len(submitted)} jobs submitted through sbatch:")
    for _, slurm_id, _ in submitted:
        print(
            f"  {slurm_id:>4}  {poller.comments.get(slurm_id, '?'):<48} "
            f"{' -> '.join(poller.states.get(slurm_id, ['never seen']))}"
        )

    # Every job of the DAG went through sbatch ...
    expected = job_counts(log)
    assert len(submitted) == sum(expected.values())
    assert expected["train"] == 2
    for rule, n in expected.items():
        own = re.compile(rf"rule_{rule}(_wildcards|$)")  # not rule_evaluate_reference for evaluate
        assert sum(bool(own.match(poller.comments[s])) for _, s, _ in submitted) == n
    for _, slurm_id, logfile in submitted:
        # ... finished COMPLETED, asked for no GPU, and left its log under the SLURM log dir,
        # where the job's own Snakemake (the slurm-jobstep executor) ran the rule to its end.
        assert poller.states[slurm_id][-1] == "COMPLETED", (slurm_id, poller.states[slurm_id])
        assert "gpu" not in poller.gres[slurm_id], poller.gres[slurm_id]
        logfile = Path(logfile)
        rule = logfile.relative_to(remote / ".snakemake" / "slurm_logs").parts[0]
        assert logfile.name == f"{slurm_id}.log" and rule.startswith("rule_"), logfile
        text = logfile.read_text()
        assert "--executor slurm-jobstep" in text, logfile
        assert f"(Rule: {rule.removeprefix('rule_')})" in text, logfile

    # Same results: training and evaluation are deterministic on CPU with the same seeds.
    ours = (remote / "results/tables/main.csv").read_bytes()
    assert ours == (small_run.workdir / "results/tables/main.csv").read_bytes()
    print(f"main.csv ({len(ours.splitlines()) - 1} metric rows) identical to the local run's")
    for name in ("samples_gmm8.pdf", "samples_gmm8.png", "training_gmm8.pdf"):
        assert (remote / "results" / "figures" / name).stat().st_size > 10_000
