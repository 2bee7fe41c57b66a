"""Kernel density estimates of the generator's batch: log-density, score and mean shift.

``q̂_τ(x) = (1/N) Σ_j k_τ(x, x_j) / c_d(τ)`` over a detached batch. Everything is computed in
row chunks of the query so memory stays O(N · chunk), each chunk's N-wide buffer updated in place
(on the CPU chunks are narrowed to ``CPU_BLOCK_ENTRIES`` pairs, to stay in cache; on a GPU they
are widened to ``GPU_BLOCK_ENTRIES`` pairs: there launches, not bytes, cost).
Laplace distances are exact (no ``|x|²+|y|²−2xy`` cancellation, which would corrupt the score's
``1/|x − x_j|`` near neighbours); the RBF kernel, which only needs ``|x − x_j|²``, takes the
expansion by one matrix product about the batch mean. The data enter as columns (``d × N``,
each coordinate contiguous): the distance passes stream them, and ``weights @ columns.T`` is a
fast product where ``weights @ data`` with a narrow ``N × d`` operand is not (5× at d = 2 on
the CPU). The training case, the batch's own KDE (``x`` is ``data``, not tracked by autograd),
knows each query's nearest point, itself at distance 0, so its kernel weights need no per-row
shift and are symmetric: each pair is computed once and added to both of its rows
(:func:`_own_sums`), half the elementwise work.

``fused=True`` (``training.fused_kde``) computes the batch's own KDE on the CPU as one native
pass (:mod:`wgf.density.native`, C built on first use): each pair's distance, kernel weight and
every sum it feeds in one loop with a vectorised ``exp``, where eager PyTorch streams each block
through about a dozen passes. Without a working C compiler it falls back to the eager path,
with one warning.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..importance import logsumexp
from . import native

__all__ = [
    "KERNELS",
    "bandwidth_schedule",
    "exact_distances",
    "fused_available",
    "kde_log_density",
    "kde_stats",
    "log_kernel_normaliser",
    "mean_shift",
]

KERNELS = ("laplace", "rbf")


def log_kernel_normaliser(kernel: str, tau: float, dim: int) -> float:
    """``log ∫ k_τ(x, 0) dx``: Laplace ``τ^d · 2π^{d/2} Γ(d) / Γ(d/2)``, RBF ``(2πτ²)^{d/2}``."""
    if kernel == "laplace":
        return (
            dim * math.log(tau)
            + math.log(2.0)
            + 0.5 * dim * math.log(math.pi)
            + math.lgamma(dim)
            - math.lgamma(0.5 * dim)
        )
    if kernel == "rbf":
        return 0.5 * dim * math.log(2 * math.pi * tau**2)
    raise ValueError(f"unknown kernel {kernel!r}; known: {', '.join(KERNELS)}")


# On a GPU the cost of a KDE block at training sizes is kernel launches, not memory traffic:
# blocks there are widened to about this many pairwise entries (128 MiB of float32).
GPU_BLOCK_ENTRIES = 1 << 25
# On the CPU blocks are narrowed to at most this many entries (2 MiB of float32, the 256 × 2000
# block the chunk sweep found fastest): wider blocks fall out of cache and the time grows faster
# than N² (measured slope 2.3 over N = 2000–20 000 with 256-row blocks).
CPU_BLOCK_ENTRIES = 1 << 19


def _block_rows(x: torch.Tensor, chunk: int, n_data: int) -> int:
    """Rows per block against ``n_data`` points: ``chunk`` narrowed (CPU) or widened (GPU)."""
    if x.is_cuda:
        return max(chunk, GPU_BLOCK_ENTRIES // n_data)
    return max(1, min(chunk, CPU_BLOCK_ENTRIES // n_data))


def _chunked(
    x: torch.Tensor,
    chunk: int,
    fn: Callable[[torch.Tensor], tuple[torch.Tensor, ...]],
    n_data: int | None = None,
) -> tuple[torch.Tensor, ...]:
    if n_data:
        chunk = _block_rows(x, chunk, n_data)
    parts = [fn(x[i : i + chunk]) for i in range(0, x.shape[0], chunk)]
    return tuple(torch.cat(p) for p in zip(*parts, strict=True))


# On the CPU, summing squared coordinate differences over contiguous columns beats ``cdist``'s
# direct kernel up to about this dimension (measured at N = 2000: 2.6× at d = 2, 1.9× at d = 4,
# 0.8× at d = 8).
CPU_BY_COORDINATE_MAX_DIM = 6


def _by_coordinate(x: torch.Tensor) -> bool:
    return x.is_cuda or x.shape[1] <= CPU_BY_COORDINATE_MAX_DIM


def _squared_distances(x: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
    """``|x_i − y_j|²`` summed coordinate by coordinate over ``columns = yᵀ`` (contiguous)."""
    sq = (x[:, :1] - columns[0]).square_()
    for k in range(1, x.shape[1]):
        sq += (x[:, k : k + 1] - columns[k]).square_()
    return sq


def _distances(x: torch.Tensor, y: torch.Tensor, columns: torch.Tensor | None) -> torch.Tensor:
    """``|x_i − y_j|``: by coordinate over ``columns = yᵀ`` if given, else by cdist."""
    if columns is None:
        return torch.cdist(x, y, compute_mode="donot_use_mm_for_euclid_dist")
    return _squared_distances(x, columns).sqrt_()


def exact_distances(
    x: torch.Tensor, y: torch.Tensor, by_coordinate: bool | None = None
) -> torch.Tensor:
    """``|x_i − y_j|`` without the ``|x|² + |y|² − 2x·y`` expansion.

    Either by summing the squared coordinate differences, d elementwise passes (on a GPU, where
    the direct ``cdist`` is a generic reduction many times slower, and on the CPU in low
    dimension), or by ``cdist``'s direct kernel; ``by_coordinate`` overrides the choice.
    """
    if by_coordinate is None:
        by_coordinate = _by_coordinate(x)
    return _distances(x, y, y.T.contiguous() if by_coordinate else None)


def _is_same(x: torch.Tensor, data: torch.Tensor) -> bool:
    return x.data_ptr() == data.data_ptr() and x.shape == data.shape and x.stride() == data.stride()


def _log_kernel(dist: torch.Tensor, tau: float, kernel: str) -> torch.Tensor:
    if kernel == "laplace":
        return -dist / tau
    if kernel == "rbf":
        return -dist.square() / (2 * tau**2)
    raise ValueError(f"unknown kernel {kernel!r}; known: {', '.join(KERNELS)}")


def fused_available() -> bool:
    """False once building the native own-batch pass has failed in this process."""
    return native.available()


def log_weight_floor(dtype: torch.dtype) -> float:
    """The eager path's floor on a log kernel weight relative to the nearest point: about the
    smallest normal float's log. exp() of an argument that underflows takes a slow path (about
    15× on x86), and a term e^-87 next to the nearest point's 1 changes no sum. (Also keeps
    every weight positive.)"""
    return math.log(torch.finfo(dtype).tiny) + 1.0


def _expanded_squared_distances(data: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """``xb ↦ |xb_i − x_j|²`` as ``|x|² + |x_j|² − 2 x·x_j`` about the data's mean, by one matrix
    product per block (clamped at 0): fast, with rounding ~eps |x − x̄|², harmless where no
    ``1/|x − x_j|`` follows (the RBF kernel)."""
    centre = data.mean(0)
    centred = data - centre
    data_sq = centred.square().sum(1)[None]

    def squared(xb: torch.Tensor) -> torch.Tensor:
        xc = xb - centre
        sq = torch.addmm(data_sq, xc, centred.T, alpha=-2.0)
        return sq.add_(xc.square().sum(1, keepdim=True)).clamp_min_(0.0)

    return squared


def _add_by_symmetry(acc: torch.Tensor, w: torch.Tensor, i0: int, i1: int) -> None:
    """Add the block ``w`` (rows ``i0:i1`` against columns ``i0:``) of a symmetric matrix to
    its row sums ``acc``: along its rows, and along its columns right of the diagonal block."""
    acc[i0:i1] += w.sum(1)
    acc[i1:] += w[:, i1 - i0 :].sum(0)


def _own_sums(
    data: torch.Tensor, columns: torch.Tensor, tau: float, kernel: str, floor: float, chunk: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """The batch's own kernel sums by symmetry: ``Σ_j e_ij``, ``(Σ_j b_ij x_j)ᵀ`` (``d × N``) and,
    for Laplace, ``Σ_j b_ij``; ``e`` as in :func:`kde_stats`'s own case, ``b = e / |x_i − x_j|``
    (Laplace) or ``e`` (RBF). Both are symmetric (the own batch needs no per-row shift), so each
    block of rows ``I`` meets only the columns from its own start: every pair is computed once
    and added to both of its rows, about half the elementwise work (the products stay N²d)."""
    n, dim = data.shape
    rows = _block_rows(data, chunk, n)
    total = data.new_zeros(n)
    moments = data.new_zeros(dim, n)
    b_sum = data.new_zeros(n) if kernel == "laplace" else None
    if kernel == "rbf":
        centred = data - data.mean(0)
        half = centred.square().sum(1).mul_(-0.5 / tau**2)  # −|x_j − x̄|² / 2τ²
    by_columns = _by_coordinate(data)
    for i0 in range(0, n, rows):
        i1 = min(i0 + rows, n)
        right = columns[:, i0:]
        if kernel == "laplace":
            dist = _distances(data[i0:i1], data[i0:], right if by_columns else None)
            e = dist.mul(-1.0 / tau).clamp_min_(floor).exp_()
        else:
            # −|x_i − x_j|² / 2τ² by one product about the batch mean, ≤ 0 up to its rounding
            e = torch.addmm(half[i0:], centred[i0:i1], centred[i0:].T, alpha=1.0 / tau**2)
            e = e.add_(half[i0:i1, None]).clamp_(floor, 0.0).exp_()
        _add_by_symmetry(total, e, i0, i1)
        if b_sum is not None:
            e = e.mul_(torch.nan_to_num_(dist.reciprocal_(), posinf=0.0))
            _add_by_symmetry(b_sum, e, i0, i1)
        # Σ_j w_ij x_j as d × rows products: with the narrow side on the left they are fast.
        moments[:, i0:i1] += right @ e.T
        moments[:, i1:] += columns[:, i0:i1] @ e[:, i1 - i0 :]
    return total, moments, b_sum


def _own_score(
    data: torch.Tensor,
    tau: float,
    total: torch.Tensor,
    moments: torch.Tensor,
    b_sum: torch.Tensor | None,
) -> torch.Tensor:
    """``∇log q̂`` from the own-batch sums (``moments`` ``N × d``; ``b_sum`` given: Laplace)."""
    if b_sum is not None:
        return (moments - data * b_sum[:, None]) / (tau * total[:, None])
    return (moments / total[:, None] - data) / tau**2


def kde_stats(
    x: torch.Tensor,
    data: torch.Tensor,
    tau: float,
    kernel: str = "laplace",
    chunk: int = 256,
    normalised: bool = True,
    fused: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(log q̂(x), ∇ log q̂(x))`` in one pass over the pairwise distances.

    Laplace: ``∇log q̂ = Σ_j a_j (x_j − x) / (τ |x − x_j|)``, with the non-differentiable
    coincident term (a query equal to a data point) contributing zero displacement.
    RBF: ``(Σ_j a_j x_j − x) / τ²``. ``a = softmax_j log k(x, x_j)``. ``fused``: the native
    single pass where it applies (the batch's own KDE on the CPU; see the module docstring).
    """
    own = _is_same(x, data)
    data = data.detach()
    n, dim = data.shape
    offset = math.log(n) + (log_kernel_normaliser(kernel, tau, dim) if normalised else 0.0)
    columns = data.T.contiguous()
    floor = log_weight_floor(data.dtype)

    if own and not x.requires_grad and kernel in KERNELS:
        if fused and (sums := native.own_sums(data, columns, tau, kernel)) is not None:
            total, shift = sums  # Σ_j w_ij (x_j − x_i): the score's numerator
            width = tau if kernel == "laplace" else tau**2
            return total.log() - offset, shift.T / (width * total[:, None])
        total, moments, b_sum = _own_sums(data, columns, tau, kernel, floor, chunk)
        return total.log() - offset, _own_score(data, tau, total, moments.T, b_sum)

    if kernel == "rbf":
        squared = _expanded_squared_distances(data)
    elif kernel == "laplace":
        by_columns = columns if _by_coordinate(data) else None
    else:
        raise ValueError(f"unknown kernel {kernel!r}; known: {', '.join(KERNELS)}")

    def block(xb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # One chunk × N buffer, updated in place (the hot path of training): the kernel weights
        # relative to the nearest point, e = k(x, x_j) / max_j k(x, x_j), then for Laplace the
        # same buffer times 1/|x − x_j| (0 for a coincident point).
        if kernel == "laplace":
            dist = _distances(xb, data, by_columns)
            if own:  # the nearest point is the query itself, at distance 0
                e = dist.mul(-1.0 / tau)
                scale = xb.new_zeros(())
            else:
                nearest = dist.amin(1, keepdim=True)
                e = dist.sub(nearest).mul_(-1.0 / tau)
                scale = -nearest[:, 0] / tau
            e = e.clamp_min_(floor).exp_()
        else:
            sq = squared(xb)
            if own:  # the query itself, at distance 0 up to the expansion's rounding
                e = sq.mul_(-0.5 / tau**2)
                scale = xb.new_zeros(())
            else:
                nearest = sq.amin(1, keepdim=True)
                e = sq.sub_(nearest).mul_(-0.5 / tau**2)
                scale = -nearest[:, 0] * (0.5 / tau**2)
            e = e.clamp_min_(floor).exp_()
        total = e.sum(1)
        log_q = scale + total.log()
        if kernel == "laplace":
            b = e.mul_(torch.nan_to_num_(dist.reciprocal_(), posinf=0.0))
            score = (b @ columns.T - xb * b.sum(1, keepdim=True)) / (tau * total[:, None])
        else:
            score = (e @ columns.T / total[:, None] - xb) / tau**2
        return log_q - offset, score

    return _chunked(x, chunk, block, n)  # type: ignore[return-value]


def kde_log_density(
    x: torch.Tensor, data: torch.Tensor, tau: float, kernel: str = "laplace", chunk: int = 32
) -> torch.Tensor:
    """Normalised ``log q̂_τ(x)``; differentiable in ``x`` (used to check the score).

    32-row blocks: the training monitor's float64 log-sum-exp of 5000 points against 2000 took
    46 ms against 54 ms in 256-row blocks at d = 2 and 36 against 66 ms at d = 16 (medians of 15
    interleaved calls); each row is its own sum, so the block size changes no float."""
    data = data.detach()
    n, dim = data.shape
    offset = math.log(n) + log_kernel_normaliser(kernel, tau, dim)
    columns = data.T.contiguous() if _by_coordinate(data) else None
    # RBF: |Δ|² as such (no sqrt to undo): by coordinate in low dimension; above, in float64,
    # expanded about the data's mean by one matrix product (its rounding, ~1e-16 |x|², is
    # harmless; 2-3× faster than cdist's direct kernel at d = 16); in float32 by cdist, whose
    # rounding the expansion would raise to ~1e-7 |x|²
    expand = kernel == "rbf" and columns is None and data.dtype == torch.float64
    squared = _expanded_squared_distances(data) if expand else None

    def block(xb: torch.Tensor) -> tuple[torch.Tensor]:
        if kernel == "rbf" and columns is not None:
            log_k = _squared_distances(xb, columns).mul_(-0.5 / tau**2)
        elif squared is not None:
            log_k = squared(xb).mul_(-0.5 / tau**2)
        else:
            log_k = _log_kernel(_distances(xb, data, columns), tau, kernel)
        return (logsumexp(log_k, 1) - offset,)

    return _chunked(x, chunk, block, n)[0]


def mean_shift(x: torch.Tensor, data: torch.Tensor, tau: float, chunk: int = 256) -> torch.Tensor:
    """Drifting models' Laplace mean shift ``Σ_j a_j (x_j − x)``; not the gradient of a KDE."""
    data = data.detach()
    columns = data.T.contiguous()
    by_columns = columns if _by_coordinate(data) else None

    def block(xb: torch.Tensor) -> tuple[torch.Tensor]:
        a = torch.softmax(_distances(xb, data, by_columns).mul_(-1.0 / tau), dim=1)
        return (a @ columns.T - xb,)

    return _chunked(x, chunk, block, data.shape[0])[0]


def bandwidth_schedule(step: int, total: int, tau_init: float, final_ratio: float) -> float:
    """Geometric decay from ``tau_init`` to ``tau_init · final_ratio`` over ``total`` steps."""
    frac = step / max(total - 1, 1)
    return tau_init * final_ratio**frac
