"""Baselines beside the one-step generators: the method registry (``registry``, plain data),
the chain kernels MALA, ULA and SVGD driven by one loop (``chains``), and the runner that trains
or runs any entry and scores it (``run``).

Importing this package loads the registry only (no torch): the workflow reads it while it
builds its DAG.
"""

from .registry import (
    METHODS,
    ONE_STEP_KINDS,
    Method,
    UnknownMethod,
    generator_method,
    get_method,
    method_settings,
)

__all__ = [
    "METHODS",
    "ONE_STEP_KINDS",
    "Method",
    "UnknownMethod",
    "generator_method",
    "get_method",
    "method_settings",
]
