"""Atomic readers and writers (JSON, CSV, ``.npy``, torch checkpoints) and per-job logs.

Every writer goes through a temporary name in the target's folder and an atomic rename, so a
failed or killed job leaves no partial file behind. Checkpoints hold plain data only (tensors,
numbers, lists, dicts) and load with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "atomic_write",
    "load_checkpoint",
    "load_samples",
    "read_csv",
    "read_json",
    "redirect_output",
    "save_checkpoint",
    "save_npy",
    "write_csv",
    "write_json",
    "write_text",
]


def atomic_write(path: str | Path, write: Callable[[Any], None], mode: str = "w") -> None:
    """Call ``write(fh)`` on a temporary file next to ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> None:
    atomic_write(path, lambda fh: fh.write(text))


def write_json(path: str | Path, data: Any) -> None:
    atomic_write(path, lambda fh: json.dump(data, fh, indent=2, sort_keys=True))


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())


def write_csv(path: str | Path, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    def write(fh: Any) -> None:
        writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    atomic_write(path, write)


def read_csv(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def save_npy(path: str | Path, array: np.ndarray | torch.Tensor) -> None:
    data = array.detach().cpu().numpy() if isinstance(array, torch.Tensor) else array
    atomic_write(path, lambda fh: np.save(fh, data), mode="wb")


def load_samples(path: str | Path) -> torch.Tensor:
    """A sample set written by :func:`save_npy`, as a tensor (``(0, d)`` when it holds none)."""
    return torch.from_numpy(np.load(path))


def save_checkpoint(path: str | Path, data: dict[str, Any]) -> None:
    atomic_write(path, lambda fh: torch.save(data, fh), mode="wb")


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> Any:
    return torch.load(str(path), map_location=map_location, weights_only=True)


@contextlib.contextmanager
def redirect_output(path: str | Path) -> Iterator[None]:
    """Send stdout and stderr (progress bars included) to the log file ``path``; a failure's
    traceback goes there too before it propagates."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", buffering=1) as fh:
        with contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
            try:
                yield
            except BaseException:
                traceback.print_exc(file=fh)
                raise
