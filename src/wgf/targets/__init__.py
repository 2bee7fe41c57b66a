"""Targets: unnormalised densities ``p ∝ exp(−E)`` with their score, and their registry.

``base`` holds the protocol, ``mixtures`` the Gaussian-mixture benchmarks, ``funnel`` Neal's
funnel, ``manywell`` the many-well, ``logreg`` the Bayesian logistic regression, ``energy`` a
user's own energy, ``registry`` the builder of every config ``kind`` and the stored spec.
"""

from .base import Target, TargetError, Tempered
from .energy import EnergyTarget
from .funnel import Funnel, funnel10
from .logreg import CancerLogisticRegression, LogisticRegression, logreg_cancer
from .manywell import ManyWell, manywell32
from .mixtures import GaussianMixture, gmm2hard16, gmm8, gmm40, gmm40_means, mixture
from .registry import (
    TARGETS,
    build_target,
    exact_samples,
    load_target,
    save_target,
    target_from_spec,
)

__all__ = [
    "TARGETS",
    "CancerLogisticRegression",
    "EnergyTarget",
    "Funnel",
    "GaussianMixture",
    "LogisticRegression",
    "ManyWell",
    "Target",
    "TargetError",
    "Tempered",
    "build_target",
    "exact_samples",
    "funnel10",
    "gmm2hard16",
    "gmm40",
    "gmm40_means",
    "gmm8",
    "load_target",
    "logreg_cancer",
    "manywell32",
    "mixture",
    "save_target",
    "target_from_spec",
]
