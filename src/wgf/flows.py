"""Normalizing flows (nflows): the data-free reference ``ν`` of a target and its ``log Ẑ``.

SCIENCE.md §5. A :class:`Flow` is an nflows autoregressive flow (``maf``: masked affine,
``nsf``: masked rational-quadratic splines with linear tails) acting on standardised
coordinates, ``x = loc + scale · y``; ``loc`` and ``scale`` are fixed buffers (the broad proposal's
location and scale for the reference, the first batch's for the online estimator of ``q``).
By default each autoregressive layer is parallel in the density direction (MAF): ``log ν(x)`` is
one pass, a sample takes ``d`` sequential passes. ``iaf=True`` turns every layer round (inverse
autoregressive, Kingma et al. 2016): a sample and its own ``log ν`` are one pass, the density of a
given point takes ``d``. Reverse-KL training only ever needs the former.

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
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from nflows.distributions.normal import StandardNormal
from nflows.transforms.autoregressive import (
    MaskedAffineAutoregressiveTransform,
    MaskedPiecewiseRationalQuadraticAutoregressiveTransform,
)
from nflows.transforms.base import CompositeTransform, InverseTransform
from nflows.transforms.permutations import RandomPermutation, ReversePermutation
from nflows.transforms.standard import PointwiseAffineTransform
from torch import nn
from tqdm.auto import tqdm

from .targets import Target

__all__ = [
    "ARCHITECTURES",
    "METHODS",
    "Flow",
    "FlowConfig",
    "Reference",
    "ReferenceConfig",
    "ReferenceFit",
    "fit_flow_ml",
    "fit_reference",
    "load_flow",
    "load_reference",
    "log_z_estimate",
    "save_flow",
    "temper_schedule",
]

ARCHITECTURES = ("maf", "nsf")
METHODS = ("iw_ml", "reverse_kl", "hybrid")


@dataclass
class FlowConfig:
    """A flow's architecture: ``layers`` autoregressive transforms, each a MADE of ``blocks``;
    ``iaf``: inverse autoregressive layers (fast sampling, slow density; module docstring)."""

    architecture: str = "nsf"
    layers: int = 4
    hidden: int = 64
    blocks: int = 2
    bins: int = 8
    tail_bound: float = 4.0
    iaf: bool = False


@dataclass
class ReferenceConfig(FlowConfig):
    """Settings of the reference fit (config section ``reference``); see the module docstring."""

    method: str = "iw_ml"
    steps: int = 2000
    rounds: int = 20
    pool_size: int = 20_000
    batch_size: int = 1024
    lr: float = 3e-3
    lr_final_ratio: float = 0.1
    proposal_loc: float | list[float] = 0.0
    proposal_scale: float = 3.0
    defensive: float = 0.1
    temper_start: float = 1.0
    temper_fraction: float = 0.5
    ess_target: float = 0.3
    reverse_steps: int = 0
    n_log_z: int = 100_000
    n_samples: int = 10_000
    device: str = "cpu"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReferenceConfig:
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Flow(nn.Module):
    """``x = loc + scale · T⁻¹(u)``, ``u ~ N(0, I)``: log-density, score, seeded samples."""

    def __init__(
        self,
        dim: int,
        architecture: str = "nsf",
        layers: int = 4,
        hidden: int = 64,
        blocks: int = 2,
        bins: int = 8,
        tail_bound: float = 4.0,
        iaf: bool = False,
        loc: float | Sequence[float] = 0.0,
        scale: float | Sequence[float] = 1.0,
    ) -> None:
        super().__init__()
        if architecture not in ARCHITECTURES:
            raise ValueError(
                f"unknown flow architecture {architecture!r}; known: {', '.join(ARCHITECTURES)}"
            )
        if dim < 2:
            raise ValueError("nflows' masked autoregressive flows need dim >= 2")
        loc_t = torch.as_tensor(loc, dtype=torch.float32).expand(dim).clone()
        scale_t = torch.as_tensor(scale, dtype=torch.float32).expand(dim).clone()
        self.hparams: dict[str, Any] = dict(
            dim=dim,
            architecture=architecture,
            layers=layers,
            hidden=hidden,
            blocks=blocks,
            bins=bins,
            tail_bound=float(tail_bound),
            iaf=bool(iaf),
            loc=loc_t.tolist(),
            scale=scale_t.tolist(),
        )
        self.dim = dim
        # The standardisation (for the defensive mixture); not saved: hparams rebuild it.
        self.register_buffer("loc", loc_t.clone(), persistent=False)
        self.register_buffer("scale", scale_t.clone(), persistent=False)
        # nflows transforms map data to noise: standardise first, then the autoregressive layers.
        steps: list[nn.Module] = [PointwiseAffineTransform(-loc_t / scale_t, 1.0 / scale_t)]
        for i in range(layers):
            if i > 0:
                steps.append(ReversePermutation(dim) if dim == 2 else RandomPermutation(dim))
            if architecture == "maf":
                layer: nn.Module = MaskedAffineAutoregressiveTransform(
                    features=dim, hidden_features=hidden, num_blocks=blocks
                )
            else:
                layer = MaskedPiecewiseRationalQuadraticAutoregressiveTransform(
                    features=dim,
                    hidden_features=hidden,
                    num_bins=bins,
                    tails="linear",
                    tail_bound=tail_bound,
                    num_blocks=blocks,
                )
            steps.append(InverseTransform(layer) if iaf else layer)
        self.transform = CompositeTransform(steps)
        self.base = StandardNormal([dim])

    @classmethod
    def from_config(cls, dim: int, cfg: FlowConfig, loc: Any = 0.0, scale: Any = 1.0) -> Flow:
        c = FlowConfig(**{f.name: getattr(cfg, f.name) for f in fields(FlowConfig)})
        return cls(dim, **asdict(c), loc=loc, scale=scale)

    def log_prob(self, x: torch.Tensor, chunk: int = 65536) -> torch.Tensor:
        """``log ν(x)``, differentiable in ``x`` and in the parameters; float32 inside."""
        dtype = x.dtype
        parts = []
        for i in range(0, x.shape[0], chunk):
            xb = x[i : i + chunk].float()
            noise, logabsdet = self.transform(xb)
            parts.append(self.base.log_prob(noise) + logabsdet)
        return torch.cat(parts).to(dtype)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """``∇log ν(x)`` by autograd (parameters untouched)."""
        with torch.enable_grad():
            xg = x.detach().float().requires_grad_(True)
            (grad,) = torch.autograd.grad(self.log_prob(xg).sum(), xg)
        return grad.to(x.dtype)

    def log_prob_and_score(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.enable_grad():
            xg = x.detach().float().requires_grad_(True)
            log_nu = self.log_prob(xg)
            (grad,) = torch.autograd.grad(log_nu.sum(), xg)
        return log_nu.detach().to(x.dtype), grad.to(x.dtype)

    def defensive_log_prob_and_score(
        self, x: torch.Tensor, eps: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``log`` and score of ``(1 − ε) ν + ε N(loc, scale² I)`` (defensive mixture).

        Far outside its support a MAF's log-density extrapolates faster than any Gaussian (on
        gmm2hard16, ``log ν ≈ −3·10⁵`` and ``|∇log ν| ≈ 4·10⁵`` at ``|x| ≈ 8``); the broad
        component (the flow's own standardisation, i.e. the fit's proposal) keeps the density
        and its score sane there and leaves ``ν`` unchanged where it has mass.
        """
        log_nu, score_nu = self.log_prob_and_score(x)
        if eps <= 0.0:
            return log_nu, score_nu
        loc, scale = self.loc.to(x.dtype), self.scale.to(x.dtype)
        log_pi = _gaussian_log_prob(x.detach(), loc, scale)
        score_pi = -(x.detach() - loc) / scale.square()
        a = log_nu + math.log1p(-eps)
        b = log_pi + math.log(eps)
        s = torch.sigmoid(a - b)[:, None]
        return torch.logaddexp(a, b), s * score_nu + (1 - s) * score_pi

    def rsample_and_log_prob(
        self, n: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` reparameterised samples and their ``log ν`` (differentiable in the parameters)."""
        device = self.transform_device()
        noise = torch.randn(n, self.dim, generator=generator).to(device)
        x, logabsdet = self.transform.inverse(noise)
        return x, self.base.log_prob(noise) - logabsdet

    @torch.no_grad()
    def sample_and_log_prob(
        self, n: int, generator: torch.Generator | None = None, chunk: int = 65536
    ) -> tuple[torch.Tensor, torch.Tensor]:
        xs, lps = [], []
        for i in range(0, n, chunk):
            x, lp = self.rsample_and_log_prob(min(chunk, n - i), generator)
            xs.append(x)
            lps.append(lp)
        return torch.cat(xs), torch.cat(lps)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.sample_and_log_prob(n, generator)[0]

    def transform_device(self) -> torch.device:
        return next(self.buffers()).device

    def checkpoint(self) -> dict[str, Any]:
        return {"hparams": dict(self.hparams), "state_dict": self.state_dict()}

    @classmethod
    def from_checkpoint(cls, ckpt: dict[str, Any]) -> Flow:
        flow = cls(**ckpt["hparams"])
        flow.load_state_dict(ckpt["state_dict"])
        return flow


def save_flow(path: str | Path, flow: Flow, extra: dict[str, Any] | None = None) -> None:
    """State dict and hparams (plain data only, so ``weights_only=True`` loads it)."""
    from .results import atomic_write

    ckpt = {**flow.checkpoint(), "extra": dict(extra or {})}
    atomic_write(Path(path), lambda fh: torch.save(ckpt, fh), "wb")


def load_flow(path: str | Path, map_location: str | torch.device = "cpu") -> Flow:
    ckpt = torch.load(str(path), map_location=map_location, weights_only=True)
    flow = Flow.from_checkpoint(ckpt)
    flow.eval()
    return flow


@dataclass
class Reference:
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

    def to(self, device: torch.device | str) -> Reference:
        self.flow.to(device)
        return self


def load_reference(flow_path: str | Path, log_z_path: str | Path) -> Reference:
    """The reference written by :func:`fit_reference`'s rule: ``flow.pt`` and ``log_z.json``."""
    import json

    info = json.loads(Path(log_z_path).read_text())
    return Reference(load_flow(flow_path), float(info["log_z_hat"]), float(info["ess"]))


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
    log_z = torch.logsumexp(log_w, 0) - math.log(n)
    ess = torch.exp(2 * torch.logsumexp(log_w, 0) - torch.logsumexp(2 * log_w, 0)) / n
    return float(log_z), float(ess)


@dataclass
class ReferenceFit:
    flow: Flow
    history: list[dict[str, float]]
    info: dict[str, Any]


def _gaussian_log_prob(x: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    z = (x - loc) / scale
    return -0.5 * z.square().sum(-1) - scale.log().sum() - 0.5 * x.shape[-1] * math.log(2 * math.pi)


def fit_reference(
    target: Target,
    cfg: ReferenceConfig,
    seed: int = 0,
    progress: bool = True,
) -> ReferenceFit:
    """Fit ``ν`` to ``target`` data-free, then estimate ``log Ẑ`` and its ESS (SCIENCE.md §5)."""
    if cfg.method not in METHODS:
        raise ValueError(f"unknown reference method {cfg.method!r}; known: {', '.join(METHODS)}")
    device = torch.device(
        ("cuda" if torch.cuda.is_available() else "cpu") if cfg.device == "auto" else cfg.device
    )
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
            log_prop = _gaussian_log_prob(x, loc, scale)
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
            probs = torch.softmax(-beta * e - log_prop, 0)
            ess = float(1.0 / probs.square().sum()) / x.shape[0]
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


def _ess(log_w: torch.Tensor) -> float:
    return float(torch.exp(2 * torch.logsumexp(log_w, 0) - torch.logsumexp(2 * log_w, 0))) / len(
        log_w
    )


def _adaptive_beta(e: torch.Tensor, log_prop: torch.Tensor, beta: float, target: float) -> float:
    """The largest ``β' ∈ [β, 1]`` whose pool weights ``p̃^{β'} / proposal`` keep ESS ≥ target."""
    if _ess(-e - log_prop) >= target:
        return 1.0
    lo, hi = beta, 1.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if _ess(-mid * e - log_prop) >= target:
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


def fit_flow_ml(
    flow: Flow,
    x: torch.Tensor,
    opt: torch.optim.Optimizer,
    steps: int,
    batch_size: int | None = None,
    generator: torch.Generator | None = None,
) -> float:
    """``steps`` maximum-likelihood steps of ``flow`` on the detached samples ``x``; last loss."""
    x = x.detach()
    loss = torch.zeros(())
    for _ in range(steps):
        xb = x
        if batch_size is not None and batch_size < x.shape[0]:
            idx = torch.randint(x.shape[0], (batch_size,), generator=generator)
            xb = x[idx.to(x.device)]
        loss = -flow.log_prob(xb).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return float(loss.detach())
