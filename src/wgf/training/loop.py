"""The stop-gradient training loop: move every generated point along its drift.

``x = g_θ(z)``; ``V`` on ``x.detach()``; ``y = stopgrad(x + η V)``; loss ``mean |x − y|²``, whose
gradient in θ is ``−(2η/N) Σ_i V_i ∂x_i/∂θ``. Adam, seeded, on CUDA when available.

The drift is chosen by the divergence's ``kind``: ``f`` (``w(r) β``, :func:`f_drift`) or ``lv``
(:func:`variance_drift`). An optional reference flow (:class:`wgf.reference.ReferenceFlow`) supplies
``log Ẑ`` for non-homogeneous weights when ``normaliser: reference``, and ``ν`` for the LV drifts
when ``lv.reference`` is ``flow`` or ``mixture``.

Resume: given ``checkpoint=path``, the training state is saved there every ``checkpoint_every``
steps and a matching one is resumed from (:mod:`wgf.training.checkpoint`); the caller removes the
file once its outputs are written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from ..config import ConfigError
from ..density.estimators import estimator_state, load_estimator_state, make_estimator
from ..density.kde import bandwidth_schedule
from ..device import resolve_device
from ..divergences import AnyDivergence
from ..drift import Drift, f_drift, lv_reference, variance_drift
from ..generator import Generator
from ..io import save_checkpoint, write_csv, write_json
from ..reference import ReferenceFlow
from ..targets import Target, Tempered
from .checkpoint import fingerprint, load_state, save_state
from .settings import NORMALISERS, TrainConfig

__all__ = ["Monitor", "TrainResult", "TrainingDiverged", "anneal_schedule", "save_run", "train"]


class TrainingDiverged(RuntimeError):
    """Loss, drift or samples became non-finite."""


@dataclass
class TrainResult:
    generator: Generator
    history: list[dict[str, float]]
    info: dict[str, Any]


Monitor = Callable[[torch.Tensor], dict[str, float]]


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """History values as Python ints and floats (numpy scalars do not load with weights_only)."""
    return {k: v if isinstance(v, int) else float(v) for k, v in row.items()}


def anneal_schedule(step: int, total: int, start: float, fraction: float) -> float:
    """``β`` of ``p^β`` at ``step``: geometric from ``start`` to 1 over the first ``fraction`` of
    ``total`` steps, then 1."""
    if start >= 1.0:
        return 1.0
    frac = min(step / max(fraction * (total - 1), 1), 1.0)
    return start ** (1.0 - frac)


def _drift(
    divergence: AnyDivergence,
    cfg: TrainConfig,
    x: torch.Tensor,
    target: Target,
    log_q: torch.Tensor,
    score_q: torch.Tensor,
    reference: ReferenceFlow | None,
    ess_floor: float = 0.0,
) -> Drift:
    if divergence.kind == "f":
        # The reference flow's log Z is p's, not an annealed p^β's: the batch estimates that one.
        use_ref = reference is not None and cfg.uses_reference(divergence)
        log_z = reference.log_z if use_ref and not isinstance(target, Tempered) else None
        return f_drift(x, target, divergence, log_q, score_q, log_z, cfg.log_r_clip, ess_floor)
    if divergence.kind == "lv":
        choice = cfg.lv_choice(divergence)
        log_flow = score_flow = None
        if choice != "q":
            log_flow, score_flow = reference.log_prob_and_score(x, cfg.lv.defensive)
        log_nu, score_nu = lv_reference(choice, cfg.lv.mix, log_q, score_q, log_flow, score_flow)
        log_z = reference.log_z if reference is not None else None
        return variance_drift(
            divergence, x, target, log_q, score_q, log_nu, score_nu, cfg.lv, log_z, cfg.log_r_clip
        )
    raise ValueError(f"{divergence.name}: unknown divergence kind {divergence.kind!r}")


def train(
    target: Target,
    divergence: AnyDivergence,
    cfg: TrainConfig,
    seed: int,
    monitor: Monitor | None = None,
    monitor_samples: int = 2000,
    progress: bool = True,
    reference: ReferenceFlow | None = None,
    checkpoint: str | Path | None = None,
) -> TrainResult:
    """Train one generator; ``monitor(samples)`` adds metrics to the history every ``log_every``.

    ``reference`` is the reference flow; required when :meth:`TrainConfig.uses_reference`.
    ``checkpoint``: where to save the training state every ``cfg.checkpoint_every`` steps (0:
    never) and to resume from if a matching state is there (see the module's docstring).
    Raises :class:`TrainingDiverged` naming the step and divergence if anything turns non-finite.
    """
    if cfg.normaliser not in NORMALISERS:
        raise ConfigError(f"unknown normaliser {cfg.normaliser!r}; known: {', '.join(NORMALISERS)}")
    if reference is None and cfg.uses_reference(divergence):
        raise ConfigError(
            f"{divergence.name}: these settings (normaliser {cfg.normaliser!r}, LV reference "
            f"{cfg.lv_choice(divergence)!r}) need a reference flow: rule reference_flow, or "
            "`wgf reference` and `wgf train --reference DIR`"
        )
    device = resolve_device(cfg.device)
    if reference is not None:
        reference = reference.to(device)
    torch.manual_seed(seed)
    gen = cfg.generator.build(target.dim).to(device)
    noise = torch.Generator().manual_seed(seed)
    monitor_noise = torch.Generator().manual_seed(seed + 10_000)
    opt = torch.optim.Adam(gen.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: cfg.lr_final_ratio ** (k / max(cfg.steps - 1, 1))
    )
    estimate = make_estimator(
        cfg.estimator,
        cfg.kernel,
        cfg.chunk_size,
        cfg.flow_estimator,
        cfg.score_net,
        fused=cfg.fused_kde,
    )
    history: list[dict[str, float]] = []
    first, elapsed, monitor_s = 0, 0.0, 0.0
    path = Path(checkpoint) if checkpoint is not None else None
    extra = {
        "monitor_samples": monitor_samples if monitor is not None else None,
        "reference_log_z": reference.log_z if reference is not None else None,
    }
    stamp = fingerprint(target, divergence, cfg, seed, extra)
    state = load_state(path, stamp) if path is not None else None
    if state is not None:
        gen.load_state_dict(state["generator"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        load_estimator_state(estimate, state["estimator"], device)
        # The RNGs last: rebuilding the estimator may draw from the global one.
        noise.set_state(state["noise"])
        monitor_noise.set_state(state["monitor_noise"])
        torch.set_rng_state(state["torch_rng"])
        if state["cuda_rng"] and device.type == "cuda":
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        first, elapsed, history = int(state["step"]), float(state["elapsed_s"]), state["history"]
        monitor_s = float(state.get("monitor_s", 0.0))
        print(f"resumed from step {first} of {cfg.steps} ({path})", flush=True)
    start = time.perf_counter() - elapsed
    bar = tqdm(
        range(first, cfg.steps),
        initial=first,
        total=cfg.steps,
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
        beta = anneal_schedule(step, cfg.steps, cfg.anneal_start, cfg.anneal_fraction)
        aimed = target if beta >= 1.0 else Tempered(target, beta)
        drift = _drift(divergence, cfg, xd, aimed, log_q, score_q, reference, cfg.ess_floor(step))
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
                "anneal_beta": beta,
                "weight_temper": float(drift.temper),
                "drift_norm": float(drift.velocity.norm(dim=-1).mean()),
                "weight_ess": drift.ess,
                "log_z_batch": float(drift.log_z),
                "elapsed_s": time.perf_counter() - start,
            }
            if monitor is not None:
                tick = time.perf_counter()
                row.update(monitor(gen.sample(monitor_samples, monitor_noise).cpu()))
                monitor_s += time.perf_counter() - tick
            history.append(_plain(row))
            bar.set_postfix(loss=f"{row['loss']:.3g}", tau=f"{tau:.3f}")
        every = cfg.checkpoint_every
        if path is not None and every > 0 and (step + 1) % every == 0 and step + 1 < cfg.steps:
            save_state(
                path,
                {
                    "fingerprint": stamp,
                    "step": step + 1,
                    "generator": gen.state_dict(),
                    "opt": opt.state_dict(),
                    "sched": sched.state_dict(),
                    "estimator": estimator_state(estimate),
                    "noise": noise.get_state(),
                    "monitor_noise": monitor_noise.get_state(),
                    "torch_rng": torch.get_rng_state(),
                    "cuda_rng": torch.cuda.get_rng_state_all() if device.type == "cuda" else [],
                    "history": history,
                    "elapsed_s": time.perf_counter() - start,
                    "monitor_s": monitor_s,
                },
            )
    wall = time.perf_counter() - start
    info = {
        "target": target.name,
        "divergence": divergence.name,
        "seed": seed,
        "device": str(device),
        "normaliser": (
            "reference"
            if reference is not None and divergence.kind == "f" and cfg.uses_reference(divergence)
            else drift.normaliser
        ),
        "reference_log_z": reference.log_z if reference is not None else None,
        "reference_ess": reference.ess if reference is not None else None,
        "train_wall_s": wall,
        # the part of train_wall_s the monitor took (its samples and metrics; logging only)
        "monitor_s": monitor_s,
        "time_per_step_s": wall / max(cfg.steps, 1),
        "resumed_from_step": first or None,
        "target_evaluations": 2 * cfg.steps * cfg.batch_size,
        "config": cfg.to_dict(),
    }
    return TrainResult(gen.cpu(), history, info)


def save_run(
    result: TrainResult, checkpoint: str | Path, history: str | Path, info: str | Path
) -> None:
    """Generator checkpoint, per-step history (CSV) and run metadata (JSON), each atomically."""
    save_checkpoint(checkpoint, result.generator.checkpoint())
    columns = sorted({k for row in result.history for k in row}, key=_history_order)
    write_csv(history, result.history, columns)
    write_json(info, result.info)


def _history_order(key: str) -> tuple[int, str]:
    return (0 if key == "step" else 1, key)
