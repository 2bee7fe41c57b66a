"""The stop-gradient training loop: move every generated point along its drift.

``x = g_θ(z)``; ``V`` on ``x.detach()``; ``y = stopgrad(x + η V)``; loss ``mean |x − y|²``, whose
gradient in θ is ``−(2η/N) Σ_i V_i ∂x_i/∂θ``. Adam, seeded, on CUDA when available.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from tqdm.auto import tqdm

from .divergences import Divergence
from .drift import f_drift
from .estimators import make_estimator
from .generator import Generator
from .kde import bandwidth_schedule
from .targets import Target

__all__ = [
    "GeneratorConfig",
    "TrainConfig",
    "TrainResult",
    "TrainingDiverged",
    "resolve_device",
    "train",
]


class TrainingDiverged(RuntimeError):
    """Loss, drift or samples became non-finite."""


@dataclass
class GeneratorConfig:
    latent_dim: int | None = None
    hidden: int = 128
    layers: int = 3
    n_frequencies: int = 4
    init_scale: float = 2.0


@dataclass
class TrainConfig:
    steps: int = 2000
    batch_size: int = 1000
    lr: float = 1e-3
    lr_final_ratio: float = 0.1
    eta: float = 0.05
    estimator: str = "kde"
    kernel: str = "laplace"
    tau_init: float = 0.5
    tau_final_ratio: float = 0.3
    chunk_size: int = 1024
    log_r_clip: float = 10.0
    log_every: int = 100
    device: str = "auto"
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainResult:
    generator: Generator
    history: list[dict[str, float]]
    info: dict[str, Any]


Monitor = Callable[[torch.Tensor], dict[str, float]]


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def train(
    target: Target,
    divergence: Divergence,
    cfg: TrainConfig,
    seed: int,
    monitor: Monitor | None = None,
    monitor_samples: int = 2000,
    progress: bool = True,
) -> TrainResult:
    """Train one generator; ``monitor(samples)`` adds metrics to the history every ``log_every``.

    Raises :class:`TrainingDiverged` naming the step and divergence if anything turns non-finite.
    """
    device = resolve_device(cfg.device)
    torch.manual_seed(seed)
    gcfg = cfg.generator
    gen = Generator(
        latent_dim=gcfg.latent_dim or target.dim,
        dim=target.dim,
        hidden=gcfg.hidden,
        layers=gcfg.layers,
        n_frequencies=gcfg.n_frequencies,
        init_scale=gcfg.init_scale,
    ).to(device)
    noise = torch.Generator().manual_seed(seed)
    monitor_noise = torch.Generator().manual_seed(seed + 10_000)
    opt = torch.optim.Adam(gen.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: cfg.lr_final_ratio ** (k / max(cfg.steps - 1, 1))
    )
    estimate = make_estimator(cfg.estimator, cfg.kernel, cfg.chunk_size)
    history: list[dict[str, float]] = []
    start = time.perf_counter()
    bar = tqdm(
        range(cfg.steps),
        desc=f"{target.name}/{divergence.name}/seed{seed}",
        disable=not progress,
        mininterval=2.0,
    )
    for step in bar:
        tau = bandwidth_schedule(step, cfg.steps, cfg.tau_init, cfg.tau_final_ratio)
        x = gen(gen.latent(cfg.batch_size, noise))
        xd = x.detach()
        if not torch.isfinite(xd).all():
            raise TrainingDiverged(
                f"{divergence.name}: generator samples became non-finite at step {step}"
            )
        log_q, score_q = estimate(xd, tau)
        drift = f_drift(xd, target, divergence, log_q, score_q, log_r_clip=cfg.log_r_clip)
        y = (xd + cfg.eta * drift.velocity).detach()
        loss = (x - y).square().sum(-1).mean()
        finite = [torch.isfinite(t).all() for t in (loss, drift.velocity, drift.log_r)]
        if not all(finite):
            raise TrainingDiverged(
                f"{divergence.name}: loss, drift or log-ratio became non-finite at step {step}"
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % cfg.log_every == 0 or step == cfg.steps - 1:
            row = {
                "step": step,
                "loss": float(loss.detach()),
                "tau": tau,
                "drift_norm": float(drift.velocity.norm(dim=-1).mean()),
                "weight_ess": drift.ess,
                "log_z_batch": float(drift.log_z),
                "elapsed_s": time.perf_counter() - start,
            }
            if monitor is not None:
                row.update(monitor(gen.sample(monitor_samples, monitor_noise).cpu()))
            history.append(row)
            bar.set_postfix(loss=f"{row['loss']:.3g}", tau=f"{tau:.3f}")
    wall = time.perf_counter() - start
    info = {
        "target": target.name,
        "divergence": divergence.name,
        "seed": seed,
        "device": str(device),
        "normaliser": drift.normaliser,
        "train_wall_s": wall,
        "time_per_step_s": wall / max(cfg.steps, 1),
        "target_evaluations": 2 * cfg.steps * cfg.batch_size,
        "config": cfg.to_dict(),
    }
    return TrainResult(gen.cpu(), history, info)
