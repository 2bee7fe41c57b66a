"""Bayesian logistic regression: the Beyond-ELBOs "Cancer" benchmark (Wisconsin breast cancer).

The posterior of the weights ``θ`` of ``p(y = 1 | x) = σ(xᵀθ)`` under a Gaussian prior
``N(0, s² I)``: a smooth, unimodal, strongly skewed density with no exact samples and unknown
``log Z`` (the marginal likelihood), as in Blessing et al. (ICML 2024), ``targets/breast_cancer.py``
of github.com/DenisBless/variational_sampling_methods.
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import torch

from .base import Target, TargetError

__all__ = ["CancerLogisticRegression", "LogisticRegression", "breast_cancer", "logreg_cancer"]

BREAST_CANCER_SHA256 = "fed3eb72d0575ef6192293f5093c6e801b1476b577d0386bf4455504522172ed"


class LogisticRegression(Target):
    """``E(θ) = Σ_i [softplus(x_iᵀθ) − y_i x_iᵀθ] + |θ|²/(2s²) + d(log s + ½ log 2π)``.

    The first sum is ``−Σ_i [y_i log σ(x_iᵀθ) + (1 − y_i) log σ(−x_iᵀθ)]``; the rest is
    ``−log N(θ; 0, s² I)`` with its normaliser, so ``exp(−E)`` is likelihood times prior and
    ``log Z`` is the log evidence. ``features`` is the design matrix as used (an intercept column
    included, if wanted); ``labels`` are 0/1.
    """

    def __init__(
        self,
        features: np.ndarray | torch.Tensor,
        labels: np.ndarray | torch.Tensor,
        prior_std: float,
        name: str = "logreg",
    ) -> None:
        self.name = name
        self.features = torch.as_tensor(features, dtype=torch.float64)
        self.labels = torch.as_tensor(labels, dtype=torch.float64)
        if self.features.ndim != 2 or 0 in self.features.shape:
            raise TargetError("features must be a non-empty n×d matrix")
        if not torch.isfinite(self.features).all():
            raise TargetError("features must be finite")
        if self.labels.shape != self.features.shape[:1]:
            raise TargetError(f"labels must have one entry per row ({self.features.shape[0]})")
        if not ((self.labels == 0) | (self.labels == 1)).all():
            raise TargetError("labels must be 0 or 1")
        self.prior_std = _positive_finite(prior_std)
        self.dim = self.features.shape[1]
        self._prior_const = self.dim * (math.log(self.prior_std) + 0.5 * math.log(2 * math.pi))
        self._xty = self.labels @ self.features
        self._cast: dict[tuple[torch.device, torch.dtype], tuple[torch.Tensor, ...]] = {}

    def _constants(self, theta: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Design matrix and ``Xᵀy`` on ``θ``'s device and dtype (cast once per pair)."""
        key = (theta.device, theta.dtype)
        if key not in self._cast:
            self._cast[key] = tuple(
                t.to(theta.device, theta.dtype) for t in (self.features, self._xty)
            )
        return self._cast[key]

    def coordinate_label(self, k: int) -> str:
        """``θ_k``, 0-based as the design matrix's columns (``θ₀``: the intercept, if any)."""
        return f"$\\theta_{{{k}}}$"

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        features, xty = self._constants(x)
        nll = _softplus(x @ features.T).sum(-1) - x @ xty
        return nll + 0.5 * (x * x).sum(-1) / self.prior_std**2 + self._prior_const

    def score(self, x: torch.Tensor) -> torch.Tensor:
        return self.log_prob_and_score(x)[1]

    def log_prob_and_score(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``−E(θ)`` and ``Xᵀ(y − σ(Xθ)) − θ/s²`` from one product ``Xθ`` per sample."""
        features, xty = self._constants(x)
        logits = x @ features.T
        prior = x / self.prior_std**2
        log_p = x @ xty - _softplus(logits).sum(-1) - 0.5 * (x * prior).sum(-1) - self._prior_const
        return log_p, xty - torch.sigmoid(logits) @ features - prior

    def to_spec(self) -> dict[str, Any]:
        return {
            "kind": "logreg",
            "features": self.features.tolist(),
            "labels": self.labels.tolist(),
            "prior_std": self.prior_std,
        }


class CancerLogisticRegression(LogisticRegression):
    """The Beyond-ELBOs "Cancer" posterior (d = 31), stored as its prior std alone."""

    def __init__(self, prior_std: float = 10.0, name: str = "logreg_cancer") -> None:
        raw, label = breast_cancer()
        design = np.hstack([np.ones((raw.shape[0], 1)), raw / raw.std(axis=0)])
        super().__init__(design, (label == 0).astype(np.float64), prior_std, name)

    def to_spec(self) -> dict[str, Any]:
        return {"kind": "logreg_cancer", "prior_std": self.prior_std}


def logreg_cancer(prior_std: float = 10.0) -> CancerLogisticRegression:
    """Beyond-ELBOs' Cancer target: intercept plus the 30 features divided by their (population)
    std, not centred; ``y = 1`` for malignant; prior ``N(0, 10² I)``.

    Their code scales by ``jnp.std`` only and models ``p(benign) = σ(−xᵀθ)``, which is
    ``p(malignant) = σ(xᵀθ)``; its prior is commented out of ``log_prob``, but the log-densities
    stored with their ground-truth samples are likelihood plus this normalised prior.
    """
    return CancerLogisticRegression(prior_std)


def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """The raw Wisconsin diagnostic breast-cancer data: features (569, 30) float64 and labels
    (569,) int64 with scikit-learn's coding, 0 = malignant (212) and 1 = benign (357)."""
    features, labels = _read_breast_cancer()
    return features.copy(), labels.copy()


@lru_cache(maxsize=1)
def _read_breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """Parse the shipped CSV: a header ``n, p, class names`` then ``n`` rows of ``p`` features
    and the label."""
    text = resources.files("wgf").joinpath("data/breast_cancer.csv").read_text()
    header, *rows = text.splitlines()
    n, p = (int(v) for v in header.split(",")[:2])
    data = np.loadtxt(rows, delimiter=",", dtype=np.float64, ndmin=2)
    if data.shape != (n, p + 1):
        raise TargetError(f"breast_cancer.csv: expected {n}×{p + 1} values, got {data.shape}")
    return data[:, :p], data[:, p].astype(np.int64)


def _softplus(z: torch.Tensor) -> torch.Tensor:
    """``log(1 + eᶻ)`` to rounding everywhere (``F.softplus`` returns ``z`` above 20, an error of
    ``e⁻²⁰ ≈ 2e-9`` per data point)."""
    return torch.logaddexp(z, z.new_zeros(()))


def _positive_finite(value: Any) -> float:
    try:
        s = float(value)
    except (TypeError, ValueError) as err:
        raise TargetError(f"prior_std must be a number, got {value!r}") from err
    if not math.isfinite(s) or s <= 0:
        raise TargetError(f"prior_std must be positive and finite, got {value!r}")
    return s
