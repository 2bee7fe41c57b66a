"""Estimators of the generator's own ``log q`` and ``∇log q`` from its detached batch.

One registry entry per estimator: ``name -> factory(options) -> estimate``, where ``estimate``
maps ``(x, tau)`` to ``(log q̂(x), ∇log q̂(x))`` (``log q̂`` normalised) and ``options`` is an
:class:`EstimatorOptions` (kernel, chunk size, fused KDE, flow settings). Estimators may keep
state across calls (the flow estimator is warm-started), so make a fresh one per training run. A
stateful estimator exposes ``state_dict()`` (tensors, numbers, lists and dicts only: loadable with
``torch.load(..., weights_only=True)``) and ``load_state_dict(state, device)``, which training
checkpoints and restores on resume; :func:`estimator_state` and :func:`load_estimator_state`
treat stateless ones (plain closures) uniformly.

* ``kde``: the kernel density estimate of SCIENCE.md §4.
* ``drifting``: Laplace mean shift in place of the score (Deng et al.), a baseline.
* ``flow``: a small normalizing flow fitted online to the batch (SCIENCE.md §5): ``warmup_steps``
  maximum-likelihood steps on the first batch, then ``steps`` per call, warm-started; ``log q̂``
  and ``∇log q̂`` by autograd. ``tau`` is ignored.
* ``score_net``: a score network fitted online by denoising score matching at noise ``τ``
  (Luo et al. 2023; :mod:`wgf.density.score_net`), warm-started; ``log q̂`` is the batch's KDE.

The config's ``training.estimator`` enumerates these names (``config.schema.yaml``, so that the
workflow checks them without torch); a test keeps the two lists equal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from ..config import DEFAULTS, ConfigError
from .flows import Flow, FlowConfig, fit_flow_ml
from .kde import kde_stats, mean_shift
from .score_net import ScoreNetConfig, ScoreNetEstimator

__all__ = [
    "ESTIMATORS",
    "Estimator",
    "EstimatorOptions",
    "FlowEstimator",
    "FlowEstimatorConfig",
    "estimator_state",
    "load_estimator_state",
    "make_estimator",
]

Estimator = Callable[[torch.Tensor, float], tuple[torch.Tensor, torch.Tensor]]


_DEFAULT = DEFAULTS["training"]["flow_estimator"]


@dataclass
class FlowEstimatorConfig(FlowConfig):
    """``training.flow_estimator``: the online flow's architecture and its fitting schedule."""

    architecture: str = _DEFAULT["architecture"]
    layers: int = _DEFAULT["layers"]
    hidden: int = _DEFAULT["hidden"]
    blocks: int = _DEFAULT["blocks"]
    bins: int = _DEFAULT["bins"]
    tail_bound: float = _DEFAULT["tail_bound"]
    iaf: bool = _DEFAULT["iaf"]
    steps: int = _DEFAULT["steps"]
    warmup_steps: int = _DEFAULT["warmup_steps"]
    lr: float = _DEFAULT["lr"]
    batch_size: int | None = _DEFAULT["batch_size"]


@dataclass
class EstimatorOptions:
    kernel: str = "laplace"
    chunk: int = 256
    flow: FlowEstimatorConfig = field(default_factory=FlowEstimatorConfig)
    score_net: ScoreNetConfig = field(default_factory=ScoreNetConfig)
    fused: bool = False


def _kde(options: EstimatorOptions) -> Estimator:
    kernel, chunk, fused = options.kernel, options.chunk, options.fused

    def estimate(x: torch.Tensor, tau: float) -> tuple[torch.Tensor, torch.Tensor]:
        return kde_stats(x, x, tau, kernel=kernel, chunk=chunk, fused=fused)

    return estimate


def _drifting(options: EstimatorOptions) -> Estimator:
    """Laplace mean shift in place of the score (divided by τ to carry score units)."""
    chunk, fused = options.chunk, options.fused

    def estimate(x: torch.Tensor, tau: float) -> tuple[torch.Tensor, torch.Tensor]:
        log_q, _ = kde_stats(x, x, tau, kernel="laplace", chunk=chunk, fused=fused)
        return log_q, mean_shift(x, x, tau, chunk=chunk) / tau

    return estimate


class FlowEstimator:
    """A flow fitted online to the generator's batches; stateful (warm-started across calls).

    The flow standardises with the first batch's per-coordinate mean and standard deviation
    (fixed buffers) and is built on that batch's device.
    """

    def __init__(self, cfg: FlowEstimatorConfig) -> None:
        self.cfg = cfg
        self.flow: Flow | None = None
        self.opt: torch.optim.Optimizer | None = None
        self.calls = 0
        self.last_loss = float("nan")

    def __call__(self, x: torch.Tensor, tau: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
        x = x.detach()
        steps = self.cfg.steps
        if self.flow is None:
            xf = x.float()
            loc = xf.mean(0).cpu()
            scale = xf.std(0).clamp_min(1e-3).cpu()
            self.flow = Flow.from_config(x.shape[1], self.cfg, loc=loc, scale=scale).to(x.device)
            self.opt = torch.optim.Adam(self.flow.parameters(), lr=self.cfg.lr)
            steps = self.cfg.warmup_steps
        assert self.opt is not None
        self.flow.train()
        if steps > 0:
            self.last_loss = fit_flow_ml(self.flow, x.float(), self.opt, steps, self.cfg.batch_size)
        self.calls += 1
        return self.flow.log_prob_and_score(x)

    def state_dict(self) -> dict:
        """The fitted flow (with its standardisation), its optimiser and the call count."""
        if self.flow is None:
            return {"calls": self.calls}
        assert self.opt is not None
        return {
            "calls": self.calls,
            "last_loss": self.last_loss,
            "loc": self.flow.loc.detach().cpu().clone(),
            "scale": self.flow.scale.detach().cpu().clone(),
            "flow": self.flow.state_dict(),
            "opt": self.opt.state_dict(),
        }

    def load_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        """Rebuild the flow from :meth:`state_dict` on ``device``."""
        self.calls = int(state["calls"])
        if "flow" not in state:
            self.flow, self.opt = None, None
            return
        self.last_loss = float(state["last_loss"])
        loc, scale = state["loc"], state["scale"]
        self.flow = Flow.from_config(loc.numel(), self.cfg, loc=loc, scale=scale).to(device)
        self.flow.load_state_dict(state["flow"])
        self.opt = torch.optim.Adam(self.flow.parameters(), lr=self.cfg.lr)
        self.opt.load_state_dict(state["opt"])


def _flow(options: EstimatorOptions) -> Estimator:
    return FlowEstimator(options.flow)


def _score_net(options: EstimatorOptions) -> Estimator:
    return ScoreNetEstimator(options.score_net, options.kernel, options.chunk)


ESTIMATORS: dict[str, Callable[[EstimatorOptions], Estimator]] = {
    "kde": _kde,
    "drifting": _drifting,
    "flow": _flow,
    "score_net": _score_net,
}


def estimator_state(estimate: Estimator) -> dict | None:
    """``estimate.state_dict()`` for a stateful estimator, ``None`` for a stateless one."""
    return estimate.state_dict() if hasattr(estimate, "state_dict") else None


def load_estimator_state(
    estimate: Estimator, state: dict | None, device: torch.device | str = "cpu"
) -> None:
    if state is not None:
        estimate.load_state_dict(state, device)  # type: ignore[attr-defined]


def make_estimator(
    name: str,
    kernel: str = "laplace",
    chunk: int = 256,
    flow: FlowEstimatorConfig | None = None,
    score_net: ScoreNetConfig | None = None,
    fused: bool = False,
) -> Estimator:
    if name not in ESTIMATORS:
        raise ConfigError(f"unknown score estimator {name!r}; known: {', '.join(ESTIMATORS)}")
    options = EstimatorOptions(
        kernel, chunk, flow or FlowEstimatorConfig(), score_net or ScoreNetConfig(), fused
    )
    return ESTIMATORS[name](options)
