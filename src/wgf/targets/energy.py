"""A user's own energy ``module:function`` as a target (score by autograd, no exact samples)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import torch

from .base import Target, TargetError

__all__ = ["EnergyTarget", "energy"]


class EnergyTarget(Target):
    """A user energy ``module:function`` mapping (N, d) to N energies; no exact samples."""

    def __init__(self, function: str, dim: int, name: str = "energy") -> None:
        self.name = name
        self.function = function
        self.dim = int(dim)
        if self.dim < 1:
            raise TargetError("dim must be a positive integer")
        self._fn = _import_function(function, name)
        probe = torch.randn(4, self.dim, generator=torch.Generator().manual_seed(0))
        try:
            out = self._fn(probe)
        except Exception as err:
            raise TargetError(f"energy {function!r} failed on a probe: {err}") from err
        if not isinstance(out, torch.Tensor) or out.shape != (4,):
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise TargetError(
                f"energy {function!r} must map (N, {self.dim}) to (N,), got {shape} for N = 4"
            )
        if not torch.isfinite(out).all():
            raise TargetError(f"energy {function!r} is not finite on N(0, I) probes")

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        return self._fn(x)

    def to_spec(self) -> dict[str, Any]:
        return {"kind": "energy", "function": self.function, "dim": self.dim}


def _import_function(path: str, name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    module_name, sep, attr = str(path).partition(":")
    if not sep or not module_name or not attr:
        raise TargetError(f"function must read 'module:function', got {path!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise TargetError(f"cannot import module {module_name!r}: {err}") from err
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise TargetError(f"{module_name!r} has no callable {attr!r}")
    return fn


def energy(function: str, dim: int) -> EnergyTarget:
    return EnergyTarget(function, dim)
