"""Quality of a sampler's output against exact target samples, and the monitor used in training."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from . import metrics
from .targets import GaussianMixture, Target
from .theory import undercoverage_monitor

__all__ = ["evaluate", "make_monitor", "sample_and_evaluate"]


def _mode_info(target: Target, x: torch.Tensor) -> tuple[np.ndarray | None, np.ndarray | None]:
    if isinstance(target, GaussianMixture):
        return target.assign(x.double()).numpy(), target.weights.numpy()
    return None, None


def evaluate(
    target: Target,
    samples: torch.Tensor,
    reference: torch.Tensor | None,
    n_ot: int = 2000,
    sinkhorn_reg: float = 0.05,
    coverage_threshold: float = 0.1,
    seed: int = 0,
) -> dict[str, float]:
    """All metrics of ``samples``; without exact ``reference`` samples, only the mean energy."""
    samples = samples.detach().cpu().float()
    out: dict[str, float] = {"mean_energy": float(target.energy(samples.double()).mean())}
    if reference is None:
        return out
    assign, weights = _mode_info(target, samples)
    out.update(
        metrics.evaluate_samples(
            samples.numpy(),
            reference.cpu().numpy(),
            assign,
            weights,
            n_ot=n_ot,
            seed=seed,
            sinkhorn_reg=sinkhorn_reg,
        )
    )
    if weights is not None:
        w_hat = metrics.mode_weights(assign, len(weights))
        out["mode_coverage"] = metrics.mode_coverage(w_hat, weights, coverage_threshold)
    return out


def sample_and_evaluate(
    target: Target,
    sample: Callable[[int, torch.Generator], torch.Tensor],
    reference: torch.Tensor | None,
    evaluation: dict[str, Any],
) -> tuple[torch.Tensor, dict[str, float]]:
    """Draw ``evaluation["n_samples"]`` from any one-step sampler (timed: ``samples_per_s``) and
    score them with :func:`evaluate` under the config's ``evaluation`` settings."""
    ev = evaluation
    start = time.perf_counter()
    samples = sample(ev["n_samples"], torch.Generator().manual_seed(ev["seed"]))
    sample_s = time.perf_counter() - start
    result = evaluate(
        target,
        samples,
        reference if reference is not None and len(reference) else None,
        n_ot=ev["n_ot"],
        sinkhorn_reg=ev["sinkhorn_reg"],
        coverage_threshold=ev["coverage_threshold"],
        seed=ev["seed"],
    )
    result["samples_per_s"] = ev["n_samples"] / sample_s
    return samples, result


def make_monitor(
    target: Target,
    reference: torch.Tensor | None,
    undercoverage: dict[str, Any] | None = None,
) -> Callable[[torch.Tensor], dict[str, float]] | None:
    """Periodic metrics for the training history: MMD, the mode-weight error and, for mixtures
    given ``undercoverage`` settings (kappa, s, tau, kernel), the soft under-coverage ``U_s``."""
    if reference is None:
        return None
    ref = reference[:2000].cpu().numpy()
    soft = None
    if undercoverage is not None and isinstance(target, GaussianMixture):
        soft = undercoverage_monitor(target, reference, **undercoverage)

    def monitor(x: torch.Tensor) -> dict[str, float]:
        row = {"mmd_median": metrics.mmd_median(x.numpy(), ref)}
        assign, weights = _mode_info(target, x)
        if weights is not None:
            w_hat = metrics.mode_weights(assign, len(weights))
            row.update(metrics.mode_weight_errors(w_hat, weights))
        if soft is not None:
            row.update(soft(x))
        return row

    return monitor
