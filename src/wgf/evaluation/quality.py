"""The quality of a sampler's output against exact target samples, and a one-step sampler's
throughput: what every method in every table is scored by.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..targets import GaussianMixture, Target
from . import metrics
from .stein import ksd
from .target_metrics import target_metrics

__all__ = [
    "Sampler",
    "evaluate_sampler",
    "mode_assignment",
    "score",
    "score_only",
    "score_samples",
    "stein_discrepancy",
    "throughput",
]

Sampler = Callable[[int, torch.Generator], torch.Tensor]


def mode_assignment(target: Target, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray] | None:
    """``(mode of each sample, true mode weights)`` for a mixture target, else ``None``."""
    if isinstance(target, GaussianMixture):
        return target.assign(x.double()).numpy(), target.weights.numpy()
    return None


def score_samples(
    target: Target,
    samples: torch.Tensor,
    exact: torch.Tensor | None,
    n_ot: int = 2000,
    sinkhorn_reg: float = 0.05,
    coverage_threshold: float = 0.1,
    seed: int = 0,
    ksd_samples: int = 2000,
) -> dict[str, float]:
    """Every metric of ``samples``: the mean energy and the kernel Stein discrepancy of the first
    ``ksd_samples`` (from the target's score alone), and with exact samples (not ``None`` nor
    empty) the metrics against them (:mod:`.metrics`, :mod:`.target_metrics`)."""
    samples = samples.detach().cpu().float()
    out = score_only(target, samples, ksd_samples)
    if exact is None or not len(exact):
        return out
    modes = mode_assignment(target, samples)
    assign, weights = modes if modes is not None else (None, None)
    out.update(
        metrics.evaluate_samples(
            samples.numpy(),
            exact.cpu().numpy(),
            assign,
            weights,
            n_ot=n_ot,
            seed=seed,
            sinkhorn_reg=sinkhorn_reg,
            coverage_threshold=coverage_threshold,
        )
    )
    out.update(target_metrics(target, samples, exact))
    return out


def score(
    target: Target, samples: torch.Tensor, exact: torch.Tensor | None, evaluation: dict[str, Any]
) -> dict[str, float]:
    """:func:`score_samples` under a config's ``evaluation`` settings."""
    ev = evaluation
    return score_samples(
        target,
        samples,
        exact,
        n_ot=ev["n_ot"],
        sinkhorn_reg=ev["sinkhorn_reg"],
        coverage_threshold=ev["coverage_threshold"],
        seed=ev["seed"],
        ksd_samples=ev["ksd_samples"],
    )


def score_only(target: Target, samples: torch.Tensor, ksd_samples: int) -> dict[str, float]:
    """What the target alone can say of ``samples``: their mean energy and the kernel Stein
    discrepancy of the first ``ksd_samples``."""
    return {
        "mean_energy": float(target.energy(samples.double()).mean()),
        "ksd": stein_discrepancy(target, samples[:ksd_samples]),
    }


def stein_discrepancy(target: Target, samples: torch.Tensor) -> float:
    """The IMQ kernel Stein discrepancy of ``samples`` (:mod:`.stein`); NaN where a sample or
    its score is not finite (a diverged sampler), so that the table shows it."""
    x = samples.double()
    s = target.score(x)
    if not (torch.isfinite(x).all() and torch.isfinite(s).all()):
        return float("nan")
    return ksd(x, s)


def throughput(sample: Sampler, n: int) -> float:
    """Samples per second of one batched draw of ``n`` samples (the sampler chunks internally)."""
    with torch.no_grad():
        sample(min(n, 1000), torch.Generator().manual_seed(1))  # warm-up
        start = time.perf_counter()
        sample(n, torch.Generator().manual_seed(2))
        return n / (time.perf_counter() - start)


def evaluate_sampler(
    target: Target,
    sample: Sampler,
    exact: torch.Tensor | None,
    evaluation: dict[str, Any],
    throughput_samples: int,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Draw ``evaluation["n_samples"]`` from a one-step sampler with ``evaluation["seed"]``,
    score them under the config's ``evaluation`` settings (:func:`score_samples`), and time
    one draw of ``throughput_samples`` (``samples_per_s``): the same protocol for every
    one-step method, generator, reference flow or baseline."""
    with torch.no_grad():
        samples = sample(evaluation["n_samples"], torch.Generator().manual_seed(evaluation["seed"]))
    result = score(target, samples, exact, evaluation)
    result["samples_per_s"] = throughput(sample, throughput_samples)
    return samples, result
