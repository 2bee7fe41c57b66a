"""A score network fitted online by denoising score matching (the neural implicit sampler of
Luo et al. 2023, KL training): estimator ``score_net``.

``s_φ(x, σ) ≈ ∇log (q ∗ N(0, σ²I))(x)``, parametrised as ``s_φ = −ε̂_φ(u, log σ) / σ`` on the
standardised input ``u = (x − loc) / scale`` (``loc``, ``scale``: the first batch's per-coordinate
mean and standard deviation, fixed). Denoising score matching on the generator's detached batch:
``x̃ = x + σ ε``, loss ``mean |ε̂_φ(ũ, log σ) − ε|²`` with per-point ``σ = τ · exp(U(−1, 1) ·
log 2)`` around the current bandwidth ``τ`` (the same ``τ`` schedule as the KDE, so the smoothing
anneals the same way); queried at ``σ = τ``. Warm-started like
:class:`~wgf.density.estimators.FlowEstimator`: ``warmup_steps`` on the first batch, then
``steps`` per call.

``log q̂``: a score network gives no density, so the estimator returns the KDE log-density of
the batch at bandwidth ``τ`` (kernel of the training settings), normalised. Divergences whose
velocity uses ``log q`` (non-homogeneous weights) therefore mix a KDE ratio with the network's
score; the method registry uses ``score_net`` with ``reverse_kl`` only, whose velocity
``∇log p − ∇log q`` needs no ``log q`` (the KDE value feeds the logged diagnostics only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..config import DEFAULTS
from .kde import kde_log_density

__all__ = ["ScoreNet", "ScoreNetConfig", "ScoreNetEstimator", "fit_dsm"]


_DEFAULT = DEFAULTS["training"]["score_net"]


@dataclass
class ScoreNetConfig:
    """``training.score_net``: the network and its online fitting schedule."""

    hidden: int = _DEFAULT["hidden"]
    layers: int = _DEFAULT["layers"]
    steps: int = _DEFAULT["steps"]
    warmup_steps: int = _DEFAULT["warmup_steps"]
    lr: float = _DEFAULT["lr"]
    batch_size: int | None = _DEFAULT["batch_size"]
    sigma_spread: float = _DEFAULT["sigma_spread"]


class ScoreNet(nn.Module):
    """MLP ``(u, log σ) ↦ ε̂``; the score is ``−ε̂ / σ`` in the original units."""

    def __init__(self, dim: int, hidden: int = 128, layers: int = 3) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        width = dim + 1
        for _ in range(layers):
            blocks += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        blocks.append(nn.Linear(width, dim))
        self.mlp = nn.Sequential(*blocks)
        self.register_buffer("loc", torch.zeros(dim))
        self.register_buffer("scale", torch.ones(dim))

    def eps(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        u = (x - self.loc) / self.scale
        return self.mlp(torch.cat([u, sigma.log()[:, None]], dim=-1))

    def score(self, x: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
        s = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).expand(x.shape[0])
        return -self.eps(x, s) / s[:, None]


def fit_dsm(
    net: ScoreNet,
    x: torch.Tensor,
    sigma: float,
    opt: torch.optim.Optimizer,
    steps: int,
    spread: float = 2.0,
    batch_size: int | None = None,
    generator: torch.Generator | None = None,
) -> float:
    """``steps`` denoising-score-matching steps on ``x`` at noise levels around ``sigma``."""
    x = x.detach().float()
    loss = torch.zeros(())
    log_spread = math.log(spread)
    for _ in range(steps):
        xb = x
        if batch_size is not None and batch_size < x.shape[0]:
            xb = x[torch.randint(x.shape[0], (batch_size,), generator=generator)]
        u = torch.rand(xb.shape[0], generator=generator).to(x.device) * 2 - 1
        s = sigma * torch.exp(u * log_spread)
        eps = torch.randn(xb.shape, generator=generator).to(x.device)
        loss = (net.eps(xb + s[:, None] * eps, s) - eps).square().sum(-1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return float(loss.detach())


class ScoreNetEstimator:
    """Online DSM score network for ``∇log q``; KDE for ``log q`` (see the module docstring)."""

    def __init__(self, cfg: ScoreNetConfig, kernel: str = "laplace", chunk: int = 1024) -> None:
        self.cfg = cfg
        self.kernel = kernel
        self.chunk = chunk
        self.net: ScoreNet | None = None
        self.opt: torch.optim.Optimizer | None = None
        self.calls = 0
        self.last_loss = float("nan")
        self.noise = torch.Generator().manual_seed(0)

    def __call__(self, x: torch.Tensor, tau: float) -> tuple[torch.Tensor, torch.Tensor]:
        x = x.detach()
        steps = self.cfg.steps
        if self.net is None:
            self.net = ScoreNet(x.shape[1], self.cfg.hidden, self.cfg.layers).to(x.device)
            self.net.loc.copy_(x.float().mean(0))
            self.net.scale.copy_(x.float().std(0).clamp_min(1e-3))
            self.opt = torch.optim.Adam(self.net.parameters(), lr=self.cfg.lr)
            steps = self.cfg.warmup_steps
        assert self.opt is not None
        if steps > 0:
            self.last_loss = fit_dsm(
                self.net,
                x,
                tau,
                self.opt,
                steps,
                self.cfg.sigma_spread,
                self.cfg.batch_size,
                self.noise,
            )
        self.calls += 1
        with torch.no_grad():
            score = self.net.score(x.float(), tau).to(x.dtype)
        log_q = kde_log_density(x, x, tau, kernel=self.kernel, chunk=self.chunk)
        return log_q, score
