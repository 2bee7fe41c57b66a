"""MCMC convergence diagnostics: rank-normalised split-R̂ and bulk ESS.

Both follow Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization, folding,
and localization: an improved R̂ for assessing convergence of MCMC", Bayesian Analysis 16(2),
as Stan and ArviZ define them (ArviZ ``rhat(method="rank")`` and ``ess(method="bulk")``):

* every chain is split in half (an odd draw count drops the middle draw), so that a trend within
  a chain shows up as disagreement between its halves;
* the draws of one coordinate, pooled over all split chains, are replaced by their normal scores
  ``Φ⁻¹((r − 3/8)/(S + 1/4))`` (average ranks ``r`` for ties, Blom's offset), so that both
  diagnostics are defined for heavy tails and invariant to monotone transformations;
* R̂ is the larger of the classic split-R̂ of these scores and of the scores of the folded draws
  ``|x − median|``: the first catches chains with different locations, the second chains with
  different scales;
* the bulk ESS is the ESS of the scores: autocorrelations from the FFT, combined across chains
  through the R̂ variance estimate, summed with Geyer's initial positive and initial monotone
  sequence truncation.

Only numpy and the standard library are used. Inputs are ``(n_chains, n_draws, d)`` arrays (or
``(n_chains, n_draws)`` for one coordinate); the diagnostics are per coordinate.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

__all__ = ["bulk_ess", "convergence_summary", "split_rhat"]

_MIN_CHAINS = 2
_MIN_DRAWS = 4
_STD_NORMAL = NormalDist()


def split_rhat(chains: np.ndarray) -> np.ndarray:
    """Rank-normalised split-R̂ per coordinate: ``max`` of the split-R̂ of the normal scores of the
    draws and of the folded draws ``|x − median|`` (ArviZ's ``method="rank"``).

    Values near 1 (below about 1.01) mean the chains agree in location and scale. Returns shape
    ``(d,)``, or a 0-d array for ``(n_chains, n_draws)`` input. A constant coordinate gives NaN.
    """
    x, scalar = _as_chains(chains)
    out = _rank_rhat(x)
    return out.reshape(()) if scalar else out


def bulk_ess(chains: np.ndarray) -> np.ndarray:
    """Bulk effective sample size per coordinate: the ESS of the normal scores of the split chains.

    It estimates how many independent draws the sample is worth for the mean and median of the
    bulk of the distribution; it is the total draw count for independent chains and much smaller
    for sticky ones. Returns shape ``(d,)``, or a 0-d array for ``(n_chains, n_draws)`` input.
    """
    x, scalar = _as_chains(chains)
    out = _bulk_ess(x)
    return out.reshape(()) if scalar else out


def convergence_summary(chains: np.ndarray) -> dict[str, float]:
    """Worst and mean R̂ and bulk ESS over coordinates, with the chain and per-chain draw counts.

    Keys: ``rhat_max``, ``rhat_mean``, ``ess_bulk_min``, ``ess_bulk_mean``, ``n_chains``,
    ``n_draws``; all floats, for tables and JSON reports.
    """
    x, _ = _as_chains(chains)
    rhat, ess = _rank_rhat(x), _bulk_ess(x)
    return {
        "rhat_max": float(np.max(rhat)),
        "rhat_mean": float(np.mean(rhat)),
        "ess_bulk_min": float(np.min(ess)),
        "ess_bulk_mean": float(np.mean(ess)),
        "n_chains": float(x.shape[1]),
        "n_draws": float(x.shape[2]),
    }


def _as_chains(chains: np.ndarray) -> tuple[np.ndarray, bool]:
    """Validate and return the draws as float64 ``(d, n_chains, n_draws)``, and whether the input
    held a single coordinate (2-D)."""
    x = np.asarray(chains, dtype=np.float64)
    if x.ndim not in (2, 3):
        raise ValueError(
            f"chains must be (n_chains, n_draws) or (n_chains, n_draws, d); got shape {x.shape}"
        )
    scalar = x.ndim == 2
    if scalar:
        x = x[..., None]
    n_chains, n_draws, d = x.shape
    if n_chains < _MIN_CHAINS:
        raise ValueError(f"need at least {_MIN_CHAINS} chains; got {n_chains}")
    if n_draws < _MIN_DRAWS:
        raise ValueError(f"need at least {_MIN_DRAWS} draws per chain; got {n_draws}")
    if d < 1:
        raise ValueError("chains must have at least one coordinate")
    if not np.isfinite(x).all():
        raise ValueError("chains must be finite (found NaN or inf)")
    return np.ascontiguousarray(x.transpose(2, 0, 1)), scalar


def _rank_rhat(x: np.ndarray) -> np.ndarray:
    """:func:`split_rhat` of validated draws ``x`` (d, m, n)."""
    split = _split_chains(x)
    bulk = _rhat(_z_scale(split))
    tail = _rhat(_z_scale(_fold(split)))
    return np.maximum(bulk, tail)  # NaN (constant coordinate) propagates


def _bulk_ess(x: np.ndarray) -> np.ndarray:
    """:func:`bulk_ess` of validated draws ``x`` (d, m, n)."""
    return _ess(_z_scale(_split_chains(x)))


def _split_chains(x: np.ndarray) -> np.ndarray:
    """``(..., m, n)`` → ``(..., 2m, n // 2)``: first and second halves as separate chains; for odd
    ``n`` the middle draw is dropped."""
    half = x.shape[-1] // 2
    return np.concatenate([x[..., :half], x[..., x.shape[-1] - half :]], axis=-2)


def _fold(x: np.ndarray) -> np.ndarray:
    """``|x − median|`` with the median of each coordinate over all its draws, ``x`` (d, m, n)."""
    return np.abs(x - np.median(x, axis=(-2, -1), keepdims=True))


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Normal scores ``Φ⁻¹((r − 3/8)/(S + 1/4))`` of each coordinate's pooled draws, ``x``
    (d, m, n); ``r`` are average ranks (ties share their mean rank), ``S = m·n``."""
    flat = x.reshape(x.shape[0], -1)
    size = flat.shape[1]
    ranks = np.empty_like(flat)
    for i, row in enumerate(flat):
        srt = np.sort(row)
        # ranks lo+1 … hi are tied at this value; their mean is (lo + 1 + hi)/2
        lo = np.searchsorted(srt, row, side="left")
        hi = np.searchsorted(srt, row, side="right")
        ranks[i] = 0.5 * (lo + 1 + hi)
    # ranks are multiples of ½, so few distinct ones: invert Φ once per distinct rank
    uniq, inverse = np.unique(ranks.ravel(), return_inverse=True)
    z = np.array([_STD_NORMAL.inv_cdf(p) for p in (uniq - 0.375) / (size + 0.25)])
    return z[inverse].reshape(x.shape)


def _rhat(x: np.ndarray) -> np.ndarray:
    """Classic (Gelman–Rubin) R̂ of chains ``x`` (..., m, n), no splitting or ranking:
    ``√(((n−1)/n·W + B/n)/W)`` with ``W`` the mean within-chain variance and ``B/n`` the variance
    of the chain means (both unbiased). NaN where every draw is equal, inf where only W = 0."""
    n = x.shape[-1]
    within = np.var(x, axis=-1, ddof=1).mean(axis=-1)
    between_over_n = np.var(x.mean(axis=-1), axis=-1, ddof=1)
    var_plus = (n - 1) / n * within + between_over_n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(var_plus / within)


def _fft_size(n: int) -> int:
    """Smallest 2·3·5-smooth integer ≥ ``n``: a cheap FFT length."""
    m = max(n, 1)
    while True:
        r = m
        for p in (2, 3, 5):
            while r % p == 0:
                r //= p
        if r == 1:
            return m
        m += 1


def _autocov(x: np.ndarray) -> np.ndarray:
    """Biased autocovariances ``(1/n) Σ_t (x_t − x̄)(x_{t+k} − x̄)`` for every lag ``k < n`` along the
    last axis, by FFT with zero padding to at least ``2n`` (no wrap-around)."""
    n = x.shape[-1]
    centred = x - x.mean(axis=-1, keepdims=True)
    size = _fft_size(2 * n)
    spec = np.fft.rfft(centred, n=size, axis=-1)
    return np.fft.irfft(spec * spec.conj(), n=size, axis=-1)[..., :n] / n


def _ess(x: np.ndarray) -> np.ndarray:
    """Multi-chain ESS of chains ``x`` (d, m, n) per coordinate (no splitting or ranking)."""
    d, m, n = x.shape
    total = m * n
    acov = _autocov(x).mean(axis=1)  # (d, n): averaged over chains
    mean_var = acov[:, 0] * n / (n - 1)  # W, the mean within-chain variance
    var_plus = mean_var * (n - 1) / n + np.var(x.mean(axis=-1), axis=-1, ddof=1)
    out = np.empty(d)
    for i in range(d):
        if np.ptp(x[i]) < np.finfo(np.float64).resolution:
            out[i] = total  # constant coordinate: nothing to correlate
            continue
        # autocorrelation combined across chains through var⁺ (Vehtari et al. 2021)
        rho = 1.0 - (mean_var[i] - acov[i]) / var_plus[i]
        rho[0] = 1.0
        tau = _geyer_tau(rho)
        out[i] = total / max(tau, 1.0 / math.log10(total))
    return out


def _geyer_tau(rho: np.ndarray) -> float:
    """Integrated autocorrelation time ``−1 + 2 Σ ρ_t`` from autocorrelations ``rho``
    (``rho[0] = 1``), truncated by Geyer's initial positive sequence and made monotone.

    With pair sums ``Γ_k = ρ_2k + ρ_2k+1``, the pairs ``k = 1, 2, …`` are examined while the
    previous pair sum is positive and ``2k < n − 2``; the sum keeps the pairs before the last
    examined one, each replaced by the running minimum (initial monotone sequence), plus, to
    reduce variance for antithetic chains, ``ρ_2k`` of the last examined pair where it is positive
    or that pair's sum is non-negative (Stan's and ArviZ's convention).
    """
    n = rho.size
    pairs = rho[: 2 * (n // 2)].reshape(-1, 2).sum(axis=1)
    n_examinable = max(0, (n - 3) // 2)  # pairs k ≥ 1 with 2k < n − 2
    stops = np.flatnonzero(pairs[:n_examinable] <= 0)
    k_end = int(stops[0]) + 1 if stops.size else n_examinable + 1  # first pair not examined
    kept = np.minimum.accumulate(pairs[: k_end - 1])
    even = rho[2 * (k_end - 1)]
    tail = even if (even > 0 or pairs[k_end - 1] >= 0) else 0.0
    return float(-1.0 + 2.0 * kept.sum() + tail)
