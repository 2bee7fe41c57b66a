"""On-disk artefacts: targets with their exact samples, trained runs, metrics, long tables.

Every writer goes through a temporary name and an atomic rename, so a failed run leaves no
partial result behind.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .generator import Generator
from .targets import Target, target_from_spec
from .train import TrainResult

__all__ = [
    "TABLE_COLUMNS",
    "atomic_write",
    "load_generator",
    "load_target",
    "read_csv",
    "read_json",
    "save_run",
    "save_target",
    "summarise",
    "write_csv",
    "write_json",
]

TABLE_COLUMNS = ("target", "method", "divergence", "seed", "metric", "value")


def _atomic(path: Path, write: Any, mode: str = "w") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


atomic_write = _atomic


def write_json(path: str | Path, data: Any) -> None:
    _atomic(Path(path), lambda fh: json.dump(data, fh, indent=2, sort_keys=True))


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())


def write_csv(path: str | Path, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    def write(fh: Any) -> None:
        writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    _atomic(Path(path), write)


def read_csv(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def save_npy(path: str | Path, array: np.ndarray) -> None:
    _atomic(Path(path), lambda fh: np.save(fh, array), mode="wb")


def save_target(spec_path: str | Path, samples_path: str | Path, target: Target, samples) -> None:
    spec = {"name": target.name, "dim": target.dim, "log_z": target.log_z, **target.to_spec()}
    write_json(spec_path, spec)
    save_npy(samples_path, np.asarray(samples, dtype=np.float32))


def load_target(spec_path: str | Path) -> Target:
    spec = read_json(spec_path)
    name = spec.pop("name")
    spec.pop("log_z")  # ``dim`` stays: an energy target's spec needs it (mixtures ignore it)
    return target_from_spec(name, spec)


def save_run(
    result: TrainResult,
    checkpoint: str | Path,
    history: str | Path,
    info: str | Path,
) -> None:
    """Checkpoint, per-step history (CSV) and run metadata (JSON), each written atomically."""
    _atomic(Path(checkpoint), lambda fh: torch.save(result.generator.checkpoint(), fh), "wb")
    columns = sorted({k for row in result.history for k in row}, key=_history_order)
    write_csv(history, result.history, columns)
    write_json(info, result.info)


def _history_order(key: str) -> tuple[int, str]:
    return (0 if key == "step" else 1, key)


def load_generator(path: str | Path) -> Generator:
    return Generator.load(str(path))


def summarise(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and (sample) standard deviation over seeds of a long table's rows."""
    groups: dict[tuple[str, str, str, str], list[float]] = {}
    for row in rows:
        key = (row["target"], row["method"], row["divergence"], row["metric"])
        groups.setdefault(key, []).append(float(row["value"]))
    out = []
    for (target, method, divergence, metric), values in groups.items():
        arr = np.asarray(values)
        out.append(
            {
                "target": target,
                "method": method,
                "divergence": divergence,
                "metric": metric,
                "mean": float(arr.mean()),
                "std": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
                "n": int(arr.size),
            }
        )
    return out
