"""Plain helpers shared by several unit tests: a simulated kill of training, analytic densities
and probe points, the theory diagnostics' inputs, a small flow, tiny training settings, and the
check that a figure was drawn."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.image as mpimg
import torch

import wgf.training.loop
from wgf.density.flows import Flow
from wgf.divergences import DIVERGENCES
from wgf.targets import GaussianMixture, Target, build_target
from wgf.theory import RegionalResponse, regional_response, undercovering_q, vector_fields
from wgf.training import GeneratorConfig, TrainConfig

# --------------------------------------------------------------------------- faults


class Crash(Exception):
    pass


def crash_after(monkeypatch, step: int) -> None:
    """Make the checkpoint writer "kill" training right after saving the state of ``step``
    (the training loop calls ``save_state(path, state)`` at every checkpoint)."""
    save = wgf.training.loop.save_state

    def save_then_crash(path, state):
        save(path, state)
        if state["step"] == step:
            raise Crash

    monkeypatch.setattr(wgf.training.loop, "save_state", save_then_crash)


# --------------------------------------------------------------------------- analytic densities


def analytic_q() -> GaussianMixture:
    """An analytic q that misses part of gmm8's mass: 3 broad modes."""
    means = [[2.0, 0.0], [0.0, 2.5], [-1.5, -1.5]]
    return GaussianMixture(means, [[0.6, 0.6], [0.4, 0.8], [1.0, 1.0]], [0.5, 0.3, 0.2])


class ShiftedGaussian(Target):
    """``E(x) = ½ (x − μ)ᵀ C⁻¹ (x − μ) + 3``: ``log Z = log 2π + ½ log|C| − 3`` (d = 2)."""

    name = "gaussian"
    dim = 2

    def __init__(self) -> None:
        self.mean = torch.tensor([1.0, -2.0], dtype=torch.float64)
        cov = torch.tensor([[2.0, 0.8], [0.8, 0.6]], dtype=torch.float64)
        self.chol = torch.linalg.cholesky(cov)
        self.log_z = math.log(2 * math.pi) + float(self.chol.diagonal().log().sum()) - 3.0

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        diff = (x - self.mean.to(x.dtype)).T
        sol = torch.linalg.solve_triangular(self.chol.to(x.dtype), diff, upper=False)
        return 0.5 * sol.square().sum(0) + 3.0


def normal_data(n: int = 300, d: int = 2, seed: int = 0) -> torch.Tensor:
    """``N(0, I)`` points in ``d`` dimensions, float64, seeded."""
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def points(n: int = 200, seed: int = 0) -> torch.Tensor:
    """``3 · N(0, I)`` points in 2-D, float64: over gmm8's ring and its tails, where log r against
    an under-covering q spans about ±40 nats."""
    return 3 * normal_data(n, 2, seed)


# --------------------------------------------------------------------------- theory diagnostics

# The regional response's divergences and levels κ, and the vector fields' divergences.
RESPONSE_DIVERGENCES = [*DIVERGENCES, "alpha_0.5"]
RESPONSE_KAPPAS = [0.0, 1.0, 2.0, 3.0]
FIELD_DIVERGENCES = ["reverse_kl", "forward_kl", "js", "hellinger", "pearson", "alpha_0.5"]


def undercovered_gmm8() -> tuple[GaussianMixture, GaussianMixture]:
    """``p`` = gmm8 and an analytic ``q`` that misses its modes 1 and 4 (a broad 5 % floor)."""
    p = build_target("gmm8")
    return p, undercovering_q(p, missing=(1, 4), broad_weight=0.05, broad_std=2.0)


def gmm8_response(p: GaussianMixture, q: GaussianMixture) -> RegionalResponse:
    """The regional response of :data:`RESPONSE_DIVERGENCES` at :data:`RESPONSE_KAPPAS` on a
    modest grid (h = 0.04): O(h²) errors well under 1 % (see docs/theory.md)."""
    return regional_response(p, q, RESPONSE_DIVERGENCES, RESPONSE_KAPPAS, lim=6.0, grid_n=300)


def gmm8_fields(p: GaussianMixture) -> dict:
    """The vector fields of 500 exact samples of ``p`` on a 24 × 24 grid over [−4.5, 4.5]²."""
    x = p.sample(500, torch.Generator().manual_seed(0))
    return vector_fields(p, x, tau=0.15, grid_n=24, lim=4.5, divergences=FIELD_DIVERGENCES)


# --------------------------------------------------------------------------- flows and training


def perturbed_flow(architecture: str, iaf: bool) -> Flow:
    """A small 3-D flow (seed 0) moved off its initialisation, so that its state dict matters."""
    torch.manual_seed(0)
    flow = Flow(3, architecture, layers=2, hidden=8, iaf=iaf, loc=[1.0, 0.0, -1.0], scale=2.0)
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return flow


def tiny_train_config(**kw) -> TrainConfig:
    """A few CPU steps of a small generator (batch 128); ``kw`` overrides any field."""
    base = {"batch_size": 128, "device": "cpu", **kw}
    return TrainConfig(**base, generator=GeneratorConfig(hidden=16, layers=2))


# --------------------------------------------------------------------------- figures


def assert_figure(path: Path, min_bytes: int = 10_000) -> None:
    """``path`` was written, holds more than ``min_bytes``, and a PNG is not (nearly) blank."""
    path = Path(path)
    assert path.exists(), path
    assert path.stat().st_size > min_bytes, (path, path.stat().st_size)
    if path.suffix == ".png":
        img = mpimg.imread(path)
        assert img.ndim == 3 and min(img.shape[:2]) > 200
        assert float(img[..., :3].std()) > 0.02, "PNG is (nearly) a single colour"
