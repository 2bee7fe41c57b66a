"""User energies for the tests, referenced as ``tests.energies:<name>``."""

import torch


def quadratic(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x.square().sum(-1)


def nan_far(x: torch.Tensor) -> torch.Tensor:
    """Finite on the standard-normal probes, NaN beyond radius 3: training must stop."""
    e = 0.5 * x.square().sum(-1)
    return torch.where(x.norm(dim=-1) > 3.0, torch.full_like(e, float("nan")), e)


def always_nan(x: torch.Tensor) -> torch.Tensor:
    return torch.full(x.shape[:1], float("nan"))


def wrong_shape(x: torch.Tensor) -> torch.Tensor:
    return x.square()
