"""Kernel Stein discrepancy: sample quality from the target's score alone, no exact samples.

With the IMQ kernel ``k(x, y) = (c² + |x − y|²)^β`` (Gorham & Mackey 2017; ``β = −½``, ``c = 1``
by default) the Stein kernel of a target with score ``s = ∇log p`` is, with ``r = x − y`` and
``q = c² + |r|²``,

``u(x, y) = k sₓ·s_y + 2β q^{β−1} (s_y − sₓ)·r − 2β d q^{β−1} − 4β(β−1) q^{β−2} |r|²``,

and ``KSD² = E_{x,x'∼q} u(x, x')`` is zero exactly when ``q = p``. :func:`ksd2` is the unbiased
U-statistic over distinct pairs; every pairwise quantity is a matrix product, computed in
row blocks so that 10 000 samples in d = 32 take a few hundred MB at most.
"""

from __future__ import annotations

import math

import torch

__all__ = ["ksd", "ksd2", "stein_kernel_matrix"]


def stein_kernel_matrix(
    x: torch.Tensor,
    sx: torch.Tensor,
    y: torch.Tensor,
    sy: torch.Tensor,
    c: float = 1.0,
    beta: float = -0.5,
) -> torch.Tensor:
    """``u(x_i, y_j)`` for every pair, shape ``(len(x), len(y))``; ``sx``, ``sy`` the scores."""
    d = x.shape[1]
    r2 = (x.square().sum(1)[:, None] + y.square().sum(1)[None] - 2 * x @ y.T).clamp_min_(0)
    inv_q = (c * c + r2).reciprocal_()
    k = inv_q.pow(-beta)
    # (s_y − s_x)·(x − y) = s_y·x − s_y·y − s_x·x + s_x·y
    cross = (x @ sy.T) - (sy * y).sum(1)[None] - (sx * x).sum(1)[:, None] + sx @ y.T
    trace = cross.sub_(d).mul_(2 * beta).sub_(inv_q * r2, alpha=4 * beta * (beta - 1))
    return k.mul_((sx @ sy.T).addcmul_(trace, inv_q))


def ksd2(
    x: torch.Tensor,
    score: torch.Tensor,
    c: float = 1.0,
    beta: float = -0.5,
    block: int = 1024,
) -> float:
    """The U-statistic of ``KSD²`` of samples ``x`` (n, d) with target scores ``score`` (n, d):
    the mean of ``u`` over distinct pairs, in float64. Unbiased, so it can be slightly negative
    at the target; its spread there is the metric's floor."""
    if x.ndim != 2 or score.shape != x.shape:
        raise ValueError(
            f"x and score must both be (n, d); got {tuple(x.shape)}, {tuple(score.shape)}"
        )
    n = x.shape[0]
    if n < 2:
        raise ValueError("the KSD U-statistic needs at least two samples")
    if not (c > 0 and math.isfinite(c)) or not beta < 0:
        raise ValueError(f"the IMQ kernel needs c > 0 and beta < 0; got c={c}, beta={beta}")
    x, score = x.detach().double(), score.detach().double()
    if not (torch.isfinite(x).all() and torch.isfinite(score).all()):
        raise ValueError("samples and scores must be finite")
    total = 0.0
    for start in range(0, n, block):
        stop = min(start + block, n)
        u = stein_kernel_matrix(x[start:stop], score[start:stop], x, score, c, beta)
        rows = torch.arange(stop - start)
        total += float(u.sum() - u[rows, rows + start].sum())
    return total / (n * (n - 1))


def ksd(x: torch.Tensor, score: torch.Tensor, c: float = 1.0, beta: float = -0.5) -> float:
    """``√max(KSD², 0)`` of the U-statistic: in the units tables read."""
    return math.sqrt(max(ksd2(x, score, c, beta), 0.0))
