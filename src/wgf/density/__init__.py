"""Density estimates of the generator's own batch: ``log q̂`` and ``∇log q̂``.

``kde`` (the kernel density estimate of SCIENCE.md §4, with the native pass of ``native`` and
``csrc/``), ``flows`` (normalizing flows fitted by maximum likelihood), ``score_net`` (a
denoising score network) and ``estimators``, the registry that training picks one from.
"""

from .estimators import ESTIMATORS, Estimator, make_estimator
from .flows import Flow, FlowConfig
from .kde import bandwidth_schedule, kde_log_density, kde_stats, mean_shift

__all__ = [
    "ESTIMATORS",
    "Estimator",
    "Flow",
    "FlowConfig",
    "bandwidth_schedule",
    "kde_log_density",
    "kde_stats",
    "make_estimator",
    "mean_shift",
]
