"""The settings of one training run (config sections ``training`` and ``generator``).

Field defaults come from :data:`wgf.config.DEFAULTS`, so ``TrainConfig()`` is what the workflow
runs for a target without overrides; :func:`train_config` resolves a target's own settings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..config import DEFAULTS, resolve
from ..density.estimators import FlowEstimatorConfig
from ..density.score_net import ScoreNetConfig
from ..divergences import AnyDivergence, lv_choice, needs_reference
from ..drift import LVConfig
from ..generator import Generator

__all__ = ["NORMALISERS", "GeneratorConfig", "TrainConfig", "train_config"]

NORMALISERS = ("batch", "reference")
_T = DEFAULTS["training"]
_G = DEFAULTS["generator"]


@dataclass
class GeneratorConfig:
    """``generator``: the MLP's size and its initial spread (``latent_dim`` null: the target's
    dimension)."""

    latent_dim: int | None = _G["latent_dim"]
    hidden: int = _G["hidden"]
    layers: int = _G["layers"]
    n_frequencies: int = _G["n_frequencies"]
    init_scale: float = _G["init_scale"]

    def build(self, dim: int) -> Generator:
        """A generator of these settings for a target of dimension ``dim`` (at the global RNG's
        state: seed it first)."""
        return Generator(
            latent_dim=self.latent_dim or dim,
            dim=dim,
            hidden=self.hidden,
            layers=self.layers,
            n_frequencies=self.n_frequencies,
            init_scale=self.init_scale,
        )


@dataclass
class TrainConfig:
    """``training``, with the target's generator under ``generator``."""

    steps: int = _T["steps"]
    batch_size: int = _T["batch_size"]
    lr: float = _T["lr"]
    lr_final_ratio: float = _T["lr_final_ratio"]
    eta: float = _T["eta"]
    estimator: str = _T["estimator"]
    kernel: str = _T["kernel"]
    tau_init: float = _T["tau_init"]
    tau_final_ratio: float = _T["tau_final_ratio"]
    anneal_start: float = _T["anneal_start"]
    anneal_fraction: float = _T["anneal_fraction"]
    weight_ess_floor: float = _T["weight_ess_floor"]
    weight_ess_floor_final: float | None = _T["weight_ess_floor_final"]
    chunk_size: int = _T["chunk_size"]
    fused_kde: bool = _T["fused_kde"]
    log_r_clip: float = _T["log_r_clip"]
    log_every: int = _T["log_every"]
    checkpoint_every: int = _T["checkpoint_every"]
    device: str = _T["device"]
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    normaliser: str = _T["normaliser"]
    lv: LVConfig = field(default_factory=LVConfig)
    flow_estimator: FlowEstimatorConfig = field(default_factory=FlowEstimatorConfig)
    score_net: ScoreNetConfig = field(default_factory=ScoreNetConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; nested sections may be missing (their defaults apply)."""
        nested = {
            "generator": GeneratorConfig,
            "lv": LVConfig,
            "flow_estimator": FlowEstimatorConfig,
            "score_net": ScoreNetConfig,
        }
        kwargs = {k: v for k, v in data.items() if k not in nested}
        for key, kind in nested.items():
            value = data.get(key) or {}
            kwargs[key] = value if isinstance(value, kind) else kind(**value)
        return cls(**kwargs)

    def ess_floor(self, step: int) -> float:
        """The weights' ESS floor at ``step``: linear from ``weight_ess_floor`` to
        ``weight_ess_floor_final`` (null: constant)."""
        if self.weight_ess_floor_final is None:
            return self.weight_ess_floor
        frac = step / max(self.steps - 1, 1)
        return self.weight_ess_floor + frac * (self.weight_ess_floor_final - self.weight_ess_floor)

    def uses_reference(self, divergence: AnyDivergence) -> bool:
        """Whether training ``divergence`` with these settings needs the reference flow."""
        return needs_reference(divergence, self.normaliser, self.lv.reference)

    def lv_choice(self, divergence: AnyDivergence) -> str:
        """The LV reference of ``divergence``: the entry's own, else ``lv.reference``."""
        return lv_choice(divergence, self.lv.reference)


def train_config(config: dict[str, Any], target: str) -> TrainConfig:
    """The training settings of ``target`` in a prepared config (its overrides on top)."""
    return TrainConfig.from_dict(resolve.training(config, target))
