"""f-divergences as the scalar weight of the universal drift ``V = w(r) β`` (SCIENCE.md §1),
and the Log-Variance drifts of SCIENCE.md §3.

Each f-divergence entry gives ``log w`` and the elasticity ``ε = d log w / d log r`` as
functions of ``log r`` (never of ``r``, which overflows), plus ``f`` itself for the theory
checks. ``homogeneous`` marks weights with ``w(r/Z) ∝ w(r)``, for which self-normalising over
the batch removes the unknown normaliser exactly.

Every entry has a ``kind``: ``"f"`` (registry :data:`DIVERGENCES`, drift ``w(r) β`` by
:func:`wgf.drift.f_drift`) or ``"lv"`` (registry :data:`LV_DIVERGENCES`, drift by
:func:`wgf.drift.lv_drift` / :func:`wgf.drift.lv_surrogate`, parameters in ``training.lv``).
Adding a divergence is adding one entry to the registry of its kind; ``get_divergence`` looks
in both. :data:`DIVERGENCES` holds only f-divergences, so code that needs ``f``, ``w`` or ``ε``
can iterate over it.

Importing this module does not import torch: the weights are written with the tensors' own
methods, so the workflow checks names and reads kinds while it builds its DAG.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = [
    "DIVERGENCES",
    "LV_DIVERGENCES",
    "AnyDivergence",
    "Divergence",
    "LogVariance",
    "UnknownDivergence",
    "get_divergence",
    "lv_choice",
    "needs_reference",
]

Fn = Callable[["torch.Tensor"], "torch.Tensor"]


class UnknownDivergence(ValueError):
    """A divergence name that is not in the registry."""


@dataclass(frozen=True)
class Divergence:
    name: str
    label: str
    log_w: Fn
    elasticity: Fn
    f: Fn
    homogeneous: bool = True
    kind: str = "f"

    def weight(self, log_r: torch.Tensor) -> torch.Tensor:
        return self.log_w(log_r).exp()


def _const(value: float) -> Fn:
    return lambda log_r: log_r * 0.0 + value


def _js_f(r: torch.Tensor) -> torch.Tensor:
    return 0.5 * (r * r.log() - (1 + r) * ((1 + r) / 2).log())


def _js_log_w(log_r: torch.Tensor) -> torch.Tensor:
    """``log ½ + log σ(log r)`` by torch's own log-sigmoid: no tensor method gives the same
    floats, and imported here it keeps torch out of this module's import."""
    from torch.nn.functional import logsigmoid

    return math.log(0.5) + logsigmoid(log_r)


def alpha(a: float) -> Divergence:
    """Amari α-divergence, ``f = (r^α − α r − (1 − α)) / (α(α − 1))``, ``w = r^α``; α ∉ {0, 1}."""
    if a in (0.0, 1.0):
        raise UnknownDivergence("alpha must differ from 0 and 1 (use reverse_kl / forward_kl)")
    return Divergence(
        name=f"alpha_{a:g}",
        label=f"α = {a:g}",
        log_w=lambda lr: a * lr,
        elasticity=_const(a),
        f=lambda r: (r.pow(a) - a * r - (1 - a)) / (a * (a - 1)),
    )


DIVERGENCES: dict[str, Divergence] = {
    d.name: d
    for d in [
        Divergence("reverse_kl", "reverse KL", _const(0.0), _const(0.0), lambda r: -r.log()),
        Divergence("forward_kl", "forward KL", lambda lr: lr, _const(1.0), lambda r: r * r.log()),
        Divergence(
            "hellinger",
            "squared Hellinger",
            lambda lr: math.log(0.5) + 0.5 * lr,
            _const(0.5),
            lambda r: (r.sqrt() - 1) ** 2,
        ),
        Divergence(
            "js",
            "Jensen–Shannon",
            _js_log_w,
            lambda lr: (-lr).sigmoid(),
            _js_f,
            homogeneous=False,
        ),
        Divergence(
            "pearson",
            "Pearson χ²",
            lambda lr: math.log(2.0) + 2 * lr,
            _const(2.0),
            lambda r: (r - 1) ** 2,
        ),
        Divergence(
            "neyman",
            "Neyman χ²",
            lambda lr: math.log(2.0) - lr,
            _const(-1.0),
            lambda r: (1 - r) ** 2 / r,
        ),
    ]
}


@dataclass(frozen=True)
class LogVariance:
    """A Log-Variance drift (SCIENCE.md §3); not an f-divergence, so it has no ``f``/``w``.

    ``surrogate`` selects the reweighted shared direction ``(ν/q̂)^γ β`` instead of the exact
    drift ``2 (ν/q)[β + (log r + m) ∇log(ν/q)]``. The reference ``ν`` (``q``, ``flow`` or their
    mixture), its weight ``λ`` and ``γ`` are config keys (``training.lv``); an entry with its own
    ``reference`` fixes ``ν`` whatever the config says (so one grid can hold LV with every
    reference side by side). Both are invariant to ``Z`` (``homogeneous``).
    """

    name: str
    label: str
    surrogate: bool = False
    reference: str | None = None
    homogeneous: bool = True
    kind: str = "lv"


LV_DIVERGENCES: dict[str, LogVariance] = {
    d.name: d
    for d in [
        LogVariance("lv", "log-variance"),
        LogVariance("lv_surrogate", "LV surrogate", surrogate=True),
        LogVariance("lv_q", "log-variance, ν = q", reference="q"),
        LogVariance("lv_flow", "log-variance, ν = flow", reference="flow"),
        LogVariance("lv_mixture", "log-variance, ν = λ flow + (1 − λ) q", reference="mixture"),
    ]
}

AnyDivergence = Divergence | LogVariance

_ALPHA = re.compile(r"^alpha_(-?\d+(?:\.\d+)?)$")


def get_divergence(name: str) -> AnyDivergence:
    """Look up a divergence; ``alpha_<value>`` (e.g. ``alpha_0.5``) builds an α-divergence."""
    if name in DIVERGENCES:
        return DIVERGENCES[name]
    if name in LV_DIVERGENCES:
        return LV_DIVERGENCES[name]
    match = _ALPHA.match(name)
    if match:
        return alpha(float(match.group(1)))
    known = ", ".join([*DIVERGENCES, "alpha_<value>", *LV_DIVERGENCES])
    raise UnknownDivergence(f"unknown divergence {name!r}; known: {known}")


def lv_choice(divergence: AnyDivergence, lv_reference: str) -> str:
    """The reference ν of an LV entry: the entry's own, else the configured one
    (``training.lv.reference``)."""
    return getattr(divergence, "reference", None) or lv_reference


def needs_reference(divergence: AnyDivergence, normaliser: str, lv_reference: str) -> bool:
    """Whether training ``divergence`` needs the reference flow ν: an LV drift whose ν is not
    ``q``, or a non-homogeneous weight with ``normaliser: reference`` (``log Ẑ`` from ν)."""
    if divergence.kind == "lv":
        return lv_choice(divergence, lv_reference) != "q"
    return normaliser == "reference" and not divergence.homogeneous
