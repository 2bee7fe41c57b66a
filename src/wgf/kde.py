"""Kernel density estimates of the generator's batch: log-density, score and mean shift.

``q̂_τ(x) = (1/N) Σ_j k_τ(x, x_j) / c_d(τ)`` over a detached batch. Everything is computed in
row chunks of the query so memory stays O(N · chunk), each chunk's N-wide buffer updated in place
(on a GPU the chunks are widened to ``GPU_BLOCK_ENTRIES`` pairs: there launches, not bytes, cost).
Laplace distances are exact (no ``|x|²+|y|²−2xy`` cancellation, which would corrupt the score's
``1/|x − x_j|`` near neighbours); the RBF kernel, which only needs ``|x − x_j|²``, takes the
expansion by one matrix product about the batch mean.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

__all__ = [
    "KERNELS",
    "bandwidth_schedule",
    "exact_distances",
    "kde_log_density",
    "kde_score",
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


def _chunked(
    x: torch.Tensor,
    chunk: int,
    fn: Callable[[torch.Tensor], tuple[torch.Tensor, ...]],
    n_data: int | None = None,
) -> tuple[torch.Tensor, ...]:
    if x.is_cuda and n_data:
        chunk = max(chunk, GPU_BLOCK_ENTRIES // n_data)
    parts = [fn(x[i : i + chunk]) for i in range(0, x.shape[0], chunk)]
    return tuple(torch.cat(p) for p in zip(*parts, strict=True))


def exact_distances(
    x: torch.Tensor, y: torch.Tensor, by_coordinate: bool | None = None
) -> torch.Tensor:
    """``|x_i − y_j|`` without the ``|x|² + |y|² − 2x·y`` expansion.

    On the CPU by ``cdist``'s direct kernel; on a GPU (or ``by_coordinate=True``) by summing the
    squared coordinate differences, d elementwise passes, since CUDA's direct ``cdist`` is a
    generic reduction many times slower.
    """
    if not (x.is_cuda if by_coordinate is None else by_coordinate):
        return torch.cdist(x, y, compute_mode="donot_use_mm_for_euclid_dist")
    sq = (x[:, :1] - y[:, 0]).square()
    for k in range(1, x.shape[1]):
        sq = sq + (x[:, k : k + 1] - y[:, k]).square()
    return sq.sqrt()


def _log_kernel(dist: torch.Tensor, tau: float, kernel: str) -> torch.Tensor:
    if kernel == "laplace":
        return -dist / tau
    if kernel == "rbf":
        return -dist.square() / (2 * tau**2)
    raise ValueError(f"unknown kernel {kernel!r}; known: {', '.join(KERNELS)}")


def kde_stats(
    x: torch.Tensor,
    data: torch.Tensor,
    tau: float,
    kernel: str = "laplace",
    chunk: int = 256,
    normalised: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(log q̂(x), ∇ log q̂(x))`` in one pass over the pairwise distances.

    Laplace: ``∇log q̂ = Σ_j a_j (x_j − x) / (τ |x − x_j|)``, with the non-differentiable
    coincident term (a query equal to a data point) contributing zero displacement.
    RBF: ``(Σ_j a_j x_j − x) / τ²``. ``a = softmax_j log k(x, x_j)``.
    """
    data = data.detach()
    n, dim = data.shape
    offset = math.log(n) + (log_kernel_normaliser(kernel, tau, dim) if normalised else 0.0)
    if kernel == "rbf":
        centre = data.mean(0)
        centred = data - centre
        data_sq = centred.square().sum(1)[None]

    # Relative kernel weights below the smallest normal float are raised to it: exp() of an
    # argument that underflows takes a slow path (about 15× on x86), and a term e^-87 next to
    # the nearest point's 1 changes no sum. (Also keeps every weight positive.)
    floor = math.log(torch.finfo(data.dtype).tiny) + 1.0

    def block(xb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # One chunk × N buffer, updated in place (the hot path of training): the kernel weights
        # relative to the nearest point, e = k(x, x_j) / max_j k(x, x_j), then for Laplace the
        # same buffer times 1/|x − x_j| (0 for a coincident point).
        if kernel == "laplace":
            dist = exact_distances(xb, data)
            nearest = dist.amin(1, keepdim=True)
            e = dist.sub(nearest).mul_(-1.0 / tau).clamp_min_(floor).exp_()
            scale = -nearest[:, 0] / tau
        elif kernel == "rbf":
            # |x|² + |x_j|² − 2 x·x_j by one matrix product, about the batch mean (no 1/|x − x_j|
            # here, so the rounding of the expansion is harmless).
            xc = xb - centre
            sq = torch.addmm(data_sq, xc, centred.T, alpha=-2.0)
            sq.add_(xc.square().sum(1, keepdim=True)).clamp_min_(0.0)
            nearest = sq.amin(1, keepdim=True)
            e = sq.sub_(nearest).mul_(-0.5 / tau**2).clamp_min_(floor).exp_()
            scale = -nearest[:, 0] * (0.5 / tau**2)
        else:
            raise ValueError(f"unknown kernel {kernel!r}; known: {', '.join(KERNELS)}")
        total = e.sum(1)
        log_q = scale + total.log()
        if kernel == "laplace":
            b = e.mul_(torch.nan_to_num_(dist.reciprocal_(), posinf=0.0))
            score = (b @ data - xb * b.sum(1, keepdim=True)) / (tau * total[:, None])
        else:
            score = (e @ data / total[:, None] - xb) / tau**2
        return log_q - offset, score

    return _chunked(x, chunk, block, n)  # type: ignore[return-value]


def kde_log_density(
    x: torch.Tensor, data: torch.Tensor, tau: float, kernel: str = "laplace", chunk: int = 256
) -> torch.Tensor:
    """Normalised ``log q̂_τ(x)``; differentiable in ``x`` (used to check the score)."""
    data = data.detach()
    n, dim = data.shape
    offset = math.log(n) + log_kernel_normaliser(kernel, tau, dim)

    def block(xb: torch.Tensor) -> tuple[torch.Tensor]:
        dist = exact_distances(xb, data)
        return (torch.logsumexp(_log_kernel(dist, tau, kernel), dim=1) - offset,)

    return _chunked(x, chunk, block, n)[0]


def kde_score(
    x: torch.Tensor, data: torch.Tensor, tau: float, kernel: str = "laplace", chunk: int = 256
) -> torch.Tensor:
    return kde_stats(x, data, tau, kernel, chunk)[1]


def mean_shift(x: torch.Tensor, data: torch.Tensor, tau: float, chunk: int = 256) -> torch.Tensor:
    """Drifting models' Laplace mean shift ``Σ_j a_j (x_j − x)``; not the gradient of a KDE."""
    data = data.detach()

    def block(xb: torch.Tensor) -> tuple[torch.Tensor]:
        dist = exact_distances(xb, data)
        a = torch.softmax(-dist / tau, dim=1)
        return (a @ data - xb,)

    return _chunked(x, chunk, block, data.shape[0])[0]


def bandwidth_schedule(step: int, total: int, tau_init: float, final_ratio: float) -> float:
    """Geometric decay from ``tau_init`` to ``tau_init · final_ratio`` over ``total`` steps."""
    frac = step / max(total - 1, 1)
    return tau_init * final_ratio**frac
