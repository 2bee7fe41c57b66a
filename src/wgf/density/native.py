"""The batch's own KDE sums as one native pass (``csrc/own_sums.c``), built on first use.

Eager PyTorch streams each block of pairs through about a dozen passes; this C loop computes a
pair's distance, kernel weight and every sum it feeds in one go, each pair once (by symmetry),
four rows at a time over column tiles that stay in L1, with ``exp`` vectorised by glibc's
libmvec. It is built with the machine's C compiler (``$CC``, else ``cc``) at ``-O3
-march=native -ffast-math`` into a per-machine cache (``$WGF_CACHE_DIR``, else
``$XDG_CACHE_HOME/wgf`` or ``~/.cache/wgf``) keyed by the source, the flags and the CPU, in
well under a second, and loaded with ctypes: no PyTorch headers, no inductor. Single-threaded,
like the workflow's training jobs (one thread each). Where it cannot be built,
:func:`own_sums` returns ``None`` after one warning and the caller runs its eager path.
"""

from __future__ import annotations

import ctypes
import hashlib
import math
import os
import platform
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import torch

__all__ = ["available", "own_sums"]

SOURCE = Path(__file__).with_name("csrc") / "own_sums.c"
SOURCES = (SOURCE, SOURCE.with_name("own_sums_body.h"))
# Compile only: linked without -ffast-math, the library leaves out crtfastmath.o, which would
# switch the whole process to flush-to-zero when it is loaded.
COMPILE_FLAGS = ("-O3", "-march=native", "-ffast-math", "-fPIC")
_DTYPES = {torch.float32: "f32", torch.float64: "f64"}
_KERNELS = ("laplace", "rbf")

_lib: list[ctypes.CDLL] = []
_failed: list[str] = []


def available() -> bool:
    """False once building or loading the native pass has failed in this process."""
    return not _failed


def _cache_dir() -> Path:
    if root := os.environ.get("WGF_CACHE_DIR"):
        return Path(root)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wgf"


def _cpu_signature() -> str:
    """The CPU's model and instruction-set flags: ``-march=native`` code is for this CPU only."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or platform.machine()
    keep = [ln for ln in lines if ln.startswith(("model name", "flags", "Features"))]
    return "\n".join(dict.fromkeys(keep))


def _compile(cc: str, out: Path) -> None:
    obj = out.with_suffix(".o")
    run = {"check": True, "capture_output": True, "text": True}
    subprocess.run([cc, *COMPILE_FLAGS, "-c", str(SOURCE), "-o", str(obj)], **run)
    try:  # glibc's vector maths (x86-64, aarch64); without it the loops stay scalar
        subprocess.run([cc, "-shared", str(obj), "-o", str(out), "-lmvec", "-lm"], **run)
    except subprocess.CalledProcessError:
        subprocess.run([cc, "-shared", str(obj), "-o", str(out), "-lm"], **run)


def _load() -> ctypes.CDLL:
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        raise RuntimeError(f"no C compiler {cc!r} on PATH")
    parts = [*(p.read_text() for p in SOURCES), cc, *COMPILE_FLAGS, _cpu_signature()]
    key = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
    cache = _cache_dir()
    path = cache / f"own_sums-{key}.so"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            built = Path(tmp) / path.name
            _compile(cc, built)
            os.replace(built, path)  # atomic: concurrent jobs each build, one file wins
    lib = ctypes.CDLL(str(path))
    ptr, i64 = ctypes.c_void_p, ctypes.c_int64
    for suffix, real in (("f32", ctypes.c_float), ("f64", ctypes.c_double)):
        for kernel in _KERNELS:
            # x, cols, n, d, scale, cutoff, total, shift, scratch
            signature = [ptr, ptr, i64, i64, real, real, ptr, ptr, ptr]
            getattr(lib, f"own_{kernel}_{suffix}").argtypes = signature
    return lib


def _library() -> ctypes.CDLL | None:
    if not _lib and not _failed:
        try:
            _lib.append(_load())
        except (OSError, RuntimeError, subprocess.CalledProcessError) as err:
            detail = getattr(err, "stderr", None) or err
            _failed.append(f"{type(err).__name__}: {detail}")
            warnings.warn(
                f"the native KDE pass could not be built ({type(err).__name__}: "
                f"{str(detail).strip()[:200]}); using the eager KDE (training.fused_kde: false "
                "skips the attempt)",
                RuntimeWarning,
                stacklevel=4,
            )
    return _lib[0] if _lib else None


def own_sums(
    data: torch.Tensor, columns: torch.Tensor, tau: float, kernel: str
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(Σ_j e_ij, Σ_j w_ij (x_j − x_i))``, the second ``d × N``, for a CPU float32/float64
    batch, or ``None`` where the native pass does not apply or cannot be built. ``e`` is the
    kernel weight relative to the point itself; ``w = e / |x_i − x_j|`` (0 for a coincident
    pair) for Laplace, ``e`` for RBF. Weights below ``eps / N`` are dropped: together less than
    one rounding of the total. ``columns`` is ``data.T``."""
    suffix = _DTYPES.get(data.dtype)
    if data.device.type != "cpu" or suffix is None or kernel not in _KERNELS:
        return None
    lib = _library()
    if lib is None:
        return None
    data, columns = data.contiguous(), columns.contiguous()
    n, dim = data.shape
    total = data.new_zeros(n)
    shift = data.new_zeros(dim, n)
    # held here: a temporary's storage could be freed while the C code writes to it
    scratch = data.new_empty(ctypes.c_int64.in_dll(lib, "own_scratch_size").value)
    scale = 1.0 / tau if kernel == "laplace" else 0.5 / tau**2
    cutoff = math.log(torch.finfo(data.dtype).eps / max(n, 1))
    getattr(lib, f"own_{kernel}_{suffix}")(
        data.data_ptr(), columns.data_ptr(), n, dim, scale, cutoff,
        total.data_ptr(), shift.data_ptr(), scratch.data_ptr(),
    )  # fmt: skip
    return total, shift
