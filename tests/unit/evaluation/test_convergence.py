"""Rank-normalised split-R̂ and bulk ESS: hand-checkable pieces (split, ranks, the classic R̂, the
Geyer truncation), their calibration on independent and AR(1) chains, and the failures each part
of R̂ is there to catch (shifted locations, different scales).

Tolerances are Monte-Carlo error bars, measured by repeating each experiment over fresh seeds
(hundreds of coordinates) before fixing one seed here; each comment gives the spread seen."""

import math
from statistics import NormalDist

import numpy as np
import pytest

from wgf.evaluation.convergence import (
    _fold,
    _geyer_tau,
    _rhat,
    _split_chains,
    _z_scale,
    bulk_ess,
    convergence_summary,
    split_rhat,
)


def _ar1(rng: np.random.Generator, phi: float, m: int, n: int, d: int) -> np.ndarray:
    """``m`` stationary AR(1) chains of ``n`` draws in ``d`` independent coordinates, unit marginal
    variance; their integrated autocorrelation time is ``(1 + φ)/(1 − φ)``."""
    x = np.empty((m, n, d))
    x[:, 0] = rng.standard_normal((m, d))
    noise = rng.standard_normal((m, n, d)) * math.sqrt(1 - phi**2)
    for t in range(1, n):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return x


def _loop_tau(rho: np.ndarray) -> float:
    """The Geyer truncation written as the sequential loop over lag pairs of Stan's manual, for
    comparison with the vectorised :func:`_geyer_tau`."""
    n = rho.size
    kept = np.zeros(n)
    kept[:2] = 1.0, rho[1]
    even, odd, t = 1.0, rho[1], 1
    while t < n - 3 and even + odd > 0:  # initial positive sequence
        even, odd = rho[t + 1], rho[t + 2]
        if even + odd >= 0:
            kept[t + 1], kept[t + 2] = even, odd
        t += 2
    last = t - 2
    if even > 0:
        kept[last + 1] = even
    for s in range(1, last - 1, 2):  # initial monotone sequence
        if kept[s + 1] + kept[s + 2] > kept[s - 1] + kept[s]:
            kept[s + 1] = kept[s + 2] = (kept[s - 1] + kept[s]) / 2
    return float(-1 + 2 * kept[: last + 1].sum() + kept[last + 1 : last + 2].sum())


# --- hand-checkable pieces -----------------------------------------------------------------------


def test_rhat_hand_case_and_textbook_formula():
    # chains (1, 2, 3) and (2, 4, 6): means 2, 4; variances 1, 4 → W = 2.5, B = n·var(means) = 6,
    # var⁺ = (n−1)/n·W + B/n = 5/3 + 2 = 11/3, R̂ = √(var⁺/W) = √(22/15)
    x = np.array([[[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]]])
    assert _rhat(x)[0] == pytest.approx(math.sqrt(22 / 15), rel=1e-14)
    # the same formula, spelled out, on random chains of unequal means
    rng = np.random.default_rng(0)
    y = rng.standard_normal((3, 5, 7)) + np.arange(5)[:, None] * 0.3
    n = y.shape[-1]
    w = y.var(axis=-1, ddof=1).mean(axis=-1)
    b = n * y.mean(axis=-1).var(axis=-1, ddof=1)
    np.testing.assert_allclose(_rhat(y), np.sqrt(((n - 1) / n * w + b / n) / w), rtol=1e-13)


def test_split_chains_halves_and_drops_middle_of_odd_chains():
    x = np.arange(10.0).reshape(1, 2, 5)  # chains 0…4 and 5…9
    np.testing.assert_array_equal(_split_chains(x)[0], [[0, 1], [5, 6], [3, 4], [8, 9]])
    assert _split_chains(np.zeros((3, 4, 8))).shape == (3, 8, 4)


def test_z_scale_uses_average_ranks_and_blom_offset():
    # pooled draws 3, 1, 2, 2 → average ranks 4, 1, 2.5, 2.5 → Φ⁻¹((r − 3/8)/(S + 1/4)), S = 4
    z = _z_scale(np.array([[[3.0, 1.0], [2.0, 2.0]]]))
    expected = [NormalDist().inv_cdf((r - 0.375) / 4.25) for r in (4, 1, 2.5, 2.5)]
    np.testing.assert_allclose(z.ravel(), expected, rtol=1e-14)
    # distinct draws: scores are antisymmetric (r ↔ S + 1 − r) and ranked per coordinate
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 5))
    z = _z_scale(x)
    for i in range(2):
        order = np.argsort(x[i].ravel())
        np.testing.assert_allclose(z[i].ravel()[order], -z[i].ravel()[order][::-1], atol=1e-14)
        assert np.all(np.diff(z[i].ravel()[order]) > 0)


def test_fold_is_distance_to_the_coordinatewise_median():
    x = np.array([[[1.0, 5.0], [2.0, 8.0]], [[0.0, 0.0], [0.0, 4.0]]])
    np.testing.assert_array_equal(_fold(x), [[[2.5, 1.5], [1.5, 4.5]], [[0, 0], [0, 4]]])


@pytest.mark.parametrize(
    "rho, tau",
    [
        # pairs 1.5, .7, .3, −.3: stop at the negative pair, keep 1.5 + .7 + .3 → τ = −1 + 2·2.5
        ([1, 0.5, 0.3, 0.4, 0.2, 0.1, -0.2, -0.1, 0.05, 0, 0, 0], 4.0),
        # pairs 1, 1.2, .1, −.5: the 1.2 is lowered to 1 (monotone) → τ = −1 + 2·2.1
        ([1, 0, 0.6, 0.6, 0.1, 0, -0.5, 0, 0, 0, 0, 0], 3.2),
        # pairs 1.5, .3, −.3 with a positive even lag .1 in the stopping pair, which is added once
        ([1, 0.5, 0.2, 0.1, 0.1, -0.4, 0, 0, 0, 0, 0, 0], 2.7),
    ],
)
def test_geyer_tau_hand_cases(rho, tau):
    assert _geyer_tau(np.array(rho, dtype=float)) == pytest.approx(tau, abs=1e-12)
    assert _loop_tau(np.array(rho, dtype=float)) == pytest.approx(tau, abs=1e-12)


def test_geyer_tau_matches_the_sequential_loop():
    # random sequences of all short and moderate lengths, including the lag-limit stop
    rng = np.random.default_rng(2)
    for _ in range(2000):
        n = int(rng.integers(2, 40))
        rho = rng.uniform(-0.6, 1.0, n) * rng.uniform(0, 1)
        if rng.random() < 0.3:
            rho = np.sort(rho)[::-1].copy()
        rho[0] = 1.0
        assert _geyer_tau(rho) == pytest.approx(_loop_tau(rho), abs=1e-12)


# --- calibration ---------------------------------------------------------------------------------


def test_independent_normal_chains_converged_with_full_ess():
    x = np.random.default_rng(3).standard_normal((8, 1000, 3))
    rhat, ess = split_rhat(x), bulk_ess(x)
    assert rhat.shape == ess.shape == (3,)
    # R̂² − 1 ≈ (B/W − 1)/n with B/W ~ F(15, ·): R̂ − 1 has sd ≈ 4e-4 (3.5e-4 over 600 seeds,
    # largest 1.5e-3), so ±0.01 is > 20 sd
    assert np.all(np.abs(rhat - 1) < 0.01)
    # ESS/8000 over 600 seeded coordinates: mean 0.99, sd 0.03, range 0.83–1.07 (the truncation
    # sometimes keeps a chance positive pair): [0.8, 1.2] is > 6 sd either side
    assert np.all((0.8 * 8000 < ess) & (ess < 1.2 * 8000))


def test_heavy_tails_do_not_disturb_rank_normalised_diagnostics():
    # Cauchy draws have no variance, so the classic R̂ is erratic; the ranks of iid draws do not
    # depend on their law, so the normal case's error bars apply exactly
    x = np.random.default_rng(4).standard_cauchy((8, 1000, 2))
    assert np.all(np.abs(split_rhat(x) - 1) < 0.01)
    assert np.all((0.8 * 8000 < bulk_ess(x)) & (bulk_ess(x) < 1.2 * 8000))


@pytest.mark.parametrize("phi", [-0.5, 0.5, 0.9])
def test_ar1_bulk_ess_matches_theory(phi):
    m, n, d = 8, 5000, 4
    ess = bulk_ess(_ar1(np.random.default_rng(5), phi, m, n, d))
    expected = m * n * (1 - phi) / (1 + phi)  # rank normalisation keeps Gaussian AR(1) Gaussian
    # ESS/theory over 240 seeded coordinates per φ: bias < 1 %, sd 3 % (φ = ±0.5) and 6 % (φ = 0.9,
    # range 0.81–1.15); 25 % per coordinate is ≥ 4 sd, 10 % for the mean of four is ≥ 3.4 sd
    np.testing.assert_allclose(ess / expected, 1.0, atol=0.25)
    assert np.mean(ess) / expected == pytest.approx(1.0, abs=0.1)


def test_ess_capped_at_n_log10_n():
    # φ = −0.95 is antithetic enough (true ESS 39·N) that τ̂ falls below the floor 1/log10 N
    x = _ar1(np.random.default_rng(6), -0.95, 8, 1000, 2)
    np.testing.assert_allclose(bulk_ess(x), 8000 * math.log10(8000), rtol=1e-12)


# --- failures each part of R̂ catches ------------------------------------------------------------


def test_chain_with_shifted_mean_is_flagged():
    x = np.random.default_rng(7).standard_normal((4, 1000, 2))
    x[0, :, 0] += 1.0  # one chain off by one sd in coordinate 0 only
    rhat = split_rhat(x)
    # over 200 seeds: coordinate 0 min 1.08, mean 1.10; coordinate 1 max 1.002
    assert rhat[0] > 1.05
    assert rhat[1] < 1.01


def test_chain_with_different_scale_is_caught_by_folding():
    x = np.random.default_rng(8).standard_normal((4, 1000))
    x[0] *= 3.0  # same location, three times the spread
    split = _split_chains(x[None])
    plain = _rhat(_z_scale(split))[0]
    folded = _rhat(_z_scale(_fold(split)))[0]
    # over 200 seeds: rank R̂ alone max 1.003 (misses it), folded R̂ min 1.12
    assert plain < 1.01
    assert folded > 1.05
    assert float(split_rhat(x)) == pytest.approx(folded, rel=1e-14)


# --- interface -----------------------------------------------------------------------------------


def test_single_coordinate_input_gives_0d_arrays():
    x = np.random.default_rng(9).standard_normal((3, 50))
    rhat, ess = split_rhat(x), bulk_ess(x)
    assert rhat.shape == ess.shape == ()
    assert float(rhat) == pytest.approx(split_rhat(x[..., None])[0], rel=1e-14)
    assert float(ess) == pytest.approx(bulk_ess(x[..., None])[0], rel=1e-14)


def test_bulk_ess_invariant_to_monotone_transform():
    x = _ar1(np.random.default_rng(10), 0.7, 4, 200, 2)
    np.testing.assert_allclose(bulk_ess(np.exp(x)), bulk_ess(x), rtol=1e-12)
    np.testing.assert_allclose(bulk_ess(-(x**3)), bulk_ess(x), rtol=1e-12)


def test_constant_coordinate():
    x = np.random.default_rng(11).standard_normal((4, 100, 2))
    x[..., 1] = 2.5
    # nothing to correlate: ESS is the draw count; R̂ is 0/0, reported as NaN
    assert bulk_ess(x)[1] == 400
    rhat = split_rhat(x)
    assert np.isfinite(rhat[0]) and np.isnan(rhat[1])


def test_convergence_summary():
    x = np.random.default_rng(12).standard_normal((4, 301, 3))
    x[1, :, 2] += 2.0
    summary = convergence_summary(x)
    rhat, ess = split_rhat(x), bulk_ess(x)
    assert summary == {
        "rhat_max": pytest.approx(rhat.max()),
        "rhat_mean": pytest.approx(rhat.mean()),
        "ess_bulk_min": pytest.approx(ess.min()),
        "ess_bulk_mean": pytest.approx(ess.mean()),
        "n_chains": 4.0,
        "n_draws": 301.0,
    }
    assert all(type(v) is float for v in summary.values())
    assert summary["rhat_max"] > 1.1  # the shifted coordinate dominates
    # integer draws are accepted (as float64)
    assert convergence_summary(np.arange(40).reshape(2, 20))["n_draws"] == 20.0


@pytest.mark.parametrize(
    "chains, message",
    [
        (np.zeros((1, 100, 2)), "at least 2 chains"),
        (np.zeros((4, 3, 2)), "at least 4 draws"),
        (np.full((4, 10, 2), np.nan), "finite"),
        (np.where(np.eye(10)[:4, :, None] > 0, np.inf, 0.0), "finite"),
        (np.zeros(10), "n_chains, n_draws"),
        (np.zeros((2, 10, 2, 2)), "n_chains, n_draws"),
        (np.zeros((2, 10, 0)), "at least one coordinate"),
    ],
)
@pytest.mark.parametrize("fn", [split_rhat, bulk_ess, convergence_summary])
def test_bad_inputs_raise(fn, chains, message):
    with pytest.raises(ValueError, match=message):
        fn(chains)
