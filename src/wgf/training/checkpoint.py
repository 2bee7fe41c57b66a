"""Resumable training state: a fingerprint of what determines a run, and its atomic save.

Every ``checkpoint_every`` steps :func:`wgf.training.train` writes the whole state (generator,
optimiser, schedule, every RNG, the estimator's own state, the history, the elapsed time) with
the run's fingerprint; a later call with the same fingerprint resumes from it and reproduces the
uninterrupted run bit for bit on CPU. A checkpoint from other settings, or an unreadable one, is
ignored (and logged).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..divergences import AnyDivergence
from ..io import load_checkpoint, save_checkpoint
from ..targets import Target
from .settings import TrainConfig

__all__ = ["fingerprint", "load_state", "save_state"]


def fingerprint(
    target: Target,
    divergence: AnyDivergence,
    cfg: TrainConfig,
    seed: int,
    extra: dict[str, Any] | None = None,
) -> str:
    """SHA-256 of what determines a run's trajectory (``checkpoint_every`` excluded)."""
    try:
        spec: Any = target.to_spec()
    except NotImplementedError:
        spec = None
    settings = {k: v for k, v in cfg.to_dict().items() if k != "checkpoint_every"}
    data = {
        "target": [target.name, target.dim, spec],
        "divergence": divergence.name,
        "seed": seed,
        "config": settings,
        **(extra or {}),
    }
    text = json.dumps(data, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def save_state(path: Path, state: dict[str, Any]) -> None:
    """The training state at ``path``, written atomically: a kill leaves the previous file."""
    save_checkpoint(path, state)


def load_state(path: Path, expected: str) -> dict[str, Any] | None:
    """The checkpoint at ``path`` if it exists, loads, and matches the fingerprint ``expected``."""
    if not path.exists():
        return None
    try:
        state = load_checkpoint(path)
    except Exception as err:  # a truncated or foreign file: start afresh
        print(f"ignoring unreadable checkpoint {path}: {err}", flush=True)
        return None
    if not isinstance(state, dict) or state.get("fingerprint") != expected:
        print(f"ignoring stale checkpoint {path}: it was written with other settings", flush=True)
        return None
    return state
