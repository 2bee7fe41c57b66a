"""A mixture target in the DEM/iDEM published protocol: ``n`` generated against ``n`` fresh exact
samples, x-W2 by exact optimal transport and the total variation of the mode weights."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..targets import GaussianMixture
from . import metrics

__all__ = ["published_protocol"]


def published_protocol(
    target: GaussianMixture,
    samples: np.ndarray,
    seed: int,
    n: int = 1000,
) -> dict[str, float]:
    """x-W2 of the first ``n`` ``samples`` against ``n`` exact samples drawn with ``seed``, by
    exact OT on squared Euclidean costs (``ot.emd2``, then the square root), and the TV of the
    generated samples' mode weights (nearest-component assignment)."""
    import ot  # on use: see wgf.evaluation.metrics

    x = np.asarray(samples[:n], dtype=np.float64)
    exact = target.sample(n, torch.Generator().manual_seed(seed)).double().numpy()
    cost = ot.dist(x, exact, metric="sqeuclidean")
    a = np.full(len(x), 1.0 / len(x))
    b = np.full(len(exact), 1.0 / len(exact))
    w2 = math.sqrt(max(float(ot.emd2(a, b, cost, numItermax=1_000_000)), 0.0))
    assign = target.assign(torch.from_numpy(x)).numpy()
    w_hat = metrics.mode_weights(assign, len(target.weights))
    tv = metrics.mode_weight_errors(w_hat, target.weights.numpy())["mode_weight_tv"]
    return {"x_w2": w2, "mode_tv": tv, "n": float(len(x))}
