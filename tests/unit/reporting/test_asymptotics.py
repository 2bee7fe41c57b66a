"""The asymptotics table: finals over the last logs, and which divergence departs from the
f-divergences' shared limit beyond its noise."""

import pytest

from wgf.reporting.asymptotics import asymptotics_markdown, asymptotics_rows, floor_stats


def _history(level: float, wiggle: float) -> list[dict[str, str]]:
    """1000 steps logged every 100 (strings, as read from a CSV); the last four alternate
    ``level ± wiggle``: a final of ``level`` with std ``wiggle · 2/√3``."""
    rows = [
        {"step": str(s), "mmd_median": str(1.0 - s / 2000), "w2": "2.0"} for s in range(0, 600, 100)
    ]
    for i, s in enumerate(range(600, 1000, 100)):
        value = level + (wiggle if i % 2 else -wiggle)
        rows.append({"step": str(s), "mmd_median": str(value), "w2": "1.5"})
    return rows


def test_finals_and_the_divergence_that_departs():
    floors = floor_stats([{"mmd_median": 0.01, "w2": 1.0}, {"mmd_median": 0.03, "w2": 1.2}])
    assert floors["mmd_median"] == pytest.approx((0.02, 0.0141421), rel=1e-5)
    histories = {
        "forward_kl": _history(0.05, 0.001),
        "pearson": _history(0.051, 0.001),
        "hellinger": _history(0.049, 0.001),
        "js": _history(0.20, 0.001),  # 0.15 above the others, noise ≈ 0.0142 (the floor's)
    }
    rows = asymptotics_rows("gmm8", histories, floors, tail=4, grid_steps=500)
    by = {r["method"]: r for r in rows}
    assert by["forward_kl"]["mmd_median_final"] == pytest.approx(0.05)
    assert by["forward_kl"]["mmd_median_noise"] == pytest.approx(0.001 * 2 / 3**0.5)
    assert by["forward_kl"]["mmd_median_at_grid"] == pytest.approx(0.75)
    assert [m for m, r in by.items() if r.get("mmd_median_departs")] == ["js"]
    assert not any(r.get("w2_departs") for r in rows)  # all at 1.5, no noise, floor sd 0.14
    assert by["exact_vs_exact"]["w2_final"] == pytest.approx(1.1)
    md = asymptotics_markdown(rows, grid_steps=500, steps=1000, tail=4)
    assert "* MMD: departs: js." in md and "* W2: all within noise of one limit." in md
    assert "| exact vs exact | 0.02 ± 0.014 |" in md
