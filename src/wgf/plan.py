"""The validated configuration and the runs it asks for, as plain data and without torch.

The workflow builds its DAG from this module (``workflow/rules/common.smk``) and the command line
resolves its settings with it, so both see the same settings for every run. :func:`prepare`
checks the structure (:func:`wgf.config.prepare`) and every name against its registry
(divergences, methods); what needs torch, that every target builds into a valid density, is
:func:`wgf.jobs.check_config`, the workflow's first job.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from . import config as cfg
from .baselines import UnknownMethod, get_method, method_settings
from .config import ConfigError, resolve
from .divergences import UnknownDivergence, get_divergence, needs_reference

__all__ = [
    "asymptotics_params",
    "asymptotics_runs",
    "baseline_params",
    "baseline_seeds",
    "comparison_targets",
    "energy_targets",
    "f_divergences",
    "fields_targets",
    "load",
    "lv_reference_runs",
    "marginals_targets",
    "onestep_methods",
    "prepare",
    "published_targets",
    "reference_params",
    "reference_sample_targets",
    "regional_response_target",
    "run_divergences",
    "run_label",
    "sampler_methods",
    "scoring",
    "target_definition",
    "train_params",
    "undercoverage_targets",
    "uses_reference",
    "with_target",
]


def _check_divergences(names: list[str], key: str) -> None:
    for i, name in enumerate(names):
        try:
            get_divergence(name)
        except UnknownDivergence as err:
            raise ConfigError(f"config key '{key}[{i}]': {err}") from err


def prepare(raw: dict[str, Any] | None) -> dict[str, Any]:
    """A configuration checked in structure and names, merged over the defaults."""
    config = cfg.prepare(raw)
    _check_divergences(config["divergences"], "divergences")
    _check_divergences(
        config["figures"]["lv_reference"]["divergences"], "figures.lv_reference.divergences"
    )
    if config["figures"]["asymptotics"]["divergences"] is not None:
        _check_divergences(
            config["figures"]["asymptotics"]["divergences"], "figures.asymptotics.divergences"
        )
    for i, method in enumerate(config["baselines"]["methods"]):
        try:
            get_method(method)
        except UnknownMethod as err:
            raise ConfigError(f"config key 'baselines.methods[{i}]': {err}") from err
    for i, method in enumerate(config["baselines"]["generator"].get("full_steps", [])):
        key = f"baselines.generator.full_steps[{i}]"
        try:
            kind = get_method(method).kind
        except UnknownMethod as err:
            raise ConfigError(f"config key '{key}': {err}") from err
        if kind != "generator":
            raise ConfigError(
                f"config key '{key}': {method!r} is a {kind}, not a generator-kind method"
            )
    return config


def load(path: str | Path) -> dict[str, Any]:
    """The configuration file at ``path``, prepared."""
    return prepare(cfg.read_yaml(path))


def with_target(config: dict[str, Any], name: str) -> dict[str, Any]:
    """``config`` with ``name`` among its targets (a built-in, by its own name) if it is not."""
    if name in config["targets"]:
        return config
    return {**config, "targets": {**config["targets"], name: {}}}


SCORING = ("n_samples", "n_ot", "sinkhorn_reg", "coverage_threshold", "seed", "ksd_samples")


def scoring(config: dict[str, Any]) -> dict[str, Any]:
    """The ``evaluation`` settings that scoring a sample set uses (a change rescores)."""
    return {k: config["evaluation"][k] for k in SCORING}


def train_params(config: dict[str, Any], target: str) -> dict[str, Any]:
    """The resolved training settings of a target (a change reruns its ``train`` jobs).

    The score network's settings only where it is the estimator, so that runs which do not use
    it keep their parameters (and their results) from before the section existed."""
    params = resolve.training(config, target)
    if params["estimator"] != "score_net":
        params.pop("score_net")
    return params


def reference_params(config: dict[str, Any], target: str) -> dict[str, Any]:
    """The resolved reference-flow settings of a target, ``seed`` included (a change refits)."""
    return resolve.reference(config, target)


def baseline_params(config: dict[str, Any], target: str, method: str) -> dict[str, Any]:
    """The resolved settings of baseline ``method`` on ``target`` (a change reruns its jobs)."""
    training = resolve.training(config, target)
    reference = {k: v for k, v in resolve.reference(config, target).items() if k != "seed"}
    return method_settings(
        config["baselines"],
        method,
        training,
        reference,
        training["generator"]["init_scale"],
        config["evaluation"]["n_samples"],
    )


def uses_reference(config: dict[str, Any], target: str, divergence: str) -> bool:
    """Whether run (target, divergence) needs the target's reference flow (LV with a flow or
    mixture reference; a non-homogeneous weight with ``normaliser: reference``)."""
    training = resolve.training(config, target)
    return needs_reference(
        get_divergence(divergence), training["normaliser"], training["lv"]["reference"]
    )


def run_label(config: dict[str, Any], target: str, divergence: str) -> str:
    """The divergence's label, with the LV reference spelled out for a plain ``lv`` run."""
    div = get_divergence(divergence)
    if div.kind == "lv" and not getattr(div, "surrogate", False) and div.reference is None:
        lv = resolve.training(config, target)["lv"]
        mix = lv["mix"]
        nu = {"q": "q", "flow": "flow", "mixture": f"{mix:g} flow + {1 - mix:g} q"}
        return f"{div.label}, ν = {nu.get(lv['reference'], lv['reference'])}"
    return div.label


def f_divergences(config: dict[str, Any]) -> list[str]:
    """The f-divergences (``V = w(r) β``) of the grid: the theory diagnostics concern these."""
    return [d for d in config["divergences"] if get_divergence(d).kind == "f"]


def lv_reference_runs(config: dict[str, Any]) -> tuple[list[str], list[str], list[int]]:
    """Targets, divergences and seeds of the LV-reference figure (none: no figure)."""
    return resolve.lv_reference_runs(config)


def asymptotics_runs(config: dict[str, Any]) -> tuple[list[str], list[str], int]:
    """Targets, divergences and seed of the long runs (no targets: no asymptotics)."""
    return resolve.asymptotics_runs(config)


def asymptotics_params(config: dict[str, Any], target: str) -> dict[str, Any]:
    """A long run's training settings: the target's, with ``steps`` and ``log_every`` of
    ``figures.asymptotics`` (the learning-rate, bandwidth and annealing schedules stretch)."""
    spec = config["figures"]["asymptotics"]
    return {**train_params(config, target), "steps": spec["steps"], "log_every": spec["log_every"]}


def run_divergences(config: dict[str, Any]) -> list[str]:
    """Every divergence some run trains: the grid's, then those the LV-reference figure and
    the long runs add."""
    lv_targets, lv_divergences, _ = lv_reference_runs(config)
    long_targets, long_divergences, _ = asymptotics_runs(config)
    extra = (lv_divergences if lv_targets else []) + (long_divergences if long_targets else [])
    return list(dict.fromkeys(config["divergences"] + extra))


def sampler_methods(config: dict[str, Any]) -> list[str]:
    """The configured baselines that are iterative samplers (rule ``baseline_sampler``)."""
    return [m for m in config["baselines"]["methods"] if get_method(m).kind == "sampler"]


def onestep_methods(config: dict[str, Any]) -> list[str]:
    """The configured baselines trained into a one-step sampler (rule ``baseline_onestep``)."""
    return [m for m in config["baselines"]["methods"] if get_method(m).one_step]


# The target kinds that build a Gaussian mixture (the under-coverage monitor needs one); here,
# not in the target registry, so that building the DAG imports no torch (a test pins the two).
MIXTURE_KINDS = frozenset({"gmm8", "gmm40", "gmm2hard16", "mixture"})


def _is_mixture(config: dict[str, Any], target: str) -> bool:
    return config["targets"][target].get("kind", target) in MIXTURE_KINDS


def undercoverage_targets(config: dict[str, Any]) -> list[str]:
    """Targets with an under-coverage figure: the Gaussian mixtures (the monitor needs their
    smoothed density)."""
    return [t for t in config["targets"] if _is_mixture(config, t)]


def fields_targets(config: dict[str, Any]) -> list[str]:
    """Configured targets of ``diagnostics.fields.targets`` (2-D mixtures: checked by the first
    job), and only when some divergence is an f-divergence."""
    if not f_divergences(config):
        return []
    return resolve.configured(config, config["diagnostics"]["fields"]["targets"])


def reference_sample_targets(config: dict[str, Any]) -> list[str]:
    """Configured targets of ``reference_sample.targets``: scored against long MALA chains
    (rule ``reference_sample``) instead of exact samples."""
    return resolve.configured(config, config["reference_sample"]["targets"])


def comparison_targets(config: dict[str, Any]) -> list[str]:
    """Configured targets of ``figures.comparison.targets``."""
    return resolve.configured(config, config["figures"]["comparison"]["targets"])


def marginals_targets(config: dict[str, Any]) -> list[str]:
    """Configured targets of ``figures.marginals.targets`` (exact or reference samples: checked
    by the first job)."""
    return resolve.configured(config, config["figures"]["marginals"]["targets"])


def target_definition(config: dict[str, Any], target: str) -> dict[str, Any]:
    """The part of a target's config entry that defines the density (``kind``, ``params``):
    the params of the rules that build it, so that a training or reference-flow setting of the
    target reruns neither its exact samples nor its long chains."""
    spec = config["targets"][target]
    return {k: copy.deepcopy(spec[k]) for k in ("kind", "params") if k in spec}


def baseline_seeds(config: dict[str, Any]) -> list[int]:
    """The seeds of the baseline runs: ``baselines.seeds``, or null for the grid's."""
    seeds = config["baselines"]["seeds"]
    return list(config["seeds"] if seeds is None else seeds)


def energy_targets(config: dict[str, Any]) -> list[str]:
    """Configured targets of ``figures.energy.targets``; null: every ``kind: energy`` target."""
    names = config["figures"]["energy"]["targets"]
    if names is None:
        return [t for t, spec in config["targets"].items() if spec.get("kind") == "energy"]
    return resolve.configured(config, names)


def published_targets(config: dict[str, Any]) -> list[str]:
    """Configured targets of ``evaluation.published_protocol.targets`` (mixtures)."""
    return resolve.configured(config, config["evaluation"]["published_protocol"]["targets"])


def regional_response_target(config: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The regional response's mixture, ``(name, spec)``: its configured spec, else the built-in
    of that name; ``None`` when no divergence is an f-divergence."""
    if not f_divergences(config):
        return None
    name = config["diagnostics"]["regional_response"]["target"]
    return name, copy.deepcopy(config["targets"].get(name, {}))
