"""Tests for wgf.evaluation.metrics; tolerances are argued from the maths next to each test."""

import math

import numpy as np
import pytest
import torch

from wgf.evaluation import metrics as m

SHIFT = np.array([3.0, 0.0])  # |c| = 3


def _normal(n: int, seed: int, d: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d))


@pytest.fixture(scope="module")
def xy() -> tuple[np.ndarray, np.ndarray]:
    return _normal(1000, 0), _normal(1000, 1)


# ---------------------------------------------------------------- W2


def test_w2_same_distribution_small(xy):
    # In d = 2 (the critical dimension) E W2²(mu_n, nu_n) ~ C log n / n; for two
    # independent 1000-point N(0, I2) samples W2 is 0.18-0.22 across seeds, so
    # 0.3 (W2² = 0.09, about twice the typical value) is a safe yet failing bound.
    x, y = xy
    assert 0.0 < m.w2(x, y) < 0.3


def test_w2_translation_identity(xy):
    # For any coupling P, E_P|x - (y + c)|² = E_P|x - y|² - 2c·(x̄ - ȳ) + |c|²: the
    # linear term depends only on the marginals, so the optimal plan is unchanged
    # and W2(x, y+c)² = W2(x, y)² + |c|² - 2c·(x̄ - ȳ) holds exactly (LP optimum).
    x, y = xy
    expected = math.sqrt(m.w2(x, y) ** 2 + SHIFT @ SHIFT - 2 * SHIFT @ (x.mean(0) - y.mean(0)))
    got = m.w2(x, y + SHIFT)
    assert got == pytest.approx(expected, abs=1e-8)
    # x̄1 - ȳ1 ~ N(0, 2/1000) (sd 0.045): at 4 sd |2c·(x̄ - ȳ)| <= 1.07 and with
    # W2(x, y)² < 0.09 this gives W2 in [2.82, 3.18].
    assert abs(got - 3.0) < 0.2


def test_w2_pure_translation_exact(xy):
    # Same identity with y = x: W2(x, x + c) = |c| (identity coupling is optimal).
    x, _ = xy
    assert m.w2(x, x + SHIFT) == pytest.approx(3.0, abs=1e-6)
    assert m.w2(x, x) == pytest.approx(0.0, abs=1e-6)


def test_w2_refuses_large_inputs():
    with pytest.raises(ValueError, match="subsample"):
        m.w2(_normal(50, 0), _normal(51, 1), max_points=50)


# ---------------------------------------------------------------- MMD


def _direct_mmd(x: np.ndarray, y: np.ndarray, bandwidths) -> float:
    def ksum(a, b):
        sq = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return sum(np.exp(-sq / (2 * h * h)).mean() for h in bandwidths)

    return math.sqrt(max(ksum(x, x) + ksum(y, y) - 2 * ksum(x, y), 0.0))


@pytest.mark.parametrize("chunk", [7, 64, 70, 4096])
def test_mmd_chunked_matches_direct(chunk):
    # Chunking regroups the sums; each kernel value is rounded to float32 (relative
    # 2^-24 ≈ 6e-8, of either sign) and each tile row (≤ 150 terms here) is summed in float32
    # before the float64 total, so the 2·10⁴ O(1) terms' means move by ~1e-9 and the MMD
    # (≈ 0.3) by up to 1e-8 (8e-9 measured): 1e-7 is a tenfold margin, and a tile counted
    # twice or missed would move it by 1e-2.
    x, y = _normal(150, 2, d=3), _normal(130, 3, d=3) + 0.3
    bws = [0.3, 1.0, 2.5]
    assert m.mmd(x, y, bws, chunk=chunk) == pytest.approx(_direct_mmd(x, y, bws), abs=1e-7)


def test_mmd_float32_tiles_match_float64_at_evaluation_size():
    # The evaluation's size and scales (median × DEFAULT_MMD_SCALES) on two close sets, where
    # MMD² is a small difference of O(0.1) sums: the float32 tiles' rounding (random, 6e-8
    # relative per value) moves the MMD by ~1e-6 of itself; 1e-4 leaves a margin and is still
    # 100× below the seed-to-seed spread of any table's MMD.
    x, y = _normal(3000, 6, d=2), _normal(3000, 7, d=2) * 1.02
    bws = [m.median_bandwidth(x, y) * s for s in m.DEFAULT_MMD_SCALES]
    assert m.mmd(x, y, bws) == pytest.approx(_direct_mmd(x, y, bws), rel=1e-4)


def test_mmd_components_in_given_order_with_repeats():
    # Each bandwidth's MMD² is summed once however often it is given (evaluate_samples gives
    # the median twice) and comes back in the caller's order: the same floats as one at a time.
    x, y = _normal(120, 4, d=2), _normal(110, 5, d=2) + 0.5
    bws = [2.5, 0.3, 2.5, 1.0]
    got = m._mmd2_components(x, y, bws, 64)
    alone = [m._mmd2_components(x, y, [h], 64)[0] for h in bws]
    assert got.tolist() == alone
    assert got[0] == got[2] != got[1]


def test_mmd_identical_sets_zero(xy):
    x, _ = xy
    assert m.mmd(x, x, [0.5, 1.0]) < 1e-7
    assert m.mmd_median(x, x) < 1e-7
    assert m.mmd_multi(x, x) < 1e-7


def test_mmd_same_distribution_small_shift_large(xy):
    # Under the null the biased MMD² has mean (1/n + 1/m)·Σ_h (1 - E k_h(x, x')).
    # Median bandwidth for N(0, I2): h² ≈ 2 ln2 · 2 ≈ 2.77, E k = (1 + 2/h²)^-1 ≈ 0.58,
    # so MMD ≈ sqrt(0.002 · 0.42) ≈ 0.03; for the 6 scales Σ(1 - E k_h) ≈ 3.3, so
    # MMD ≈ 0.08. Bounds 0.08 / 0.15 allow ~3x the mean of MMD². A unit shift has
    # population MMD² = 2 Σ_h E k_h (1 - exp(-|c|²/(2(h²+2)))), ≈ 0.11 (MMD 0.34)
    # for the median kernel, far above both.
    x, y = xy
    c = SHIFT / 3
    same_med, same_multi = m.mmd_median(x, y), m.mmd_multi(x, y)
    assert same_med < 0.08
    assert same_multi < 0.15
    assert m.mmd_median(x, y + c) > 0.2 > 2 * same_med
    assert m.mmd_multi(x, y + c) > 0.3 > 2 * same_multi


def test_mmd_monotone_in_shift(xy):
    # For a fixed RBF kernel the population MMD² between N(0,I) and N(c,I) is
    # 2A(1 - exp(-|c|²/(2(h²+2)))), strictly increasing in |c|; the steps below
    # change it by far more than the ~0.03 sampling noise.
    x, y = xy
    values = [m.mmd(x, y + s * SHIFT / 3, [1.0]) for s in (0.0, 0.5, 1.0, 2.0, 4.0)]
    assert all(a < b for a, b in zip(values[:-1], values[1:], strict=True))


def test_median_bandwidth_matches_gaussian_value(xy):
    # |x - x'|²/2 ~ Exp(mean 2) for N(0, I2), so median |x - x'| = sqrt(4 ln 2) ≈ 1.665;
    # with 2000 pooled points the sample median is within a few percent.
    x, y = xy
    assert m.median_bandwidth(x, y) == pytest.approx(math.sqrt(4 * math.log(2)), rel=0.05)
    assert m.median_bandwidth(x, y) == m.median_bandwidth(x, y)


# ---------------------------------------------------------------- Sinkhorn


def test_sinkhorn_same_distribution_near_zero(xy):
    # Debiased Sinkhorn sits between MMD²-like and W2²-like values; here W2² ≈ 0.04,
    # so 0.1 is generous while being ~1% of the shifted value (≈ 9) below.
    x, y = xy
    same = m.sinkhorn_divergence(x[:400], y[:400])
    assert 0.0 <= same < 0.1
    assert m.sinkhorn_divergence(x[:400], y[:400] + SHIFT) > 7.0


def test_sinkhorn_pure_shift_equals_squared_norm(xy):
    # The separable-term argument of the W2 test applies to the Gibbs kernel too:
    # the entropic plan of (x, x+c) equals that of (x, x), so OT_eps(x, x+c) =
    # OT_eps(x, x) + |c|² while the self terms are translation invariant. Hence
    # S = |c|² exactly for any eps; only Sinkhorn's stopping error (stopThr 1e-6
    # on the marginals, costs O(10), so O(1e-5)) remains, observed ~1.2e-5.
    x, _ = xy
    assert m.sinkhorn_divergence(x[:500], x[:500] + SHIFT) == pytest.approx(9.0, abs=1e-4)
    assert m.sinkhorn_divergence(x[:300], x[:300]) < 1e-6


def test_symmetric_self_term_matches_the_alternating_solver(xy):
    # OT_eps(x, x) has one optimal plan; the averaged fixed point and POT's alternating
    # scaling both stop at marginal error 1e-6 (L2) with costs O(10), so their values
    # agree to O(1e-5); a solver converging elsewhere would be off by O(eps) = O(0.1).
    import ot

    x, _ = xy
    a = np.full(500, 1 / 500)
    cost = ot.dist(x[:500], x[:500])
    eps = 0.05 * float(cost.mean())
    assert m._symmetric_entropic_ot(a, cost, eps) == pytest.approx(
        m._entropic_ot(a, a, cost, eps), abs=1e-4
    )


def test_sinkhorn_scale_free_reg(xy):
    # eps = reg · mean cost scales like the cost, so S(s x, s y) = s² S(x, y).
    x, y = xy
    base = m.sinkhorn_divergence(x[:300], y[:300] + 0.5)
    assert m.sinkhorn_divergence(10 * x[:300], 10 * (y[:300] + 0.5)) == pytest.approx(
        100 * base, rel=1e-5
    )


# ---------------------------------------------------------------- modes


def test_mode_metrics_hand_made():
    w = m.mode_weights(np.array([0, 0, 1, 1]), 4)
    np.testing.assert_array_equal(w, [0.5, 0.5, 0.0, 0.0])
    uniform = np.full(4, 0.25)
    errs = m.mode_weight_errors(w, uniform)
    assert errs["mode_weight_max_error"] == pytest.approx(0.25)
    assert errs["mode_weight_tv"] == pytest.approx(0.5)
    assert m.mode_coverage(w, uniform) == pytest.approx(0.5)
    assert m.entropic_mode_coverage(w) == pytest.approx(math.log(2) / math.log(4))
    assert m.entropic_mode_coverage(uniform) == pytest.approx(1.0)
    assert m.entropic_mode_coverage([1.0, 0.0, 0.0]) == pytest.approx(0.0)
    assert m.entropic_mode_coverage([1.0]) == 1.0


def test_mode_coverage_threshold():
    # weight 0.02 < 0.1 · 0.3 is missed, 0.03 >= 0.1 · 0.3 counts as covered.
    truth = np.array([0.3, 0.3, 0.4])
    assert m.mode_coverage([0.02, 0.58, 0.4], truth) == pytest.approx(2 / 3)
    assert m.mode_coverage([0.03, 0.57, 0.4], truth) == pytest.approx(1.0)


def test_mode_weights_rejects_bad_assignment():
    with pytest.raises(ValueError):
        m.mode_weights(np.array([0, 4]), 4)
    with pytest.raises(ValueError):
        m.mode_weights(np.array([0.0, 1.0]), 4)


# ---------------------------------------------------------------- evaluate_samples


def test_evaluate_samples_keys_and_determinism():
    x = _normal(400, 4)
    ref = _normal(500, 5)
    assign = torch.from_numpy((x[:, 0] > 0).astype(np.int64))
    out = m.evaluate_samples(torch.from_numpy(x), ref, assign, [0.5, 0.5], n_ot=200, seed=3)
    expected = {
        "mmd_median",
        "mmd_multi",
        "w2",
        "sinkhorn",
        "mode_weight_max_error",
        "mode_weight_tv",
        "mode_coverage",
        "emc",
        "mode_weight_0",
        "mode_weight_1",
    }
    assert set(out) == expected
    assert all(isinstance(v, float) and math.isfinite(v) for v in out.values())
    assert out["mmd_median"] == pytest.approx(m.mmd_median(x, ref), abs=1e-12)
    assert out["mmd_multi"] == pytest.approx(m.mmd_multi(x, ref), abs=1e-12)
    assert out["mode_weight_0"] + out["mode_weight_1"] == pytest.approx(1.0)
    again = m.evaluate_samples(x, ref, assign.numpy(), [0.5, 0.5], n_ot=200, seed=3)
    assert again == out

    no_modes = m.evaluate_samples(x, ref, None, [0.5, 0.5], n_ot=200, seed=3)
    assert set(no_modes) == {"mmd_median", "mmd_multi", "w2", "sinkhorn"}


# ---------------------------------------------------------------- input errors


@pytest.mark.parametrize(
    "fn",
    [
        lambda a, b: m.w2(a, b),
        lambda a, b: m.mmd(a, b, [1.0]),
        m.mmd_median,
        m.sinkhorn_divergence,
        lambda a, b: m.evaluate_samples(a, b, None, [1.0]),
    ],
)
def test_dimension_mismatch_raises(fn):
    with pytest.raises(ValueError, match="dimension mismatch"):
        fn(_normal(20, 0, d=2), _normal(20, 1, d=3))


def test_non_finite_rows_raise():
    x = _normal(20, 0)
    x[3, 0] = np.nan
    x[7, 1] = np.inf
    with pytest.raises(ValueError, match="2 of 20 rows"):
        m.mmd_median(x, _normal(20, 1))
    with pytest.raises(ValueError, match="non-finite"):
        m.w2(_normal(20, 1), torch.from_numpy(x))
