"""The one quality monitor: MMD and mode-weight errors of a sample set at a point of training
(a generator's history) or of sampling (an iterative baseline's budget curve); for a target
without exact samples, the kernel Stein discrepancy and the mean energy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ..targets import GaussianMixture, Target
from ..theory.undercoverage import undercoverage_monitor
from . import metrics
from .quality import mode_assignment, score_only

__all__ = ["MONITOR_KSD_SAMPLES", "TRAINING_EXACT", "Monitor", "quality_monitor"]

Monitor = Callable[[torch.Tensor], dict[str, float]]
# Exact samples the training monitor's MMD compares each logged batch against.
TRAINING_EXACT = 2000
# Samples of each logged batch the score-only monitor's KSD uses (its cost grows as n²).
MONITOR_KSD_SAMPLES = 1000


def quality_monitor(
    target: Target,
    exact: torch.Tensor | None,
    max_exact: int | None = None,
    undercoverage: dict[str, Any] | None = None,
    w2_samples: int | None = None,
) -> Monitor:
    """``samples ↦ {mmd_median, mode_weight_max_error, mode_weight_tv[, undercoverage][, w2]}``
    against (the first ``max_exact`` of) the exact samples; without any, ``{ksd, mean_energy}``
    from the target alone (KSD of the first :data:`MONITOR_KSD_SAMPLES`).

    Mode-weight errors need a mixture target; so does the soft under-coverage ``U_s``, added
    when ``undercoverage`` settings (kappa, s, tau, kernel) are given. ``w2_samples``: also the
    exact-OT W2 between the first that many samples of each side (seconds per call at 2000).
    """
    if exact is None or not len(exact):
        return lambda x: score_only(target, x, MONITOR_KSD_SAMPLES)
    ref = exact[:max_exact].cpu().numpy()
    soft = None
    if undercoverage is not None and isinstance(target, GaussianMixture):
        soft = undercoverage_monitor(target, exact, **undercoverage)

    def monitor(x: torch.Tensor) -> dict[str, float]:
        row = {"mmd_median": metrics.mmd_median(x.float().numpy(), ref)}
        modes = mode_assignment(target, x)
        if modes is not None:
            assign, weights = modes
            row.update(
                metrics.mode_weight_errors(metrics.mode_weights(assign, len(weights)), weights)
            )
        if soft is not None:
            row.update(soft(x))
        if w2_samples is not None:
            row["w2"] = metrics.w2(x[:w2_samples].float().numpy(), ref[:w2_samples])
        return row

    return monitor
