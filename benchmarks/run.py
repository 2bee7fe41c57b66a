"""The performance benchmarks: one command, one Markdown summary and one JSON of raw numbers.

    python benchmarks/run.py [--device cpu|cuda] [--reproduction DIR] [--quick]

writes ``results/benchmarks/summary.md`` and ``results/benchmarks/summary.json``. Every figure
that is a ratio is measured in one run, with the two sides interleaved (the machine is shared, so
absolute times drift; ratios much less). Sections:

* drift cost: the KDE drift (estimator + drift) at N = 2000 against the generator's own
  forward + backward + Adam step at the same N, for the generator sizes of config.yaml (gmm8,
  d = 2; gmm2hard16, d = 16): eager, fused (``training.fused_kde``, wgf.density.native) and the
  pre-optimisation KDE (benchmarks/reference_kde.py), and the floor of an exact KDE
  (:func:`pair_floor`);
* scaling: KDE time (eager and fused) and peak resident memory for N from 500 to 20 000, with
  log-log slopes; memory in a child process (:func:`memory_in_child`);
* sampling: one-step throughput for 10^6 samples against MALA reaching the generator's MMD on
  gmm8 (``wgf.baselines.chains.mala``);
* the default reproduction: per-rule times from Snakemake's ``benchmark:`` TSVs and the overall
  wall time from Snakemake's own log, in ``--reproduction DIR`` (default: this checkout); the
  method's own seconds from the jobs' timers, the efficiency (their share of wall × cores) and
  the fastest job (the fixed cost of one job);
* GPU: the drift and training-step figures again with ``--device cuda`` when a GPU is present.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from reference_kde import kde_stats_before  # noqa: E402

import wgf.density.kde  # noqa: E402
from wgf.baselines.chains import mala  # noqa: E402
from wgf.density.kde import fused_available, kde_stats  # noqa: E402
from wgf.divergences import get_divergence  # noqa: E402
from wgf.drift import f_drift  # noqa: E402
from wgf.evaluation.metrics import mmd_median  # noqa: E402
from wgf.generator import Generator  # noqa: E402
from wgf.plan import load  # noqa: E402
from wgf.targets import build_target  # noqa: E402
from wgf.training import TrainConfig, train, train_config  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Timing and memory helpers


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def interleaved(
    fns: dict[str, Callable[[], Any]], device: torch.device, repeat: int, warmup: int = 2
) -> dict[str, float]:
    """Median seconds of each function, the functions run in turn ``repeat`` times."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            _sync(device)
            t0 = time.perf_counter()
            fn()
            _sync(device)
            times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def _rss_peak_kib() -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", text).group(1))


def _rss_kib() -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1))


def peak_memory_mib(fn: Callable[[], Any], device: torch.device) -> float | None:
    """Peak memory of ``fn`` above what was resident before it: CUDA's allocator peak, or on CPU
    the kernel's resident high-water mark (reset through /proc/self/clear_refs)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        fn()
        torch.cuda.synchronize(device)
        return (torch.cuda.max_memory_allocated(device) - before) / 2**20
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    before = _rss_kib()
    out = fn()
    del out
    return (_rss_peak_kib() - before) / 1024


def slope(ns: list[int], values: list[float]) -> float:
    """Least-squares slope of log(value) against log(N)."""
    return float(np.polyfit(np.log(ns), np.log(values), 1)[0])


# ---------------------------------------------------------------------------------------------
# Sections


def _setup(target_name: str, n: int, device: torch.device, seed: int = 0):
    """The default config's generator, settings and target for ``target_name``, a batch of N."""
    config = load(REPO / "config.yaml")
    cfg = train_config(config, target_name)
    target = build_target(target_name)
    torch.manual_seed(seed)
    gen = cfg.generator.build(target.dim).to(device)
    z = gen.latent(n, torch.Generator().manual_seed(seed)).to(device)
    return cfg, target, gen, z


def pair_floor(x: torch.Tensor, tau: float, kernel: str, chunk: int) -> Callable[[], None]:
    """The work any exact evaluation of the batch's own KDE must do, in the eager path's blocks
    (each pair once, by symmetry): one exp per pair, for Laplace one sqrt per pair too (the
    distance), and the N²d-MAC products: the RBF's distance expansion and the moments
    ``Σ_j w_ij x_j``. Inputs are prepared beforehand and results land in one preallocated
    buffer, so nothing else (allocation, the other elementwise passes, sums) is timed."""
    n = x.shape[0]
    rows = wgf.density.kde._block_rows(x, chunk, n)
    columns = x.T.contiguous()
    centred = x - x.mean(0)
    out = x.new_empty(rows * n)
    blocks = []
    for i0 in range(0, n, rows):
        i1 = min(i0 + rows, n)
        sq = torch.cdist(x[i0:i1], x[i0:]).square_()
        # the exp's argument: −|x_i − x_j|/τ (Laplace) or −|x_i − x_j|²/2τ² (RBF), floored as
        # in wgf.density.kde (an underflowing exp takes a slow path)
        arg = sq.sqrt().mul_(-1.0 / tau) if kernel == "laplace" else sq.mul(-0.5 / tau**2)
        arg.clamp_min_(wgf.density.kde.log_weight_floor(x.dtype))
        blocks.append((i0, i1, sq, arg, out[: sq.numel()].view(sq.shape)))

    def run() -> None:
        for i0, i1, sq, arg, w in blocks:
            if kernel == "laplace":
                torch.sqrt(sq, out=w)
            else:
                torch.mm(centred[i0:i1], centred[i0:].T, out=w)
            torch.exp(arg, out=w)
            columns[:, i0:] @ w.T
            columns[:, i0:i1] @ w[:, i1 - i0 :]

    return run


def drift_cost(target_name: str, n: int, device: torch.device, repeat: int) -> dict[str, Any]:
    cfg, target, gen, z = _setup(target_name, n, device)
    opt = torch.optim.Adam(gen.parameters(), lr=cfg.lr)
    div = get_divergence("reverse_kl")
    with torch.no_grad():
        xd = gen(z)
    tau = cfg.tau_init
    velocity = torch.randn_like(xd)

    def network() -> None:
        x = gen(z)
        y = (x.detach() + cfg.eta * velocity).detach()
        loss = (x - y).square().sum(-1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def kde() -> Any:
        return kde_stats(xd, xd, tau, kernel=cfg.kernel, chunk=cfg.chunk_size)

    def kde_before() -> Any:
        return kde_stats_before(xd, xd, tau, kernel=cfg.kernel, chunk=1024)  # the old default

    def drift() -> Any:
        log_q, score_q = kde()
        return f_drift(xd, target, div, log_q, score_q, None, cfg.log_r_clip)

    def drift_fused() -> Any:
        log_q, score_q = kde_stats(xd, xd, tau, kernel=cfg.kernel, chunk=cfg.chunk_size, fused=True)
        return f_drift(xd, target, div, log_q, score_q, None, cfg.log_r_clip)

    def drift_before() -> Any:
        log_q, score_q = kde_before()
        return f_drift(xd, target, div, log_q, score_q, None, cfg.log_r_clip)

    def drift_unwidened() -> Any:
        """The drift with the CPU's row blocks on the GPU too
        (``wgf.density.kde.GPU_BLOCK_ENTRIES``)."""
        saved, wgf.density.kde.GPU_BLOCK_ENTRIES = wgf.density.kde.GPU_BLOCK_ENTRIES, 0
        try:
            return drift()
        finally:
            wgf.density.kde.GPU_BLOCK_ENTRIES = saved

    fns = {"network": network, "drift": drift, "drift_before": drift_before, "kde": kde}
    fns["floor"] = pair_floor(xd, tau, cfg.kernel, cfg.chunk_size)
    if device.type == "cuda":
        fns["drift_unwidened"] = drift_unwidened
    first_call_s = None
    if fused := _measures_fused(device):
        t0 = time.perf_counter()
        drift_fused()  # the first call builds the native pass (or loads it from the cache)
        first_call_s = time.perf_counter() - t0
        fused = fused_available()
    if fused:
        fns["drift_fused"] = drift_fused
    t = interleaved(fns, device, repeat)
    return {
        "target": target_name,
        "dim": target.dim,
        "n": n,
        "kernel": cfg.kernel,
        "generator": f"{cfg.generator.layers}x{cfg.generator.hidden}",
        "network_s": t["network"],
        "drift_s": t["drift"],
        "drift_before_s": t["drift_before"],
        "kde_s": t["kde"],
        "ratio": t["drift"] / t["network"],
        "ratio_before": t["drift_before"] / t["network"],
        "floor_s": t["floor"],
        "ratio_floor": t["floor"] / t["network"],
        "drift_unwidened_s": t.get("drift_unwidened"),
        "drift_fused_s": t.get("drift_fused"),
        "ratio_fused": t["drift_fused"] / t["network"] if fused else None,
        "fused_first_call_s": first_call_s,
    }


def _measures_fused(device: torch.device) -> bool:
    """Whether the fused KDE applies here (CPU only) and has not failed to build."""
    return device.type == "cpu" and fused_available()


def _scaling_inputs(dim: int, ns: list[int], device: torch.device) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return [(2.0 * torch.randn(n, dim, generator=gen)).to(device) for n in ns]


def scaling(
    dim: int, ns: list[int], device: torch.device, kernel: str, chunk: int, memory: dict
) -> dict[str, Any]:
    """KDE time for each N, eager and (CPU) fused, with the peak memory ``memory[(dim, n)]``
    measured in a separate process (:func:`scaling_memory`)."""
    rows = []
    fused = _measures_fused(device)
    for x in _scaling_inputs(dim, ns, device):
        n = x.shape[0]
        repeat = max(3, min(15, int(4e7 / n**2)))
        fns = {"eager": lambda x=x: kde_stats(x, x, 0.5, kernel=kernel, chunk=chunk)}
        if fused:
            fns["fused"] = lambda x=x: kde_stats(x, x, 0.5, kernel=kernel, chunk=chunk, fused=True)
        t = interleaved(fns, device, repeat, warmup=1)
        mem = memory.get(f"{dim},{n}", {})
        rows.append(
            {
                "n": n,
                "time_s": t["eager"],
                "time_fused_s": t.get("fused"),
                "peak_mib": mem.get("eager"),
                "peak_fused_mib": mem.get("fused"),
            }
        )
    big = [r for r in rows if r["n"] >= 2000]
    out: dict[str, Any] = {"dim": dim, "kernel": kernel, "chunk": chunk, "rows": rows}
    for key in ("time_s", "time_fused_s", "peak_mib", "peak_fused_mib"):
        # Peaks under 1 MiB are a few pages of bookkeeping: no slope from them.
        pts = [r for r in big if r[key] and r[key] > (1.0 if key.startswith("peak") else 0.0)]
        out[f"slope_{key}"] = (
            slope([r["n"] for r in pts], [r[key] for r in pts]) if len(pts) > 1 else None
        )
    return out


def scaling_memory(
    dims: list[int], ns: list[int], device: torch.device, kernel: str, chunk: int
) -> dict[str, dict[str, float | None]]:
    """Peak memory of the KDE per ``"dim,n"``, eager and (CPU) fused. On the CPU run this in a
    process of its own with ``MALLOC_MMAP_THRESHOLD_`` fixed (:func:`memory_in_child`): glibc then
    returns large blocks to the system when freed, so the resident high-water mark measures each
    call's own peak. That setting also slows the fused pass, so no time is measured there."""
    out: dict[str, dict[str, float | None]] = {}
    fused = _measures_fused(device)
    for dim in dims:
        for x in _scaling_inputs(dim, ns, device):
            row: dict[str, float | None] = {}
            row["eager"] = peak_memory_mib(
                lambda x=x: kde_stats(x, x, 0.5, kernel=kernel, chunk=chunk), device
            )
            if fused:
                kde_stats(x, x, 0.5, kernel=kernel, chunk=chunk, fused=True)  # build first
                row["fused"] = peak_memory_mib(
                    lambda x=x: kde_stats(x, x, 0.5, kernel=kernel, chunk=chunk, fused=True), device
                )
            out[f"{dim},{x.shape[0]}"] = row
    return out


def memory_in_child(args: argparse.Namespace, dims: list[int], ns: list[int], chunk: int) -> dict:
    """:func:`scaling_memory` in a child process with the allocator setting it needs."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "memory.json"
        cmd = [sys.executable, __file__, "--memory-json", str(path), "--threads", str(args.threads)]
        if args.quick:
            cmd.append("--quick")
        env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
        subprocess.run(cmd, env=env, check=True)
        return json.loads(path.read_text())


def sampling(
    device: torch.device, reproduction: Path, quick: bool, n_samples: int = 10**6
) -> dict[str, Any]:
    target = build_target("gmm8")
    ref = target.sample(2000, torch.Generator().manual_seed(1)).numpy()
    path = reproduction / "results/runs/gmm8/reverse_kl/seed0/generator.pt"
    if path.exists():
        gen = Generator.load(str(path)).to(device)
        source = str(path.relative_to(reproduction))
    else:
        steps = 300 if quick else 1500
        cfg = train_config(load(REPO / "config.yaml"), "gmm8")
        cfg = TrainConfig.from_dict({**cfg.to_dict(), "steps": steps, "device": str(device)})
        gen = train(target, get_divergence("reverse_kl"), cfg, 0, progress=False).generator
        gen = gen.to(device)
        source = f"trained here: gmm8, reverse_kl, seed 0, {steps} steps"
    noise = torch.Generator().manual_seed(2)
    gen_mmd = mmd_median(gen.sample(2000, noise).cpu().numpy(), ref)

    def one_step() -> None:
        with torch.no_grad():
            for _ in range(10):
                gen.sample(n_samples // 10, noise)

    t_gen = interleaved({"gen": one_step}, device, repeat=3, warmup=1)["gen"]

    chains, max_steps, every = 2000, (600 if quick else 2000), 25
    x0 = 2.0 * torch.randn(chains, 2, generator=torch.Generator().manual_seed(3))
    res = mala(
        target,
        x0,
        max_steps,
        step_size=0.1,
        burn_in=100,
        generator=torch.Generator().manual_seed(4),
        record=lambda k, x: {"mmd_median": mmd_median(x.float().numpy(), ref)},
        record_at=[*range(5, 100, 5), *range(100, max_steps + 1, every)],
    )
    reached = next((r for r in res.curve if r["mmd_median"] <= gen_mmd), None)
    steps_needed = reached["steps"] if reached else max_steps
    # The cost of MALA for n_samples chains: seconds per step measured at that many chains.
    big = 2.0 * torch.randn(n_samples, 2, generator=torch.Generator().manual_seed(5))
    probe = mala(target, big, 3, step_size=0.05, generator=torch.Generator().manual_seed(6))
    t_step = probe.wall_s / 3
    t_mala = steps_needed * t_step
    return {
        "comparison": comparison_protocol(reproduction, t_step, t_gen, n_samples),
        "generator": source,
        "n_samples": n_samples,
        "generator_mmd": gen_mmd,
        "generator_s": t_gen,
        "generator_samples_per_s": n_samples / t_gen,
        "mala_chains_for_curve": chains,
        "mala_steps_to_match": steps_needed,
        "mala_reached": reached is not None,
        "mala_best_mmd": min(r["mmd_median"] for r in res.curve),
        "mala_step_s_at_n": t_step,
        "mala_s": t_mala,
        "mala_samples_per_s": n_samples / t_mala,
        "speedup": t_mala / t_gen,
    }


def comparison_protocol(
    reproduction: Path, t_step: float, t_gen: float, n_samples: int
) -> dict[str, Any] | None:
    """The headline ratio in comparison.md's protocol (results/tables/break_even.json of the
    reproduction): MALA's steps per chain to reach the *best* one-step sampler's MMD on gmm8,
    its chains started as the baseline starts them, scored on evaluation.n_samples; the time of
    those steps for ``n_samples`` chains here against the generator's. None without a run."""
    path = reproduction / "results/tables/break_even.json"
    if not path.exists():
        return None
    entry = next((b for b in json.loads(path.read_text()) if b["target"] == "gmm8"), None)
    if entry is None:
        return None
    metric = next(k for k in ("mmd_median", "ksd") if k in entry)
    m = entry[metric]
    # every main-grid generator has the timed generator's network; another best one-step method
    # (the reference flow, a baseline) at its own rate measured in the reproduction
    if not str(entry["best_method"]).startswith("generator"):
        t_gen = n_samples / entry["one_step_samples_per_s"]
    return {
        "source": str(path.relative_to(reproduction)),
        "best": f"{entry['best_method']} ({entry['best_divergence']})",
        "metric": metric,
        "level": m["level"],
        "reached": m["reached"],
        "mala_steps": m["mala_steps"],
        "mala_s": m["mala_steps"] * t_step,
        "one_step_s": t_gen,
        "speedup": m["mala_steps"] * t_step / t_gen,
        "break_even_evaluations": m["break_even_evaluations"],
        "break_even_wall": m["break_even_wall"],
    }


_STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]")


def _log_rule_times(text: str) -> dict[str, dict[str, Any]]:
    """Per-rule job durations of one Snakemake run from its log's timestamps (start: the stamp
    before ``rule X:``/``jobid: N``; end: the stamp before ``Finished jobid: N``)."""
    stamp, pending, started = None, None, {}
    rules: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        if m := _STAMP.match(line):
            stamp = dt.datetime.strptime(" ".join(m.group(1).split()), "%a %b %d %H:%M:%S %Y")
        elif m := re.match(r"^(?:local)?rule (\w+):", line):
            pending = (m.group(1), stamp)
        elif (m := re.match(r"^\s+jobid: (\d+)", line)) and pending:
            started[m.group(1)] = pending
            pending = None
        elif (m := re.match(r"^Finished jobid: (\d+)", line)) and m.group(1) in started:
            rule, t0 = started.pop(m.group(1))
            if t0 is None or stamp is None:
                continue
            sec = (stamp - t0).total_seconds()
            r = rules.setdefault(rule, {"jobs": 0, "total_s": 0.0, "max_s": 0.0})
            r["jobs"] += 1
            r["total_s"] += sec
            r["max_s"] = max(r["max_s"], sec)
    return rules


def _json_seconds(paths: list[Path], keys: tuple[str, ...]) -> tuple[int, float]:
    total = 0.0
    for path in paths:
        info = json.loads(path.read_text())
        total += sum(float(info.get(k) or 0.0) for k in keys)
    return len(paths), total


def method_seconds(root: Path) -> dict[str, dict[str, Any]]:
    """The seconds the method itself took, from the jobs' own timers: every training loop
    (grid runs and long runs, ``train_wall_s``, monitor included), every baseline's training and
    sampling, and every reference flow's fit and sampling."""
    results = root / "results"
    parts = {
        "train": (sorted(results.glob("runs/*/*/seed*/run.json")), ("train_wall_s",)),
        "train_long": (sorted(results.glob("asymptotics/*/*/seed*/run.json")), ("train_wall_s",)),
        "baselines": (
            sorted(results.glob("baselines/*/*/seed*/run.json")),
            ("train_wall_s", "sampling_wall_s"),
        ),
        "reference_flow": (
            sorted(results.glob("reference/*/log_z.json")),
            ("fit_wall_s", "sample_wall_s"),
        ),
    }
    out = {}
    for name, (paths, keys) in parts.items():
        jobs, seconds = _json_seconds(paths, keys)
        out[name] = {"jobs": jobs, "seconds": seconds, "timers": list(keys)}
        if name.startswith("train"):  # the monitor's share of train_wall_s (logging only)
            out[name]["monitor_s"] = _json_seconds(paths, ("monitor_s",))[1]
    return out


def efficiency(rep: dict[str, Any]) -> float | None:
    """The share of the machine spent on the method: Σ method seconds / (wall × cores); only
    where the latest complete run built every job on record (a run from scratch)."""
    wall = rep.get("wall") or {}
    if not wall.get("wall_s") or not wall.get("cores"):
        return None
    if wall["jobs"] < sum(r["jobs"] for r in rep["rules"].values()):
        return None
    method = sum(part["seconds"] for part in rep["method"].values())
    return method / (wall["wall_s"] * wall["cores"])


def monitor_seconds(rep: dict[str, Any]) -> float:
    """The training monitor's seconds inside the method's (0 for runs that predate its timer)."""
    return sum(part.get("monitor_s", 0.0) for part in rep["method"].values())


def reproduction_times(root: Path) -> dict[str, Any]:
    """Per-rule totals of Snakemake's benchmark TSVs and the latest complete run's wall time."""
    bench = root / "results" / "benchmarks"
    rules: dict[str, dict[str, Any]] = {}
    for tsv in sorted(bench.rglob("*.tsv")) if bench.exists() else []:
        rel = tsv.relative_to(bench)
        rule = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        with open(tsv, newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        for row in rows:
            r = rules.setdefault(
                rule,
                {"jobs": 0, "total_s": 0.0, "max_s": 0.0, "min_s": math.inf, "max_rss_mb": 0.0},
            )
            s = float(row["s"])
            r["jobs"] += 1
            r["total_s"] += s
            r["max_s"] = max(r["max_s"], s)
            r["min_s"] = min(r["min_s"], s)
            try:
                r["max_rss_mb"] = max(r["max_rss_mb"], float(row["max_rss"]))
            except (KeyError, ValueError):
                pass
    wall = None
    logs = sorted((root / ".snakemake" / "log").glob("*.snakemake.log"))
    for log in reversed(logs):
        text = log.read_text(errors="replace")
        done = re.findall(r"(\d+) of (\d+) steps \(100%\) done", text)
        if not done:
            continue
        elapsed = re.search(r"Elapsed time: (\d+):(\d\d):(\d\d(?:\.\d+)?)", text)
        if elapsed:
            h, m, s = elapsed.groups()
            seconds = 3600 * int(h) + 60 * int(m) + float(s)
        else:
            stamps = [
                dt.datetime.strptime(m.group(1).replace("  ", " "), "%a %b %d %H:%M:%S %Y")
                for line in text.splitlines()
                if (m := _STAMP.match(line))
            ]
            seconds = (stamps[-1] - stamps[0]).total_seconds() if len(stamps) > 1 else None
        cores = re.search(r"Provided cores: (\d+)", text)
        wall = {"log": log.name, "jobs": int(done[-1][1]), "wall_s": seconds}
        wall["cores"] = int(cores.group(1)) if cores else None
        wall["rules"] = _log_rule_times(text)
        break
    fastest = min(((r["min_s"], rule) for rule, r in rules.items()), default=(None, None))
    rep = {"root": str(root), "rules": rules, "wall": wall, "method": method_seconds(root)}
    rep["fastest_job"] = {"seconds": fastest[0], "rule": fastest[1]}
    rep["efficiency"] = efficiency(rep)
    return rep


# ---------------------------------------------------------------------------------------------
# Report


def _f(x: float | None, fmt: str = ".3g") -> str:
    return "–" if x is None else format(x, fmt)


def markdown(data: dict[str, Any]) -> str:
    meta = data["meta"]
    lines = [
        "# Benchmarks",
        "",
        f"`python benchmarks/run.py` on {meta['machine']} ({meta['cpus']} CPUs, "
        f"{meta['threads']} torch thread(s)), device `{meta['device']}`, torch {meta['torch']}, "
        f"{meta['date']}. Medians over interleaved repeats; ratios come from one run.",
    ]
    if "drift" in data:
        lines += _md_drift(data["drift"])
    if "scaling" in data:
        lines += _md_scaling(data["scaling"])
    if "sampling" in data:
        lines += _md_sampling(data["sampling"])
    if "reproduction" in data:
        lines += _md_reproduction(data["reproduction"])
    lines += _md_gpu(data)
    return "\n".join(lines)


def _md_drift(drift: list[dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "## Drift cost against the network step (N = 2000)",
        "",
        "Drift = KDE (log q̂, ∇log q̂) + reverse-KL drift; network = generator forward + backward +",
        "Adam step on the same N. Aim: drift ≤ ½ network. *eager*: PyTorch's kernels",
        "(`training.fused_kde: false`, blocks of `training.chunk_size` rows, each pair of the",
        "batch computed once for both of its rows by symmetry); *fused*: the batch's own KDE as",
        "one native C pass (`training.fused_kde: true`, the default; `wgf.density.native`; its",
        "first call, which builds it or loads it from the cache, is reported apart); *before*: the",
        "KDE as it was before the hot-path work (benchmarks/reference_kde.py, old `chunk_size:",
        "1024`);",
        "*floor*: only the work an exact symmetric pass cannot skip, done by PyTorch's own",
        "kernels in the eager blocks (one exp per pair, for Laplace one sqrt, the N²d-MAC",
        "products; `pair_floor`): the best any eager composition can do. All",
        "measured in the same run.",
        "",
        "| target | d | kernel | generator | network (ms) | drift eager (ms) | eager / network "
        "| drift fused (ms) | fused / network | fused first call (s) | floor / network "
        "| drift before (ms) | before / network |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in drift:
        fused = r.get("drift_fused_s")
        lines.append(
            f"| {r['target']} | {r['dim']} | {r['kernel']} | {r['generator']} "
            f"| {1e3 * r['network_s']:.2f} | {1e3 * r['drift_s']:.2f} | **{r['ratio']:.2f}** "
            f"| {_f(fused and 1e3 * fused, '.2f')} | **{_f(r.get('ratio_fused'), '.2f')}** "
            f"| {_f(r.get('fused_first_call_s'), '.2f')} | {_f(r.get('ratio_floor'), '.2f')} "
            f"| {1e3 * r['drift_before_s']:.2f} | {r['ratio_before']:.2f} |"
        )
    lines += [
        "",
        "The fused pass is single-threaded (the workflow's training jobs run one thread each)",
        "and sums each pair's displacement as such, so its score is also the more accurate one.",
    ]
    return lines


def _md_scaling(scaling_rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "## Scaling of the KDE in N",
        "",
        "The batch's own KDE, eager and fused. Peak memory is the resident high-water mark above",
        "the inputs, measured in a child process with `MALLOC_MMAP_THRESHOLD_=65536` (so that",
        "freed blocks leave the process); times in this process, without it.",
        "",
    ]
    for sc in scaling_rows:
        lines += [
            f"d = {sc['dim']}, {sc['kernel']} kernel, chunk {sc['chunk']}. Log-log slopes over "
            f"N ≥ 2000: time eager **{_f(sc['slope_time_s'], '.2f')}**, fused "
            f"**{_f(sc['slope_time_fused_s'], '.2f')}** (≤ 2 expected); peak memory eager "
            f"**{_f(sc['slope_peak_mib'], '.2f')}**, fused "
            f"**{_f(sc['slope_peak_fused_mib'], '.2f')}** (≤ 1 expected: no N × N buffer, blocks "
            "capped at `wgf.density.kde.CPU_BLOCK_ENTRIES`; – where the peaks stay under 1 MiB).",
            "",
            "| N | time eager (ms) | time fused (ms) | peak eager (MiB) | peak fused (MiB) |",
            "|---|---|---|---|---|",
        ]
        for r in sc["rows"]:
            tf = r["time_fused_s"]
            lines.append(
                f"| {r['n']} | {1e3 * r['time_s']:.1f} | {_f(tf and 1e3 * tf, '.1f')} "
                f"| {_f(r['peak_mib'], '.1f')} | {_f(r['peak_fused_mib'], '.1f')} |"
            )
        lines.append("")
    return lines


def _md_sampling(s: dict[str, Any]) -> list[str]:
    return [
        "## One-step sampling against MALA (gmm8)",
        "",
        f"Generator: {s['generator']}; its MMD (median heuristic, 2000 vs 2000) "
        f"**{s['generator_mmd']:.4f}**. MALA (`wgf.baselines.chains.mala`): "
        f"{s['mala_chains_for_curve']} "
        f"chains from N(0, 4 I), step adapted over 100 burn-in steps, MMD checked every 5 steps "
        f"up to 100, then every 25; "
        + (
            f"it reached the generator's MMD after **{s['mala_steps_to_match']}** steps."
            if s["mala_reached"]
            else f"it did **not** reach it within {s['mala_steps_to_match']} steps (best MMD "
            f"{s['mala_best_mmd']:.4f}): the MALA time below is a lower bound."
        ),
        f"MALA's cost for {s['n_samples']:.0e} samples = steps × (seconds per step measured with "
        f"{s['n_samples']:.0e} chains).",
        "",
        "| sampler | time for 10⁶ samples (s) | samples / s |",
        "|---|---|---|",
        f"| generator (one step) | {s['generator_s']:.3f} | {s['generator_samples_per_s']:.3g} |",
        f"| MALA | {s['mala_s']:.1f} | {s['mala_samples_per_s']:.3g} |",
        "",
        f"Ratio (MALA time / generator time): **{s['speedup']:.0f}×**.",
        "",
        *_md_comparison_protocol(s.get("comparison")),
    ]


def _md_comparison_protocol(c: dict[str, Any] | None) -> list[str]:
    """The ratio to quote: comparison.md's protocol, beside the broad-start one above."""
    head = "### The figure to quote: comparison.md's protocol"
    if c is None:
        return [
            head,
            "",
            "No reproduction here (`results/tables/break_even.json`): run `make reproduce` first.",
            "The ratio above is *not* comparison.md's and overstates the one-step advantage.",
            "",
        ]
    reach = "reaches" if c["reached"] else "does not reach (a lower bound)"
    return [
        head,
        "",
        "The ratio above starts MALA from N(0, 4 I) and asks it to match the reverse-KL",
        "generator, which drops modes. comparison.md instead asks MALA, started as the",
        "`baselines.mala` runs start (the generator's own initial spread), to match the *best*",
        f"one-step sampler ({c['best']}, {c['metric']} {c['level']:.4g}), scored on the",
        "evaluation's sample size: the protocol of the paper's tables, and the one to quote.",
        f"There MALA {reach} it after **{c['mala_steps']}** steps per chain, i.e.",
        f"{c['mala_s']:.2f} s for 10⁶ chains here against {c['one_step_s']:.3f} s one-step:",
        f"**{c['speedup']:.0f}×** per sample once trained. Training included, the break-even is",
        f"{c['break_even_evaluations']:.3g} samples in target evaluations and "
        f"{c['break_even_wall']:.3g} in wall time ({c['source']}).",
        "",
    ]


def _md_reproduction(rep: dict[str, Any]) -> list[str]:
    lines = ["## The default reproduction", ""]
    if not rep["rules"]:
        lines.append(f"Not available: no `results/benchmarks/` TSVs under {rep['root']}.")
    else:
        wall = rep["wall"]
        lines.append(
            f"From {rep['root']}: "
            + (
                f"overall wall time **{wall['wall_s'] / 60:.1f} min** for {wall['jobs']} jobs "
                f"(`.snakemake/log/{wall['log']}`, the latest complete run; a rerun of part of "
                "the DAG reports only its own jobs)."
                if wall and wall["wall_s"] is not None
                else "overall wall time not available (no complete Snakemake log)."
            )
        )
        if wall and wall.get("rules"):
            lines += [
                "",
                "Per rule in that run, from the log's timestamps (second resolution; 2 jobs at a "
                "time on 2 cores):",
                "",
                "| rule | jobs | total (s) | max (s) |",
                "|---|---|---|---|",
            ]
            for rule, r in sorted(wall["rules"].items(), key=lambda kv: -kv[1]["total_s"]):
                lines.append(f"| {rule} | {r['jobs']} | {r['total_s']:.0f} | {r['max_s']:.0f} |")
            lines.append("")
        lines += [
            "Per rule, from the `benchmark:` TSVs now under `results/benchmarks/` (each job's "
            "latest run, which may be a later, partial rerun than the log above):",
            "",
            "| rule | jobs | total (s) | max (s) | max RSS (MB) |",
            "|---|---|---|---|---|",
        ]
        total = 0.0
        for rule, r in sorted(rep["rules"].items(), key=lambda kv: -kv[1]["total_s"]):
            total += r["total_s"]
            lines.append(
                f"| {rule} | {r['jobs']} | {r['total_s']:.1f} | {r['max_s']:.1f} "
                f"| {r['max_rss_mb']:.0f} |"
            )
        lines += [f"| **all** | | {total:.1f} | | |", ""]
        lines += _md_efficiency(rep)
    return lines


def _md_efficiency(rep: dict[str, Any]) -> list[str]:
    """The method's own seconds against the machine: issue 19's efficiency."""
    method, wall = rep["method"], rep.get("wall") or {}
    lines = [
        "The method's own seconds, from the jobs' timers (what the efficiency counts):",
        "",
        "| part | jobs | seconds | timers |",
        "|---|---|---|---|",
    ]
    for name, part in method.items():
        timers = ", ".join(f"`{t}`" for t in part["timers"])
        lines.append(f"| {name} | {part['jobs']} | {part['seconds']:.0f} | {timers} |")
    total = sum(part["seconds"] for part in method.values())
    lines += [f"| **all** | | {total:.0f} | |", ""]
    eff = rep.get("efficiency")
    if eff is None:
        lines.append(
            "Efficiency not available: it needs the latest complete Snakemake run to have built "
            "every job on record (a run from scratch) and its log to name its cores."
        )
    else:
        lines.append(
            f"**Efficiency {eff:.2f}**: {total:.0f} s of method over {wall['wall_s']:.0f} s of "
            f"wall × {wall['cores']} cores (issue 19 asks for ≥ 0.8); the rest is process "
            "start-up, evaluation, figures, I/O and Snakemake's own scheduling."
        )
        mon = monitor_seconds(rep)
        if mon:
            lines.append(
                f"The training monitor (history metrics every `log_every` steps) took {mon:.0f} s "
                f"of that method time; without it the efficiency is "
                f"{(total - mon) / (wall['wall_s'] * wall['cores']):.2f}."
            )
    fastest = rep.get("fastest_job") or {}
    if fastest.get("seconds") is not None:
        lines.append(
            f"The fastest job, the fixed cost of one job: {fastest['seconds']:.2f} s "
            f"(rule `{fastest['rule']}`)."
        )
    return lines


def _md_gpu(data: dict[str, Any]) -> list[str]:
    lines = ["", "## GPU", ""]
    gpu = data.get("gpu")
    if not gpu:
        lines.append(f"Not measured: {data['gpu_note']}.")
    else:
        lines += [
            "*unwidened*: the KDE in the CPU's row blocks of `training.chunk_size` rows, as before "
            "`wgf.density.kde.GPU_BLOCK_ENTRIES` (measured in the same run).",
            "",
            "| target | d | network (ms) | drift (ms) | drift / network | drift unwidened (ms) "
            "| unwidened / network |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in gpu:
            un = r.get("drift_unwidened_s")
            lines.append(
                f"| {r['target']} | {r['dim']} | {1e3 * r['network_s']:.2f} "
                f"| {1e3 * r['drift_s']:.2f} | **{r['ratio']:.2f}** "
                f"| {_f(un and 1e3 * un, '.2f')} | {_f(un and un / r['network_s'], '.2f')} |"
            )
        lines.append("")
        lines.append("The default reproduction on the GPU: run `make reproduce` there and rerun "
                     "this suite with `--reproduction` pointing at that checkout.")  # fmt: skip
    lines.append("")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--reproduction", type=Path, default=REPO, help="checkout with a run")
    parser.add_argument("--out", type=Path, default=REPO / "results" / "benchmarks")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller N")
    parser.add_argument(
        "--sections",
        default="drift,scaling,sampling,reproduction",
        help="comma-separated subset of drift,scaling,sampling,reproduction (default: all)",
    )
    parser.add_argument("--memory-json", type=Path, help=argparse.SUPPRESS)  # memory_in_child
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    repeat = 5 if args.quick else 20
    ns = [500, 1000, 2000, 5000] if args.quick else [500, 1000, 2000, 5000, 10_000, 20_000]
    dims = [2, 16]
    chunk = train_config(load(REPO / "config.yaml"), "gmm8").chunk_size
    if args.memory_json:
        args.memory_json.write_text(json.dumps(scaling_memory(dims, ns, device, "laplace", chunk)))
        return
    data: dict[str, Any] = {
        "meta": {
            "machine": platform.node() or platform.machine(),
            "cpus": os.cpu_count(),
            "threads": torch.get_num_threads(),
            "device": str(device),
            "torch": torch.__version__,
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        }
    }
    sections = set(args.sections.split(","))
    if unknown := sections - {"drift", "scaling", "sampling", "reproduction"}:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    if "drift" in sections:
        print("drift cost ...", flush=True)
        data["drift"] = [drift_cost(t, 2000, device, repeat) for t in ("gmm8", "gmm2hard16")]
    if "scaling" in sections:
        print("scaling ...", flush=True)
        memory = (
            memory_in_child(args, dims, ns, chunk)
            if device.type == "cpu"
            else scaling_memory(dims, ns, device, "laplace", chunk)
        )
        data["scaling"] = [scaling(d, ns, device, "laplace", chunk, memory) for d in dims]
    if "sampling" in sections:
        print("sampling ...", flush=True)
        data["sampling"] = sampling(device, args.reproduction.resolve(), args.quick)
    if "reproduction" in sections:
        print("reproduction ...", flush=True)
        data["reproduction"] = reproduction_times(args.reproduction.resolve())
    if device.type == "cuda":
        data["gpu"] = data.get("drift")
    elif torch.cuda.is_available():
        cuda = torch.device("cuda")
        data["gpu"] = [drift_cost(t, 2000, cuda, repeat) for t in ("gmm8", "gmm2hard16")]
    else:
        data["gpu"] = None
        data["gpu_note"] = "no GPU lent to this machine (rerun with `--device cuda` on one)"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(data, indent=2) + "\n")
    (args.out / "summary.md").write_text(markdown(data))
    print(f"wrote {args.out / 'summary.md'}")


if __name__ == "__main__":
    main()
