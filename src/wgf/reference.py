"""The reference flow ν of a target (SCIENCE.md §5): fitted data-free, with its ``log Ẑ``.

:func:`fit_reference` fits ``ν`` to the unnormalised target without samples of it:

* ``iw_ml``: importance-weighted maximum likelihood (forward KL, mass-covering). Round 0 draws a
  pool from the broad proposal ``π = N(loc, scale² I)``; later rounds from the defensive mixture
  ``α π + (1 − α) ν`` (the current flow, mostly). The pool is resampled with probability ∝
  ``p̃^{β_r} / proposal`` and the flow takes ML steps on the resampled points. With
  ``temper_start < 1`` this is annealed importance-weighted ML (each round's flow is the next
  round's proposal): ``β_0 = temper_start``, then each round the largest ``β`` whose pool weights
  keep an ESS fraction ``≥ ess_target``, but never below the geometric schedule that reaches 1
  after ``temper_fraction`` of the rounds.
* ``reverse_kl``: ``E_ν[log ν + β_t E]`` by the reparameterised samples of ``ν``, ``β_t`` geometric
  from ``temper_start`` to 1 over the first ``temper_fraction`` of the steps. Mode-seeking: it
  drops modes, and ``log Ẑ`` with them.
* ``hybrid``: ``iw_ml`` then ``reverse_steps`` of untempered reverse KL.

:func:`log_z_estimate` then gives ``log Ẑ = logmeanexp(−E(x) − log ν(x))``, ``x ~ ν``, with the
ESS fraction of those weights.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from .config import DEFAULTS
from .density.flows import Flow, FlowConfig, gaussian_log_prob, load_flow
from .device import resolve_device
from .importance import ess_fraction, log_mean_exp
from .io import read_json
from .targets import Target

__all__ = [
    "FIT_METHODS",
    "ReferenceFlow",
    "ReferenceConfig",
    "ReferenceFit",
    "fit_reference",
    "load_reference",
    "log_z_estimate",
    "temper_schedule",
]

FIT_METHODS = ("iw_ml", "reverse_kl", "hybrid")

_DEFAULT = {k: v for k, v in DEFAULTS["reference"].items() if k != "seed"}


@dataclass
class ReferenceConfig(FlowConfig):
    """Settings of the reference fit (config section ``reference``, its ``seed`` apart); see the
    module docstring."""

    architecture: str = _DEFAULT["architecture"]
    layers: int = _DEFAULT["layers"]
    hidden: int = _DEFAULT["hidden"]
    blocks: int = _DEFAULT["blocks"]
    bins: int = _DEFAULT["bins"]
    tail_bound: float = _DEFAULT["tail_bound"]
    iaf: bool = _DEFAULT["iaf"]
    method: str = _DEFAULT["method"]
    steps: int = _DEFAULT["steps"]
    rounds: int = _DEFAULT["rounds"]
    pool_size: int = _DEFAULT["pool_size"]
    batch_size: int = _DEFAULT["batch_size"]
    lr: float = _DEFAULT["lr"]
    lr_final_ratio: float = _DEFAULT["lr_final_ratio"]
    proposal_loc: float | list[float] = _DEFAULT["proposal_loc"]
    proposal_scale: float = _DEFAULT["proposal_scale"]
    defensive: float = _DEFAULT["defensive"]
    temper_start: float = _DEFAULT["temper_start"]
    temper_fraction: float = _DEFAULT["temper_fraction"]
    ess_target: float = _DEFAULT["ess_target"]
    reverse_steps: int = _DEFAULT["reverse_steps"]
    n_log_z: int = _DEFAULT["n_log_z"]
    n_samples: int = _DEFAULT["n_samples"]
    device: str = _DEFAULT["device"]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReferenceConfig:
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReferenceFlow:
    """What training needs of the reference: ``log ν``, ``∇log ν`` and ``log Ẑ`` (with its ESS)."""

    flow: Flow
    log_z: float
    ess: float

    def log_prob_and_score(
        self, x: torch.Tensor, defensive: float = 0.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``log ν`` and ``∇log ν``; with ``defensive = ε > 0``, of the defensive mixture
        ``(1 − ε) ν + ε N(loc, scale² I)`` (:meth:`Flow.defensive_log_prob_and_score`)."""
        return self.flow.defensive_log_prob_and_score(x, defensive)

    def to(self, device: torch.device | str) -> ReferenceFlow:
        self.flow.to(device)
        return self


def load_reference(flow_path: str | Path, log_z_path: str | Path) -> ReferenceFlow:
    """The reference written by rule ``reference_flow`` (or ``wgf reference``): ``flow.pt``
    and ``log_z.json``."""
    info = read_json(log_z_path)
    return ReferenceFlow(load_flow(flow_path), float(info["log_z_hat"]), float(info["ess"]))


def temper_schedule(start: float, fraction: float, k: int, total: int) -> float:
    """Inverse temperature at iteration ``k`` of ``total``: geometric from ``start`` to 1, reached
    after ``fraction · total`` iterations, then 1."""
    if start >= 1.0:
        return 1.0
    ramp = max(int(round(fraction * total)) - 1, 1)
    return float(start ** max(1.0 - k / ramp, 0.0))


@torch.no_grad()
def log_z_estimate(
    flow: Flow,
    target: Target,
    n: int,
    generator: torch.Generator | None = None,
    chunk: int = 65536,
) -> tuple[float, float]:
    """``(log Ẑ, ESS fraction)`` by importance sampling with ``ν`` as proposal."""
    parts = []
    for i in range(0, n, chunk):
        x, log_nu = flow.sample_and_log_prob(min(chunk, n - i), generator)
        parts.append(target.log_prob_unnorm(x).double() - log_nu.double())
    log_w = torch.cat(parts)
    log_w = torch.where(torch.isfinite(log_w), log_w, torch.full_like(log_w, -math.inf))
    return float(log_mean_exp(log_w)), ess_fraction(log_w)


@dataclass
class ReferenceFit:
    flow: Flow
    history: list[dict[str, float]]
    info: dict[str, Any]


def fit_reference(
    target: Target,
    cfg: ReferenceConfig,
    seed: int = 0,
    progress: bool = True,
) -> ReferenceFit:
    """Fit ``ν`` to ``target`` data-free, then estimate ``log Ẑ`` and its ESS (SCIENCE.md §5)."""
    if cfg.method not in FIT_METHODS:
        raise ValueError(
            f"unknown reference method {cfg.method!r}; known: {', '.join(FIT_METHODS)}"
        )
    device = resolve_device(cfg.device)
    torch.manual_seed(seed)
    dim = target.dim
    loc = torch.as_tensor(cfg.proposal_loc, dtype=torch.float32).expand(dim).clone().to(device)
    scale = torch.full((dim,), float(cfg.proposal_scale), device=device)
    flow = Flow.from_config(dim, cfg, loc=loc.cpu(), scale=scale.cpu()).to(device)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(flow.parameters(), lr=cfg.lr)
    total = cfg.steps + (cfg.reverse_steps if cfg.method == "hybrid" else 0)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: cfg.lr_final_ratio ** (min(k, total - 1) / max(total - 1, 1))
    )
    history: list[dict[str, float]] = []
    start, cpu_start = time.perf_counter(), time.process_time()
    bar = tqdm(total=total, desc=f"reference/{target.name}", disable=not progress, mininterval=2.0)

    optim = (opt, sched, gen, history, bar)
    if cfg.method in ("iw_ml", "hybrid"):
        _iw_ml(flow, target.energy, cfg, loc, scale, *optim)
    if cfg.method == "reverse_kl":
        _reverse_kl(flow, target.energy, cfg, cfg.steps, cfg.temper_start, *optim)
    if cfg.method == "hybrid" and cfg.reverse_steps > 0:
        _reverse_kl(flow, target.energy, cfg, cfg.reverse_steps, 1.0, *optim)
    bar.close()
    fit_wall, fit_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    flow.eval()
    t0 = time.perf_counter()
    log_z_hat, ess = log_z_estimate(flow, target, cfg.n_log_z, gen)
    est_wall = time.perf_counter() - t0
    info: dict[str, Any] = {
        "target": target.name,
        "seed": seed,
        "method": cfg.method,
        "log_z_hat": log_z_hat,
        "ess": ess,
        "n_log_z": cfg.n_log_z,
        "log_z_true": target.log_z,
        "log_z_error": None if target.log_z is None else log_z_hat - target.log_z,
        "fit_wall_s": fit_wall,
        "fit_cpu_s": fit_cpu,
        "threads": torch.get_num_threads(),
        "log_z_wall_s": est_wall,
        "steps": total,
        "target_evaluations": _evaluations(cfg),
        "device": str(device),
        "config": cfg.to_dict(),
    }
    return ReferenceFit(flow.cpu(), history, info)


def _evaluations(cfg: ReferenceConfig) -> int:
    iw = cfg.rounds * cfg.pool_size if cfg.method in ("iw_ml", "hybrid") else 0
    rkl = cfg.batch_size * (cfg.steps if cfg.method == "reverse_kl" else cfg.reverse_steps)
    return iw + (rkl if cfg.method != "iw_ml" else 0) + cfg.n_log_z


def _iw_ml(
    flow: Flow,
    energy: Callable[[torch.Tensor], torch.Tensor],
    cfg: ReferenceConfig,
    loc: torch.Tensor,
    scale: torch.Tensor,
    opt: torch.optim.Optimizer,
    sched: Any,
    gen: torch.Generator,
    history: list[dict[str, float]],
    bar: Any,
) -> None:
    rounds = max(cfg.rounds, 1)
    per_round = [cfg.steps // rounds + (1 if r < cfg.steps % rounds else 0) for r in range(rounds)]
    device = loc.device
    beta = min(cfg.temper_start, 1.0)
    for r in range(rounds):
        with torch.no_grad():
            alpha = 1.0 if r == 0 else cfg.defensive
            n_broad = cfg.pool_size if r == 0 else int(round(alpha * cfg.pool_size))
            broad = loc + scale * torch.randn(n_broad, flow.dim, generator=gen).to(device)
            if n_broad < cfg.pool_size:
                own, _ = flow.sample_and_log_prob(cfg.pool_size - n_broad, gen)
                x = torch.cat([broad, own])
            else:
                x = broad
            log_prop = gaussian_log_prob(x, loc, scale)
            if alpha < 1.0:
                log_nu = flow.log_prob(x)
                log_alpha = math.log(alpha) if alpha > 0 else -math.inf
                log_prop = torch.logaddexp(log_prop + log_alpha, log_nu + math.log1p(-alpha))
            e = energy(x).double()
            e = torch.where(torch.isfinite(e), e, torch.full_like(e, math.inf))
            log_prop = log_prop.double()
            if r > 0 and beta < 1.0:
                floor = temper_schedule(cfg.temper_start, cfg.temper_fraction, r, rounds)
                beta = max(floor, _adaptive_beta(e, log_prop, beta, cfg.ess_target))
            log_w = -beta * e - log_prop
            # a point whose energy or proposal density overflowed (the funnel's e^{-v} far out
            # in its neck) carries no weight, rather than a NaN that poisons every weight
            log_w = torch.where(torch.isfinite(log_w), log_w, torch.full_like(log_w, -math.inf))
            if not torch.isfinite(log_w).any():
                raise FloatingPointError(f"reference flow: no finite importance weight, round {r}")
            probs = torch.softmax(log_w, 0)
            ess = ess_fraction(log_w)
        losses = []
        for _ in range(per_round[r]):
            idx = torch.multinomial(probs, cfg.batch_size, replacement=True, generator=gen)
            loss = -flow.log_prob(x[idx.to(device)]).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
            bar.update(1)
        history.append(
            {
                "phase": 0,
                "round": r,
                "beta": beta,
                "pool_ess": ess,
                "loss": sum(losses) / max(len(losses), 1),
            }
        )
        bar.set_postfix(beta=f"{beta:.3g}", ess=f"{ess:.3f}")


def _adaptive_beta(e: torch.Tensor, log_prop: torch.Tensor, beta: float, target: float) -> float:
    """The largest ``β' ∈ [β, 1]`` whose pool weights ``p̃^{β'} / proposal`` keep ESS ≥ target."""
    if ess_fraction(-e - log_prop) >= target:
        return 1.0
    lo, hi = beta, 1.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if ess_fraction(-mid * e - log_prop) >= target:
            lo = mid
        else:
            hi = mid
    return lo


def _reverse_kl(
    flow: Flow,
    energy: Callable[[torch.Tensor], torch.Tensor],
    cfg: ReferenceConfig,
    steps: int,
    temper_start: float,
    opt: torch.optim.Optimizer,
    sched: Any,
    gen: torch.Generator,
    history: list[dict[str, float]],
    bar: Any,
) -> None:
    for k in range(steps):
        beta = temper_schedule(temper_start, cfg.temper_fraction, k, steps)
        x, log_nu = flow.rsample_and_log_prob(cfg.batch_size, gen)
        loss = (log_nu + beta * energy(x)).mean()
        if not torch.isfinite(loss):
            raise FloatingPointError(f"reverse-KL loss became non-finite at step {k}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        bar.update(1)
        if k % 100 == 0 or k == steps - 1:
            history.append({"phase": 1, "round": k, "beta": beta, "loss": float(loss.detach())})
