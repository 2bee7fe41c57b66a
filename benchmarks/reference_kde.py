"""The KDE statistics as they were before the hot-path work (commit ce083c9), kept verbatim so
that the suite measures "before" and "after" in one run. Not used outside the benchmarks."""

from __future__ import annotations

import math

import torch

from wgf.density.kde import log_kernel_normaliser


def _log_kernel(dist: torch.Tensor, tau: float, kernel: str) -> torch.Tensor:
    if kernel == "laplace":
        return -dist / tau
    return -dist.square() / (2 * tau**2)


def kde_stats_before(
    x: torch.Tensor,
    data: torch.Tensor,
    tau: float,
    kernel: str = "laplace",
    chunk: int = 1024,
    normalised: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    data = data.detach()
    n, dim = data.shape
    offset = math.log(n) + (log_kernel_normaliser(kernel, tau, dim) if normalised else 0.0)

    def block(xb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        dist = torch.cdist(xb, data, compute_mode="donot_use_mm_for_euclid_dist")
        logk = _log_kernel(dist, tau, kernel)
        log_q = torch.logsumexp(logk, dim=1)
        a = torch.exp(logk - log_q[:, None])
        if kernel == "laplace":
            b = torch.where(dist > 0, a / dist.clamp_min(1e-30), torch.zeros_like(a))
            score = (b @ data - xb * b.sum(1, keepdim=True)) / tau
        else:
            score = (a @ data - xb) / tau**2
        return log_q - offset, score

    parts = [block(x[i : i + chunk]) for i in range(0, x.shape[0], chunk)]
    return tuple(torch.cat(p) for p in zip(*parts, strict=True))  # type: ignore[return-value]
