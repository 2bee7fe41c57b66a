"""``make bench`` quotes comparison.md's protocol for its speed-up (issue 19: one answer to "how
much faster than MALA"): the break-even record of the reproduction, timed here."""

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_run", REPO / "benchmarks/run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _break_even(best_method: str, rate: float = 2e6) -> list[dict]:
    return [
        {
            "target": "gmm8",
            "best_method": best_method,
            "best_divergence": "hellinger",
            "one_step_samples_per_s": rate,
            "mmd_median": {
                "level": 0.0164,
                "reached": True,
                "mala_steps": 3,
                "break_even_evaluations": 1.2e6,
                "break_even_wall": 4.0e7,
            },
        }
    ]


def test_the_quoted_ratio_is_comparison_mds_protocol(tmp_path):
    bench = _bench()
    assert bench.comparison_protocol(tmp_path, 0.1, 0.5, 10**6) is None  # no reproduction
    tables = tmp_path / "results/tables"
    tables.mkdir(parents=True)
    (tables / "break_even.json").write_text(json.dumps(_break_even("generator_kde")))
    c = bench.comparison_protocol(tmp_path, 0.1, 0.5, 10**6)
    # 3 MALA steps of 0.1 s for 10⁶ chains against the generator's 0.5 s
    assert c["mala_s"] == pytest.approx(0.3) and c["speedup"] == pytest.approx(0.6)
    assert c["best"] == "generator_kde (hellinger)" and c["reached"]
    text = "\n".join(bench._md_comparison_protocol(c))
    assert "**3** steps" in text and "**1×**" in text and "the one to quote" in text
    # a best one-step method that is not a grid generator runs at its own measured rate
    (tables / "break_even.json").write_text(json.dumps(_break_even("reference_flow")))
    c = bench.comparison_protocol(tmp_path, 0.1, 0.5, 10**6)
    assert c["one_step_s"] == pytest.approx(0.5) and c["speedup"] == pytest.approx(0.6)
    (tables / "break_even.json").write_text(json.dumps(_break_even("reference_flow", 4e6)))
    c = bench.comparison_protocol(tmp_path, 0.1, 0.5, 10**6)
    assert c["one_step_s"] == pytest.approx(0.25) and c["speedup"] == pytest.approx(1.2)


def _write_run(root: Path, rel: str, info: dict) -> None:
    path = root / "results" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info))


def _write_tsv(root: Path, rel: str, seconds: float) -> None:
    path = root / "results" / "benchmarks" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"s\th:m:s\tmax_rss\n{seconds}\t0:00:00\t100\n")


def test_efficiency_is_the_methods_share_of_wall_times_cores(tmp_path):
    """Issue 19's efficiency, (Σ training + baseline + reference seconds) / (wall × cores), from
    the jobs' own timers and Snakemake's log; none for a run that rebuilt only part."""
    bench = _bench()
    _write_run(
        tmp_path, "runs/gmm8/reverse_kl/seed0/run.json", {"train_wall_s": 60.0, "monitor_s": 9.0}
    )
    _write_run(tmp_path, "runs/gmm8/js/seed0/run.json", {"train_wall_s": 40.0})
    _write_run(
        tmp_path,
        "baselines/gmm8/mala/seed0/run.json",
        {"train_wall_s": 0.0, "sampling_wall_s": 20.0, "samples_per_s": 5.0},
    )
    _write_run(tmp_path, "reference/gmm8/log_z.json", {"fit_wall_s": 15.0, "sample_wall_s": 5.0})
    for rel, s in [
        ("check_config.tsv", 2.5),
        ("train/gmm8/reverse_kl/seed0.tsv", 64.0),
        ("train/gmm8/js/seed0.tsv", 44.0),
        ("baseline_sampler/gmm8/mala/seed0.tsv", 24.0),
    ]:
        _write_tsv(tmp_path, rel, s)
    log = tmp_path / ".snakemake" / "log" / "2026-12-07T120000.000000.snakemake.log"
    log.parent.mkdir(parents=True)
    log.write_text("Provided cores: 2\n4 of 4 steps (100%) done\nElapsed time: 0:01:40.0\n")
    rep = bench.reproduction_times(tmp_path)
    assert rep["method"]["train"] == {
        "jobs": 2,
        "seconds": 100.0,
        "timers": ["train_wall_s"],
        "monitor_s": 9.0,  # js's run.json predates the timer: counted as 0
    }
    assert rep["method"]["baselines"]["seconds"] == 20.0
    assert rep["method"]["reference_flow"]["seconds"] == 20.0
    assert rep["efficiency"] == pytest.approx(140.0 / (100.0 * 2))
    assert rep["fastest_job"] == {"seconds": 2.5, "rule": "check_config"}
    md = "\n".join(bench._md_efficiency(rep))
    assert "**Efficiency 0.70**" in md
    assert "took 9 s of that method time; without it the efficiency is 0.66." in md
    log.write_text("Provided cores: 2\n1 of 1 steps (100%) done\nElapsed time: 0:00:03.0\n")
    assert bench.reproduction_times(tmp_path)["efficiency"] is None  # a partial rerun
