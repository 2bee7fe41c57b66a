"""Moment errors, the energy-histogram TV, the 1-D W1 and the funnel's and many-well's own
metrics: hand values, exact samples near zero within Monte-Carlo error, and known failures."""

import math

import numpy as np
import pytest
import torch

from wgf.evaluation.target_metrics import (
    energies,
    energy_comparison,
    energy_histogram_tv,
    moment_errors,
    target_metrics,
    w1_1d,
)
from wgf.targets import funnel10, gmm8, manywell32


def test_moment_errors_by_hand():
    ref = np.array([[0.0, 0.0], [2.0, 4.0]])  # mean (1, 2), std (1, 2)
    x = np.array([[1.0, 2.0], [3.0, 2.0]])  # mean (2, 2), std (1, 0)
    got = moment_errors(x, ref)
    assert got == {
        "mean_error_max": 1.0,
        "mean_error_mean": 0.5,
        "std_error_max": 1.0,
        "std_error_mean": 0.5,
    }


def test_w1_1d_by_hand_and_against_a_shift():
    assert w1_1d(np.array([0.0, 1.0]), np.array([0.0, 1.0])) == 0.0
    assert w1_1d(np.array([0.0]), np.array([0.0, 2.0])) == pytest.approx(1.0)
    a = np.random.default_rng(0).normal(size=1000)
    assert w1_1d(a, a + 0.3) == pytest.approx(0.3)
    # unequal sizes: one atom at 0 against three at 0, 3, 6 moves 2/3 of the mass 3 and 6 away
    assert w1_1d(np.array([0.0]), np.array([0.0, 3.0, 6.0])) == pytest.approx(3.0)


def test_energy_tv_by_hand():
    ref = np.array([0.0, 1.0, 2.0, 3.0])
    assert energy_histogram_tv(ref, ref, bins=3) == 0.0
    # all mass outside the reference's range: TV 1
    assert energy_histogram_tv(np.array([10.0, 11.0]), ref, bins=3) == 1.0
    # bins [0,1), [1,2), [2,3]: ref (1/4, 1/4, 1/2); x all in the first bin → ½(3/4+1/4+1/2)
    assert energy_histogram_tv(np.array([0.5, 0.2]), ref, bins=3) == pytest.approx(0.75)


@pytest.mark.parametrize("build", [funnel10, manywell32, gmm8])
def test_exact_against_exact_is_near_zero(build):
    """Two exact draws of 20 000: mean errors of order 1/√n (SE 0.007; bound 5 SE), std errors
    likewise up to a kurtosis factor; the funnel's whitened coordinates are heavy-tailed, so only
    its v coordinate is held to that bound. The energy TV of two histograms of 200 bins is of
    order √(bins/n) = 0.1."""
    target = build()
    n = 20_000
    a = target.sample(n, torch.Generator().manual_seed(0))
    b = target.sample(n, torch.Generator().manual_seed(1))
    got = target_metrics(target, a, b)
    if build is funnel10:
        v = moment_errors(a.double().numpy()[:, :1], b.double().numpy()[:, :1])
        assert v["mean_error_max"] < 5 / math.sqrt(n)
        assert got["neck_w1"] < 0.1  # 5 × the W1 noise of 20 000 N(0, 9) draws, ≈ 3·1.3/√n
        assert abs(got["neck_fraction"] - 0.158655) < 5 * math.sqrt(0.16 * 0.84 / n)
    else:
        assert got["mean_error_max"] < 5 * math.sqrt(2 / n) * 2  # two independent means
        assert got["std_error_max"] < 0.05
    if build is manywell32:
        assert got["well_weight_error_max"] < 5 * math.sqrt(0.16 / n)
        assert got["well_weight_error_mean"] < got["well_weight_error_max"]
    assert got["energy_tv"] < 0.15


def test_the_failures_each_metric_is_for():
    """A funnel sampler that misses the neck (v clipped at −3) and a many-well sampler that
    puts every x₁ in the deep well."""
    gen = torch.Generator().manual_seed(2)
    funnel = funnel10()
    ref = funnel.sample(20_000, gen)
    cut = ref.clone()
    cut[:, 0] = cut[:, 0].clamp(min=-3.0)
    got = target_metrics(funnel, cut, ref)
    assert got["neck_fraction"] == 0.0
    # against the draw it was clipped from, W1 is the mean of (−3 − v)₊ (clipping is monotone),
    # whose expectation is 3 (φ(1) − Φ(−1)) = 0.2499 for v ~ N(0, 9)
    moved = (-3.0 - ref[:, 0].double()).clamp(min=0)
    assert got["neck_w1"] == pytest.approx(float(moved.mean()), rel=1e-9)
    assert abs(float(moved.mean()) - 0.2499) < 5 * float(moved.std()) / math.sqrt(len(moved))

    wells = manywell32()
    ref = wells.sample(20_000, gen)
    deep = ref.clone()
    deep[:, 0::2] = deep[:, 0::2].abs()
    got = target_metrics(wells, deep, wells.sample(20_000, gen))
    assert got["well_weight_error_max"] == pytest.approx(1 - wells.deep_weight, abs=1e-12)
    assert got["energy_tv"] > 0.1


def test_energy_comparison_floor_first_and_at_the_same_size():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=20_000)
    same = rng.normal(size=30_000)  # cut to the half's 10 000
    rows = energy_comparison({"same": same, "far": ref + 50.0, "mala": ref}, ref, "mala")
    assert [r["method"] for r in rows] == ["mala vs mala", "same", "far"]  # the reference: floor
    assert all(r["n"] == 10_000 for r in rows)
    floor, same_tv, far_tv = (r["energy_tv"] for r in rows)
    # two independent n-sets on 200 bins: TV is Monte-Carlo noise alone, ½ Σ_b E|p̂_b − q̂_b| ≈
    # Σ_b sqrt(p_b/(π n)) = 0.065 for N(0, 1) at n = 10 000; a set of the same law lands there
    # too (its spread over draws ≈ 0.005), a shifted law at 1
    assert floor == pytest.approx(0.065, abs=0.015) and abs(same_tv - floor) < 0.02
    assert far_tv == pytest.approx(1.0)
    with pytest.raises(ValueError, match="finite"):
        energy_comparison({}, np.array([0.0, 1.0, np.nan, 2.0]), "x")


def test_energies_in_double_or_float32_for_a_user_energy():
    target = gmm8()
    x = target.sample(50, generator=torch.Generator().manual_seed(0))
    e = energies(target, x)
    assert e.dtype == np.float64 and np.allclose(e, target.energy(x.double()).numpy())
