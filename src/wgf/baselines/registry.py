"""The method registry: the baselines a user would pick instead of a one-step WGF generator.

One entry per method, ``name -> Method(name, kind, description, ...)``; ``kind`` is

* ``sampler``: iterative, every sample costs target evaluations (``mala``, ``ula``, ``svgd``:
  the chain kernels of :mod:`wgf.baselines.chains`, same names); they record their quality at
  several budgets (the curve);
* ``flow``: a normalizing flow trained by reverse KL (``flow_reverse_kl``), one-step with a
  density;
* ``generator``: a generator trained by :func:`wgf.training.train` with a given (divergence,
  estimator): ``drifting`` (reverse KL, Laplace mean shift), ``score_net`` (reverse KL, DSM
  score network) and ``generator_flow`` (forward KL, a flow fitted online for ``q̂``, beside the
  main grid's KDE runs). A new one is one line: :func:`generator_method`.

Plain data, no torch: the workflow reads kinds and settings while it builds its DAG.
:mod:`wgf.baselines.run` runs an entry by its kind.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

__all__ = [
    "METHODS",
    "ONE_STEP_KINDS",
    "Method",
    "UnknownMethod",
    "generator_method",
    "get_method",
    "method_settings",
]

ONE_STEP_KINDS = ("generator", "flow")


class UnknownMethod(KeyError):
    """A method name not in :data:`METHODS`."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Method:
    name: str
    kind: str
    description: str
    divergence: str | None = None
    estimator: str | None = None

    @property
    def one_step(self) -> bool:
        """Whether a trained model draws each sample in one pass (no target evaluation)."""
        return self.kind in ONE_STEP_KINDS


def generator_method(name: str, divergence: str, estimator: str, description: str) -> Method:
    """A generator-kind entry: :func:`wgf.training.train` with ``divergence`` and ``estimator``."""
    return Method(name, "generator", description, divergence, estimator)


METHODS: dict[str, Method] = {
    "mala": Method("mala", "sampler", "MALA chains, step tuned to acceptance 0.574"),
    "ula": Method("ula", "sampler", "unadjusted Langevin chains (MALA's step size)"),
    "svgd": Method("svgd", "sampler", "SVGD, RBF kernel with median bandwidth"),
    "flow_reverse_kl": Method("flow_reverse_kl", "flow", "normalizing flow trained by reverse KL"),
    "drifting": generator_method(
        "drifting", "reverse_kl", "drifting", "reverse-KL drift with the Laplace mean shift"
    ),
    "score_net": generator_method(
        "score_net", "reverse_kl", "score_net", "reverse-KL drift, DSM score network (Luo et al.)"
    ),
    # SCIENCE.md §5's flow route for q: the forward-KL generator with a flow fitted online in
    # place of the KDE, against the main grid's generator_kde forward_kl.
    "generator_flow": generator_method(
        "generator_flow", "forward_kl", "flow", "forward-KL drift, q̂ by a flow fitted online"
    ),
}


def get_method(name: str) -> Method:
    """The registry entry ``name``; :class:`UnknownMethod` naming it and the known ones."""
    if name not in METHODS:
        raise UnknownMethod(f"unknown method {name!r}; known: {', '.join(METHODS)}")
    return METHODS[name]


def method_settings(
    baselines: dict[str, Any],
    name: str,
    training: dict[str, Any],
    reference: dict[str, Any],
    init_scale: float,
    n_samples: int,
) -> dict[str, Any]:
    """Resolved settings of method ``name`` for one target, as plain data.

    ``training`` and ``reference`` are the target's resolved training and reference-flow
    settings, ``init_scale`` its generator's initial scale (the chains' start), ``n_samples``
    ``evaluation.n_samples`` (the default number of chains).
    """
    method = get_method(name)
    if method.kind == "generator":
        training = copy.deepcopy(training)
        steps = baselines["generator"]["steps"]
        if steps is not None and name not in baselines["generator"].get("full_steps", []):
            training["steps"] = int(steps)
        return {"training": training}
    if method.kind == "flow":
        flow = {**copy.deepcopy(reference), **baselines["flow"], "method": "reverse_kl"}
        flow.pop("seed", None)
        return {"flow": flow}
    settings = copy.deepcopy(baselines[name])
    settings["init_scale"] = float(init_scale)
    if "chains" in settings and settings["chains"] is None:
        settings["chains"] = int(n_samples)
    if name == "ula":
        settings["tune"] = {
            k: baselines["mala"][k] for k in ("burn_in", "step_size", "target_accept")
        }
    return settings
