"""A prepared configuration's settings for one target, as plain data.

The global ``training``, ``generator`` and ``reference`` sections with the target's own overrides
(``targets.<name>.training`` …) on top; and which configured targets each optional figure or
table covers (its ``targets`` list, unconfigured names dropped).
"""

from __future__ import annotations

from typing import Any

from .load import merge

__all__ = ["asymptotics_runs", "configured", "lv_reference_runs", "reference", "training"]


def training(config: dict[str, Any], target: str) -> dict[str, Any]:
    """The target's training settings, its generator's under the key ``generator``."""
    spec = config["targets"].get(target, {})
    settings = merge(config["training"], spec.get("training", {}))
    settings["generator"] = merge(config["generator"], spec.get("generator", {}))
    return settings


def reference(config: dict[str, Any], target: str) -> dict[str, Any]:
    """The target's reference-flow settings, the fit's ``seed`` included."""
    spec = config["targets"].get(target, {})
    return merge(config["reference"], spec.get("reference", {}))


def configured(config: dict[str, Any], names: list[str]) -> list[str]:
    """The entries of ``names`` that are configured targets, in order."""
    return [t for t in names if t in config["targets"]]


def lv_reference_runs(config: dict[str, Any]) -> tuple[list[str], list[str], list[int]]:
    """Targets, divergences and seeds of the LV-reference figure (targets not configured are
    dropped; no targets means no figure)."""
    spec = config["figures"]["lv_reference"]
    seeds = list(spec["seeds"]) if spec["seeds"] is not None else list(config["seeds"])
    return configured(config, spec["targets"]), list(spec["divergences"]), seeds


def asymptotics_runs(config: dict[str, Any]) -> tuple[list[str], list[str], int]:
    """Targets, divergences and seed of the long runs (targets not configured are dropped; no
    targets means none); divergences null: the grid's."""
    spec = config["figures"]["asymptotics"]
    divergences = spec["divergences"] if spec["divergences"] is not None else config["divergences"]
    return configured(config, spec["targets"]), list(divergences), int(spec["seed"])
