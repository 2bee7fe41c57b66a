"""The target registry: one builder per kind, and targets to and from their stored spec.

``TARGETS`` maps a config ``kind`` to its builder; ``build_target(name, {kind, params})`` calls it
(``kind`` defaults to the name, so ``gmm8: {}`` is the built-in). A built target stores itself as
plain data (:meth:`Target.to_spec`) beside its exact samples, and :func:`load_target` rebuilds it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..io import read_json, save_npy, write_json
from .base import Target, TargetError
from .energy import EnergyTarget, energy
from .funnel import Funnel, funnel, funnel10
from .logreg import CancerLogisticRegression, LogisticRegression, logreg_cancer
from .manywell import ManyWell, many_well, manywell32
from .mixtures import GaussianMixture, gmm2hard16, gmm8, gmm40, mixture

__all__ = [
    "TARGETS",
    "build_target",
    "exact_samples",
    "load_target",
    "save_target",
    "target_from_spec",
]

TARGETS: dict[str, Callable[..., Target]] = {
    "gmm8": gmm8,
    "gmm40": gmm40,
    "gmm2hard16": gmm2hard16,
    "mixture": mixture,
    "funnel10": funnel10,
    "funnel": funnel,
    "manywell32": manywell32,
    "many_well": many_well,
    "logreg_cancer": logreg_cancer,
    "energy": energy,
}


def build_target(name: str, spec: dict[str, Any] | None = None) -> Target:
    """Build the target called ``name`` from its config entry ``{kind: ..., params: {...}}``.

    ``kind`` defaults to ``name`` so that ``gmm8: {}`` is the built-in gmm8.
    """
    spec = dict(spec or {})
    kind = spec.get("kind", name)
    if kind not in TARGETS:
        raise TargetError(f"unknown kind {kind!r}; known kinds: {', '.join(sorted(TARGETS))}")
    params = dict(spec.get("params") or {})
    try:
        target = TARGETS[kind](**params)
    except TargetError as err:
        raise TargetError(f"{kind} target: {err}") from err
    except (TypeError, ValueError, RuntimeError) as err:
        raise TargetError(f"{kind} target: bad params: {err}") from err
    target.name = name
    return target


def target_from_spec(name: str, spec: dict[str, Any]) -> Target:
    """Rebuild a target from the resolved ``to_spec()`` dict stored next to its samples."""
    spec = dict(spec)
    kind = spec.pop("kind")
    if kind == "mixture":
        target: Target = GaussianMixture(spec["means"], spec["covs"], spec["weights"], name)
    elif kind == "energy":
        target = EnergyTarget(spec["function"], spec["dim"], name)
    elif kind == "funnel":
        target = Funnel(spec["dim"], spec["v_std"], name)
    elif kind == "many_well":
        target = ManyWell(spec["dim"], name)
    elif kind == "logreg_cancer":
        target = CancerLogisticRegression(spec["prior_std"], name)
    elif kind == "logreg":
        target = LogisticRegression(spec["features"], spec["labels"], spec["prior_std"], name)
    else:
        raise TargetError(f"unknown resolved target kind {kind!r}")
    return target


def exact_samples(target: Target, n: int, seed: int) -> torch.Tensor:
    """``n`` exact samples drawn with ``seed`` (float32), or ``(0, d)`` for a target without an
    exact sampler: the one draw that evaluation compares every sampler against."""
    if not target.exact:
        return torch.zeros((0, target.dim), dtype=torch.float32)
    return target.sample(n, torch.Generator().manual_seed(seed)).float()


def save_target(
    spec_path: str | Path, samples_path: str | Path, target: Target, samples: torch.Tensor
) -> None:
    """The target's resolved spec (JSON) and its exact samples (``.npy``, float32)."""
    spec = {"name": target.name, "dim": target.dim, "log_z": target.log_z, **target.to_spec()}
    write_json(spec_path, spec)
    save_npy(samples_path, np.asarray(samples, dtype=np.float32))


def load_target(spec_path: str | Path) -> Target:
    """The target of a spec written by :func:`save_target`."""
    spec = read_json(spec_path)
    name = spec.pop("name")
    spec.pop("log_z")  # ``dim`` stays: an energy target's spec needs it (mixtures ignore it)
    return target_from_spec(name, spec)
