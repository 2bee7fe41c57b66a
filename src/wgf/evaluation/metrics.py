"""Sample-quality metrics comparing generated samples with exact target samples.

All functions accept numpy arrays or torch tensors of shape ``(n, d)`` (a 1-D
array is read as ``n`` samples in one dimension) and return Python floats or
numpy arrays. The module depends only on numpy, torch and POT; POT (and the scipy it brings,
about 2 s of a job's start-up) is imported by the optimal-transport metrics alone.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..importance import exp_floor

__all__ = [
    "as_samples",
    "median_bandwidth",
    "mmd",
    "mmd_median",
    "mmd_multi",
    "w2",
    "sinkhorn_divergence",
    "mode_weights",
    "mode_weight_errors",
    "mode_coverage",
    "entropic_mode_coverage",
    "evaluate_samples",
    "subsample",
    "to_numpy",
]

DEFAULT_MMD_SCALES: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
_MMD_CHUNK = 1024
_MMD_MAX_POINTS = 10_000
# the float32 tiles' exponents stop where exp would turn subnormal (importance.exp_floor)
_MIN_LOG_KERNEL = exp_floor(torch.float32)


def to_numpy(a: Any) -> np.ndarray:
    """A tensor (detached, on the CPU) or array-like as a numpy array."""
    if isinstance(a, torch.Tensor):
        return a.detach().cpu().numpy()
    return np.asarray(a)


def as_samples(
    a: Any, name: str, dim: int | None = None, drop_non_finite: bool = False
) -> np.ndarray:
    """A sample set as a float64 array of shape (n, d), checked: non-empty, of dimension ``dim``
    if given, and finite (rows with non-finite values raise, or are dropped)."""
    arr = to_numpy(a).astype(np.float64, copy=False)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d); got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(f"{name} has dimension {arr.shape[1]} but the target has {dim}")
    finite = np.isfinite(arr).all(axis=1)
    if drop_non_finite:
        arr = arr[finite]
        if arr.shape[0] == 0:
            raise ValueError(f"{name} has no finite rows")
    elif not finite.all():
        bad = int((~finite).sum())
        raise ValueError(f"{name} has {bad} of {arr.shape[0]} rows with non-finite values")
    return arr


def _as_pair(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    xa, ya = as_samples(x, "x"), as_samples(y, "y")
    if xa.shape[1] != ya.shape[1]:
        raise ValueError(f"dimension mismatch: x has d={xa.shape[1]}, y has d={ya.shape[1]}")
    return xa, ya


def _as_weights(w: Any, name: str) -> np.ndarray:
    arr = to_numpy(w).astype(np.float64, copy=False).reshape(-1)
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be a non-empty vector of finite, non-negative weights")
    return arr


def subsample(a: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """At most ``n`` rows of ``a``, drawn without replacement, in their original order."""
    if a.shape[0] <= n:
        return a
    return a[np.sort(rng.choice(a.shape[0], size=n, replace=False))]


def median_bandwidth(x: Any, y: Any, max_points: int = 2000, seed: int = 0) -> float:
    """Median of pairwise Euclidean distances within the pooled sample.

    The standard median heuristic for RBF bandwidths; the pooled sample is
    subsampled deterministically to ``max_points`` to keep the cost O(max_points²).
    Falls back to the median of the non-zero distances (then 1.0) so that
    heavily duplicated samples never yield a zero bandwidth.
    """
    from scipy.spatial.distance import pdist  # 6-12x torch.pdist's speed, the same floats

    xa, ya = _as_pair(x, y)
    pooled = subsample(np.concatenate([xa, ya]), max_points, np.random.default_rng(seed))
    if pooled.shape[0] < 2:
        return 1.0
    d = pdist(pooled - pooled.mean(axis=0))
    med = float(np.median(d))
    if med > 0:
        return med
    pos = d[d > 0]
    return float(np.median(pos)) if pos.size else 1.0


def _kernel_sum(
    a: torch.Tensor,
    b: torch.Tensor,
    neg_inv_2h2: torch.Tensor,
    chunk: int,
    symmetric: bool,
) -> torch.Tensor:
    """Sum of exp(-|a_i - b_j|² / (2h²)) over all pairs, one entry per bandwidth.

    Works on ``chunk × chunk`` tiles with three reused buffers, so memory is
    O(chunk²) whatever the sample sizes; with ``symmetric`` (a is b) only tiles
    on or above the diagonal are evaluated and off-diagonal ones counted twice.
    Each tile is computed in float32 (its exponentials cost half of float64's) from
    float64 squared distances, its rows summed in float32 and the row sums in float64: the
    MMD moves by at most about 1e-6 of itself (5e-7 measured at 3000 per side, 1e-7 at 10⁴;
    tests/unit/evaluation/test_metrics.py), far below any seed's noise. Exponents
    are clamped at -80 so no (slow) subnormal floats arise; this changes each kernel value
    by less than 2e-35.
    """
    total = torch.zeros(len(neg_inv_2h2), dtype=torch.float64)
    a_sq, b_sq = (a * a).sum(1), (b * b).sum(1)
    rows, cols = min(chunk, a.shape[0]), min(chunk, b.shape[0])
    sq_buf = torch.empty(rows * cols, dtype=torch.float64)
    sq32_buf = torch.empty(rows * cols, dtype=torch.float32)
    k_buf = torch.empty(rows * cols, dtype=torch.float32)
    for i in range(0, a.shape[0], chunk):
        ai, ai_sq = a[i : i + chunk], a_sq[i : i + chunk]
        for j in range(i if symmetric else 0, b.shape[0], chunk):
            bj, bj_sq = b[j : j + chunk], b_sq[j : j + chunk]
            shape = (ai.shape[0], bj.shape[0])
            size = shape[0] * shape[1]
            sq = sq_buf[:size].view(shape)
            torch.add(ai_sq[:, None], bj_sq[None, :], out=sq)
            sq.addmm_(ai, bj.T, alpha=-2.0).clamp_(min=0.0)
            sq32 = sq32_buf[:size].view(shape)
            sq32.copy_(sq)
            k = k_buf[:size].view(shape)
            weight = 2.0 if symmetric and j != i else 1.0
            for h, c in enumerate(neg_inv_2h2.tolist()):
                torch.mul(sq32, c, out=k).clamp_(min=_MIN_LOG_KERNEL)
                # float32 row sums (1024 terms, relative error ~1e-9 once pooled), pooled in
                # float64: 5x cheaper than converting the whole tile to float64 to sum it
                total[h] += weight * k.exp_().sum(1).sum(dtype=torch.float64)
    return total


def _mmd2_components(
    x: np.ndarray, y: np.ndarray, bandwidths: Sequence[float], chunk: int
) -> np.ndarray:
    """Biased (V-statistic) MMD² for each single-bandwidth RBF kernel, unclipped."""
    h = np.asarray(bandwidths, dtype=np.float64).reshape(-1)
    if h.size == 0 or not np.all(np.isfinite(h)) or np.any(h <= 0):
        raise ValueError(f"bandwidths must be a non-empty sequence of positive numbers; got {h}")
    if chunk < 1:
        raise ValueError(f"chunk must be positive; got {chunk}")
    center = np.concatenate([x, y]).mean(axis=0)
    xt = torch.from_numpy(x - center)
    yt = torch.from_numpy(y - center)
    # a bandwidth given twice (evaluate_samples: the median alone and at scale 1) is summed once
    unique, index = np.unique(h, return_inverse=True)
    c = torch.from_numpy(-0.5 / unique**2)
    n, m = x.shape[0], y.shape[0]
    kxx = _kernel_sum(xt, xt, c, chunk, symmetric=True) / n**2
    kyy = _kernel_sum(yt, yt, c, chunk, symmetric=True) / m**2
    kxy = _kernel_sum(xt, yt, c, chunk, symmetric=False) / (n * m)
    return (kxx + kyy - 2.0 * kxy).numpy()[index.reshape(-1)]


def mmd(x: Any, y: Any, bandwidths: Sequence[float], chunk: int = _MMD_CHUNK) -> float:
    """Maximum mean discrepancy with the kernel sum_h exp(-|a-b|²/(2h²)).

    Uses the biased V-statistic (includes the diagonal terms), which is always
    non-negative up to rounding; it is clipped at 0 and its square root is
    returned, i.e. the MMD itself rather than MMD². Computed in float64 in
    ``chunk × chunk`` tiles so memory is O(chunk²) for any n (tens of thousands).
    """
    xa, ya = _as_pair(x, y)
    mmd2 = float(_mmd2_components(xa, ya, bandwidths, chunk).sum())
    return float(np.sqrt(max(mmd2, 0.0)))


def mmd_median(x: Any, y: Any) -> float:
    """MMD with a single RBF kernel at the median-heuristic bandwidth."""
    return mmd(x, y, [median_bandwidth(x, y)])


def mmd_multi(x: Any, y: Any, scales: Sequence[float] = DEFAULT_MMD_SCALES) -> float:
    """MMD with a sum of RBF kernels at bandwidths median × scale.

    Several length scales make the statistic sensitive both to local shape and
    to mass imbalances between distant modes.
    """
    h = median_bandwidth(x, y)
    return mmd(x, y, [h * s for s in scales])


def w2(x: Any, y: Any, max_points: int = 5000) -> float:
    """Wasserstein-2 distance between the empirical measures via exact OT.

    Solves the assignment LP with POT's network simplex on the squared
    Euclidean cost; the cost matrix is n×m, so sizes above ``max_points`` are
    refused rather than risking memory exhaustion.
    """
    import ot

    xa, ya = _as_pair(x, y)
    if max(xa.shape[0], ya.shape[0]) > max_points:
        raise ValueError(
            f"w2 got {xa.shape[0]} and {ya.shape[0]} points (max_points={max_points}); "
            "subsample the inputs first"
        )
    a = np.full(xa.shape[0], 1.0 / xa.shape[0])
    b = np.full(ya.shape[0], 1.0 / ya.shape[0])
    cost = ot.dist(xa, ya)
    return float(np.sqrt(max(float(ot.emd2(a, b, cost, numItermax=10**7)), 0.0)))


_SINKHORN_TOL = 1e-6
_SINKHORN_MAX_ITER = 2000


def _entropic_value(
    plan: np.ndarray, a: np.ndarray, b: np.ndarray, cost: np.ndarray, eps: float
) -> float:
    """<P, C> + eps·KL(P | a⊗b), with the generalised KL for a not exactly normalised P."""
    ratio = np.divide(plan, np.outer(a, b), out=np.ones_like(plan), where=plan > 0)
    kl = float((plan * np.log(ratio)).sum() - plan.sum() + 1.0)
    return float((plan * cost).sum()) + eps * kl


def _entropic_ot(a: np.ndarray, b: np.ndarray, cost: np.ndarray, eps: float) -> float:
    """Entropic OT value <P, C> + eps·KL(P | a⊗b) at POT's Sinkhorn plan P.

    The cost is first shifted by its row and column minima (a separable change
    that leaves the plan unchanged) so the Gibbs kernel has a unit entry in
    every row and column; the fast scaling algorithm is used, with the
    log-domain solver as a fallback if it fails to reach the marginals.
    """
    import ot

    shifted = cost - cost.min(axis=1, keepdims=True)
    shifted -= shifted.min(axis=0, keepdims=True)
    kwargs = {"numItermax": _SINKHORN_MAX_ITER, "stopThr": _SINKHORN_TOL}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = ot.sinkhorn(a, b, shifted, eps, method="sinkhorn", **kwargs)
        if not _reaches_marginals(plan, a, b):
            plan = ot.sinkhorn(a, b, shifted, eps, method="sinkhorn_log", **kwargs)
    return _entropic_value(plan, a, b, cost, eps)


def _reaches_marginals(plan: np.ndarray, a: np.ndarray, b: np.ndarray) -> bool:
    marg_err = np.abs(plan.sum(1) - a).sum() + np.abs(plan.sum(0) - b).sum()
    return bool(np.all(np.isfinite(plan)) and marg_err <= 1e-3)


def _symmetric_entropic_ot(a: np.ndarray, cost: np.ndarray, eps: float) -> float:
    """:func:`_entropic_ot` of a measure with itself (``cost`` symmetric, zero diagonal).

    The optimal plan is ``diag(u) K diag(u)``; the averaged fixed point ``u ← √(u·a/(Ku))``
    (Feydy et al. 2019, §3) reaches it in tens of matrix-vector products where the
    alternating one takes hundreds, to POT's criterion (‖P1 − a‖₂ < tol, checked every
    10 iterations). Falls back to :func:`_entropic_ot` where it does not converge.
    """
    kernel = np.exp(-cost / eps)
    u = np.ones_like(a)
    for it in range(_SINKHORN_MAX_ITER):
        ku = kernel @ u
        if it % 10 == 0 and np.linalg.norm(u * ku - a) < _SINKHORN_TOL:
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.sqrt(u * a / ku)
        if not np.all(np.isfinite(u)):
            return _entropic_ot(a, a, cost, eps)
    plan = u[:, None] * kernel * u[None, :]
    if not _reaches_marginals(plan, a, a):
        return _entropic_ot(a, a, cost, eps)
    return _entropic_value(plan, a, a, cost, eps)


def sinkhorn_divergence(x: Any, y: Any, reg: float = 0.05) -> float:
    """Debiased Sinkhorn divergence S(x,y) - (S(x,x) + S(y,y))/2, squared cost.

    S is the entropic OT value including the entropy term (Feydy et al. 2019),
    which makes the divergence non-negative and zero iff the measures agree.
    The entropic regularisation is ``eps = reg × mean squared distance between
    x and y`` (the same eps for all three terms), so the result scales like a
    squared distance under rescaling of the data (scale-free reg). It
    approaches W2² as reg → 0; for a pure translation of a point cloud it
    equals |c|² exactly for any eps. Tiny negatives from rounding are clipped.
    The cross term is solved with POT's Sinkhorn, the two self terms by the symmetric
    fixed point (:func:`_symmetric_entropic_ot`).
    """
    import ot

    xa, ya = _as_pair(x, y)
    if not reg > 0:
        raise ValueError(f"reg must be positive; got {reg}")
    a = np.full(xa.shape[0], 1.0 / xa.shape[0])
    b = np.full(ya.shape[0], 1.0 / ya.shape[0])
    cxy = ot.dist(xa, ya)
    mean_cost = float(cxy.mean())
    if mean_cost <= 0:
        return 0.0
    eps = reg * mean_cost
    sxy = _entropic_ot(a, b, cxy, eps)
    del cxy
    sxx = _symmetric_entropic_ot(a, ot.dist(xa, xa), eps)
    syy = _symmetric_entropic_ot(b, ot.dist(ya, ya), eps)
    return float(max(sxy - 0.5 * (sxx + syy), 0.0))


def mode_weights(assignment: Any, n_modes: int) -> np.ndarray:
    """Fraction of samples assigned to each of ``n_modes`` modes."""
    assign = to_numpy(assignment).reshape(-1)
    if n_modes < 1:
        raise ValueError(f"n_modes must be >= 1; got {n_modes}")
    if assign.size == 0:
        raise ValueError("assignment is empty")
    if not np.issubdtype(assign.dtype, np.integer):
        raise ValueError(f"assignment must hold integer mode indices; got dtype {assign.dtype}")
    if assign.min() < 0 or assign.max() >= n_modes:
        raise ValueError(
            f"assignment indices must lie in [0, {n_modes}); "
            f"got range [{assign.min()}, {assign.max()}]"
        )
    return np.bincount(assign, minlength=n_modes).astype(np.float64) / assign.size


def mode_weight_errors(weights_hat: Any, weights_true: Any) -> dict[str, float]:
    """Max absolute and total-variation errors between mode-weight vectors."""
    wh = _as_weights(weights_hat, "weights_hat")
    wt = _as_weights(weights_true, "weights_true")
    if wh.shape != wt.shape:
        raise ValueError(f"weight vectors differ in length: {wh.size} vs {wt.size}")
    diff = np.abs(wh - wt)
    return {"mode_weight_max_error": float(diff.max()), "mode_weight_tv": float(0.5 * diff.sum())}


def mode_coverage(weights_hat: Any, weights_true: Any, threshold: float = 0.1) -> float:
    """Fraction of modes whose estimated weight is at least threshold × true weight.

    Only modes with positive true weight are counted, so coverage measures how
    many real modes the sampler found.
    """
    wh = _as_weights(weights_hat, "weights_hat")
    wt = _as_weights(weights_true, "weights_true")
    if wh.shape != wt.shape:
        raise ValueError(f"weight vectors differ in length: {wh.size} vs {wt.size}")
    real = wt > 0
    if not real.any():
        raise ValueError("weights_true has no mode with positive weight")
    return float(np.mean(wh[real] >= threshold * wt[real]))


def entropic_mode_coverage(weights_hat: Any) -> float:
    """Entropy of the mode weights divided by log K (EMC).

    Equals 1 when all K modes are equally populated and 0 when one mode holds
    everything; weights are renormalised, 0·log 0 = 0, and K = 1 gives 1.0.
    """
    w = _as_weights(weights_hat, "weights_hat")
    if w.size == 1:
        return 1.0
    total = w.sum()
    if total <= 0:
        raise ValueError("weights_hat sums to zero")
    p = w[w > 0] / total
    return float(-(p * np.log(p)).sum() / np.log(w.size))


def evaluate_samples(
    x: Any,
    exact: Any,
    assign_x: Any | None,
    weights_true: Any,
    n_ot: int = 2000,
    seed: int = 0,
    sinkhorn_reg: float = 0.05,
    coverage_threshold: float = 0.1,
) -> dict[str, float]:
    """All metrics of samples ``x`` against exact target samples ``exact``.

    OT metrics (w2, sinkhorn) use deterministic subsamples of at most ``n_ot``
    points from each set, MMDs at most 10 000 points; subsamples are drawn
    without replacement from ``np.random.default_rng(seed)``. Mode metrics use
    ``assign_x`` (one mode index per row of ``x``) and are skipped if it is None.
    The two MMDs share one pass over the data (the kernel sum is linear in the
    per-bandwidth terms).
    """
    xa, ra = _as_pair(x, exact)
    rng = np.random.default_rng(seed)
    x_ot, r_ot = subsample(xa, n_ot, rng), subsample(ra, n_ot, rng)
    x_mmd, r_mmd = subsample(xa, _MMD_MAX_POINTS, rng), subsample(ra, _MMD_MAX_POINTS, rng)

    h = median_bandwidth(x_mmd, r_mmd, seed=seed)
    comps = _mmd2_components(x_mmd, r_mmd, [h * s for s in DEFAULT_MMD_SCALES] + [h], _MMD_CHUNK)
    out: dict[str, float] = {
        "mmd_median": float(np.sqrt(max(comps[-1], 0.0))),
        "mmd_multi": float(np.sqrt(max(comps[:-1].sum(), 0.0))),
        "w2": w2(x_ot, r_ot, max_points=max(n_ot, 1)),
        "sinkhorn": sinkhorn_divergence(x_ot, r_ot, reg=sinkhorn_reg),
    }
    if assign_x is not None:
        wt = _as_weights(weights_true, "weights_true")
        assign = to_numpy(assign_x).reshape(-1)
        if assign.shape[0] != xa.shape[0]:
            raise ValueError(f"assign_x has {assign.shape[0]} entries but x has {xa.shape[0]} rows")
        wh = mode_weights(assign, wt.size)
        out.update(mode_weight_errors(wh, wt))
        out["mode_coverage"] = mode_coverage(wh, wt, coverage_threshold)
        out["emc"] = entropic_mode_coverage(wh)
        out.update({f"mode_weight_{k}": float(v) for k, v in enumerate(wh)})
    return out
