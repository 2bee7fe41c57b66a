"""MALA against the one-step samplers: the break-even sample counts."""

import pytest

from wgf.reporting.comparison import break_even


def _rows(method, values):
    return [
        {
            "target": "t",
            "method": method,
            "divergence": "reverse_kl",
            "seed": s,
            "metric": k,
            "value": v,
        }
        for s in (0, 1)
        for k, v in values.items()
    ]


def test_break_even_counts_training_over_per_sample_cost():
    rows = _rows(
        "generator_kde",
        {
            "mmd_median": 0.02,
            "target_evaluations": 3e6,
            "train_wall_s": 30.0,
            "samples_per_s": 1e6,
            "mode_weight_tv": 0.01,
        },
    )
    curve = [
        {
            "steps": 10,
            "mmd_median": 0.1,
            "mode_weight_tv": 0.2,
            "target_evaluations_per_sample": 22.0,
            "wall_per_sample_s": 1e-5,
        },
        {
            "steps": 100,
            "mmd_median": 0.015,
            "mode_weight_tv": 0.05,
            "target_evaluations_per_sample": 202.0,
            "wall_per_sample_s": 1e-4,
        },
    ]
    res = break_even(rows, curve, "t")
    mmd = res["mmd_median"]
    assert mmd["reached"] and mmd["mala_steps"] == 100
    assert mmd["break_even_evaluations"] == pytest.approx(3e6 / 202)
    assert mmd["break_even_wall"] == pytest.approx(30.0 / (1e-4 - 1e-6))
    tv = res["mode_weight_tv"]  # 0.05 > 0.01 at the largest budget: an upper bound
    assert not tv["reached"] and tv["break_even_evaluations"] == pytest.approx(3e6 / 202)
