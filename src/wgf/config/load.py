"""Structure of a configuration: the JSON schema, finite numbers, the defaults filled in.

:func:`prepare` needs neither torch nor the registries, so the workflow runs it while it builds
the DAG; names (divergences, methods) are checked against their registries by
:func:`wgf.plan.prepare`, and whatever needs torch (that every target builds into a valid
density) by :func:`wgf.jobs.check_config`, the workflow's first job.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .defaults import DEFAULTS

__all__ = ["ConfigError", "key_name", "merge", "prepare", "read_yaml", "schema"]


class ConfigError(ValueError):
    """A configuration that cannot be run; the message names the key."""


@cache
def schema() -> dict[str, Any]:
    text = resources.files("wgf").joinpath("data/config.schema.yaml").read_text()
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def key_name(path: Any) -> str:
    """``("targets", "g", "params", "means", 0)`` → ``targets.g.params.means[0]``."""
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in path]
    return "".join(parts).lstrip(".") or "<top level>"


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``, recursively for nested mappings (inputs untouched)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _non_finite(value: Any, path: tuple) -> Iterator[tuple[tuple, float]]:
    if isinstance(value, float) and not math.isfinite(value):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, (*path, key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _non_finite(item, (*path, i))


def prepare(raw: dict[str, Any] | None) -> dict[str, Any]:
    """Check ``raw`` against the schema, refuse non-finite numbers, and return it merged over
    :data:`DEFAULTS` (``targets``, the grid itself, replaces the default rather than merging)."""
    raw = dict(raw or {})
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [f"config key '{key_name(e.absolute_path)}': {e.message}" for e in errors]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    bad = list(_non_finite(raw, ()))
    if bad:
        lines = [f"config key '{key_name(p)}': {v} is not a finite number" for p, v in bad]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    config = merge(DEFAULTS, raw)
    if "targets" in raw:
        config["targets"] = copy.deepcopy(raw["targets"])
    return config


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A configuration file's mapping (``{}`` for an empty file), not yet prepared."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from err
    if raw is not None and not isinstance(raw, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping")
    return raw or {}
