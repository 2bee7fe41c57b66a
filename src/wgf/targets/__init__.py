"""Targets: unnormalised densities ``p ∝ exp(−E)`` with their score, and their registry.

``base`` holds the protocol, ``mixtures`` the Gaussian-mixture benchmarks, ``energy`` a user's
own energy, ``registry`` the builder of every config ``kind`` and the stored spec.
"""

from .base import Target, TargetError, Tempered
from .energy import EnergyTarget
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
    "EnergyTarget",
    "GaussianMixture",
    "Target",
    "TargetError",
    "Tempered",
    "build_target",
    "exact_samples",
    "gmm2hard16",
    "gmm40",
    "gmm40_means",
    "gmm8",
    "load_target",
    "mixture",
    "save_target",
    "target_from_spec",
]
