"""Vector-field diagnostics on a 2-D grid: the target's score, the KDE score, β, log r and every
divergence's drift ``w(r) β`` (SCIENCE.md §4, "known diagnostic setting").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..density.kde import kde_stats
from ..divergences import DIVERGENCES, get_divergence
from ..targets import Target

__all__ = ["vector_fields"]


def vector_fields(
    target: Target,
    samples: torch.Tensor | np.ndarray,
    tau: float = 0.15,
    grid_n: int = 80,
    lim: float = 4.5,
    divergences: Sequence[str] = tuple(DIVERGENCES),
    kernel: str = "laplace",
    log_z: float | None = None,
    chunk: int = 1024,
) -> dict[str, np.ndarray]:
    """Fields of the drift at the nodes of a ``grid_n × grid_n`` grid on ``[−lim, lim]²``.

    ``samples`` (N × 2, e.g. N = 2000 generator samples) define the KDE ``q̂_τ`` (``kernel``,
    bandwidth ``tau`` held fixed). Returned arrays, all float64, indexed ``[iy, ix]`` like
    ``np.meshgrid(x, y)`` (vectors carry a trailing axis of 2):

    * ``x``, ``y``: the grid coordinates (``grid_n``,);
    * ``log_p``: ``−E − log Z`` (normalised with the true ``log Z``, or ``log_z`` if given);
      ``log_q``: the normalised KDE ``log q̂_τ``; ``log_r = log_p − log_q`` (not clipped);
    * ``score_p = ∇log p`` (analytic), ``score_q = ∇log q̂_τ``, ``beta = score_p − score_q``;
    * ``drift_<name> = w(r) β`` for every divergence, with the *true* weight ``w(exp(log_r))``:
      **not** self-normalised over a batch (training divides every weight by the batch mean, a
      constant factor per step that changes lengths, never directions);
    * ``samples``: the samples the KDE was built from; ``tau`` and ``kernel`` (0-d arrays).
    """
    if target.dim != 2:
        raise ValueError(
            f"vector_fields draws 2-D fields; target {target.name!r} has d = {target.dim}"
        )
    lz = target.log_z if log_z is None else log_z
    if lz is None:
        raise ValueError("vector_fields needs log Z (the target's or an estimate) to form log r")
    data = torch.as_tensor(np.asarray(samples), dtype=torch.float64)
    if data.ndim != 2 or data.shape[1] != 2 or data.shape[0] == 0:
        raise ValueError(f"samples must be a non-empty (N, 2) array, got {tuple(data.shape)}")
    axis = np.linspace(-lim, lim, grid_n)
    xx, yy = np.meshgrid(axis, axis)
    pts = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], axis=1))
    with torch.no_grad():
        log_p = -target.energy(pts) - lz
        score_p = target.score(pts)
        log_q, score_q = kde_stats(pts, data, tau, kernel, chunk=chunk)
    beta = score_p - score_q
    log_r = log_p - log_q
    shape = xx.shape
    out: dict[str, np.ndarray] = {
        "x": axis,
        "y": axis.copy(),
        "log_p": log_p.numpy().reshape(shape),
        "log_q": log_q.numpy().reshape(shape),
        "log_r": log_r.numpy().reshape(shape),
        "score_p": score_p.numpy().reshape(*shape, 2),
        "score_q": score_q.numpy().reshape(*shape, 2),
        "beta": beta.numpy().reshape(*shape, 2),
        "samples": data.numpy(),
        "tau": np.array(float(tau)),
        "kernel": np.array(kernel),
    }
    for name in divergences:
        w = get_divergence(name).weight(log_r)
        out[f"drift_{name}"] = (w[:, None] * beta).numpy().reshape(*shape, 2)
    return out
