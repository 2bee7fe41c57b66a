"""Normalizing flows (nflows): a density with its score and seeded samples, fitted by ML.

SCIENCE.md §5. A :class:`Flow` is an nflows autoregressive flow (``maf``: masked affine,
``nsf``: masked rational-quadratic splines with linear tails) acting on standardised
coordinates, ``x = loc + scale · y``; ``loc`` and ``scale`` are fixed buffers (the broad proposal's
location and scale for the reference flow, the first batch's for the online estimator of ``q``).
By default each autoregressive layer is parallel in the density direction (MAF): ``log ν(x)`` is
one pass, a sample takes ``d`` sequential passes. ``iaf=True`` turns every layer round (inverse
autoregressive, Kingma et al. 2016): a sample and its own ``log ν`` are one pass, the density of a
given point takes ``d``. Reverse-KL training only ever needs the former.

Its two users: the data-free reference flow ν of a target (:mod:`wgf.reference`) and the online
estimator of the generator's ``q`` (:class:`wgf.density.estimators.FlowEstimator`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from nflows.transforms.autoregressive import (
    MaskedAffineAutoregressiveTransform,
    MaskedPiecewiseRationalQuadraticAutoregressiveTransform,
)
from nflows.transforms.base import CompositeTransform, InverseTransform
from nflows.transforms.permutations import RandomPermutation, ReversePermutation
from nflows.transforms.standard import PointwiseAffineTransform
from torch import nn

from ..io import load_checkpoint, save_checkpoint

__all__ = [
    "ARCHITECTURES",
    "Flow",
    "FlowConfig",
    "fit_flow_ml",
    "gaussian_log_prob",
    "load_flow",
    "save_flow",
]

ARCHITECTURES = ("maf", "nsf")


@dataclass
class FlowConfig:
    """A flow's architecture: ``layers`` autoregressive transforms, each a MADE of ``blocks``;
    ``iaf``: inverse autoregressive layers (fast sampling, slow density; module docstring). Its
    two users, the reference flow and the online estimator of ``q``, set their own defaults."""

    architecture: str
    layers: int
    hidden: int
    blocks: int
    bins: int
    tail_bound: float
    iaf: bool


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
            parts.append(_standard_normal_log_prob(noise) + logabsdet)
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
        # Far enough out the flow's own log-density overflows to NaN (|x| ≈ 90 on gmm2hard16):
        # there ν is nothing and the broad component alone is the reference.
        bad = ~(torch.isfinite(log_nu) & torch.isfinite(score_nu).all(-1))
        log_nu = log_nu.masked_fill(bad, -math.inf)
        score_nu = score_nu.masked_fill(bad[:, None], 0.0)
        loc, scale = self.loc.to(x.dtype), self.scale.to(x.dtype)
        log_pi = gaussian_log_prob(x.detach(), loc, scale)
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
        return x, _standard_normal_log_prob(noise) - logabsdet

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
    save_checkpoint(path, {**flow.checkpoint(), "extra": dict(extra or {})})


def load_flow(path: str | Path, map_location: str | torch.device = "cpu") -> Flow:
    flow = Flow.from_checkpoint(load_checkpoint(path, map_location))
    flow.eval()
    return flow


def _standard_normal_log_prob(noise: torch.Tensor) -> torch.Tensor:
    """``log N(noise; 0, I)`` per row, as nflows' ``StandardNormal`` computes it (bit for bit);
    written here because importing ``nflows.distributions`` imports matplotlib's pyplot."""
    return -0.5 * noise.square().sum(-1) - 0.5 * noise.shape[-1] * math.log(2 * math.pi)


def gaussian_log_prob(x: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """``log N(x; loc, diag(scale²))`` per row."""
    z = (x - loc) / scale
    return -0.5 * z.square().sum(-1) - scale.log().sum() - 0.5 * x.shape[-1] * math.log(2 * math.pi)


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
