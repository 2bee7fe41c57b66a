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
