"""Load, validate and resolve the configuration (shared by the workflow and the CLI).

``prepare`` checks structure against the JSON schema, fills the defaults, and then checks the
semantics (divergence names, estimators, that every target builds into a valid density), raising
:class:`ConfigError` naming the offending key before any work is done.
"""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .divergences import UnknownDivergence, get_divergence
from .estimators import ESTIMATORS
from .flows import ReferenceConfig
from .methods import BASELINE_DEFAULTS, UnknownMethod, get_method, method_settings
from .targets import Target, TargetError, build_target
from .train import TrainConfig

__all__ = [
    "DEFAULTS",
    "baseline_settings",
    "ConfigError",
    "load_config",
    "lv_reference_runs",
    "run_label",
    "prepare",
    "reference_config",
    "schema",
    "target_of",
    "train_config",
    "uses_reference",
]


class ConfigError(ValueError):
    """A configuration that cannot be run; the message names the key."""


DEFAULTS: dict[str, Any] = {
    "seeds": [0, 1, 2],
    "divergences": ["reverse_kl", "forward_kl", "js", "hellinger", "pearson"],
    "targets": {"gmm8": {}},
    "target_samples": 10_000,
    "training": {
        "steps": 1500,
        "batch_size": 1000,
        "lr": 1e-3,
        "lr_final_ratio": 0.1,
        "eta": 0.05,
        "estimator": "kde",
        "kernel": "laplace",
        "tau_init": 0.5,
        "tau_final_ratio": 0.3,
        "chunk_size": 256,  # rows per KDE block, at most 2^19 / N on the CPU (wgf.kde)
        # The batch's own KDE on the CPU as one native C pass (wgf.native, built once per
        # machine in < 1 s): ~3.5x faster than eager for Laplace at N = 2000 and a more accurate
        # score; without a C compiler it warns once and runs eagerly.
        "fused_kde": True,
        "log_r_clip": 10.0,
        "log_every": 50,
        # Save the training state every this many steps (0: never) under results/checkpoints/,
        # outside the rule's outputs; a rerun after a crash resumes from it (rule train).
        "checkpoint_every": 100,
        "device": "auto",
        "normaliser": "batch",
        "lv": {"reference": "mixture", "mix": 0.5, "gamma": 0.5, "defensive": 0.01},
        "flow_estimator": {
            "architecture": "maf",
            "layers": 4,
            "hidden": 32,
            "blocks": 2,
            "bins": 8,
            "tail_bound": 4.0,
            "iaf": False,
            "steps": 5,
            "warmup_steps": 200,
            "lr": 1e-3,
            "batch_size": None,
        },
        "score_net": {
            "hidden": 64,
            "layers": 3,
            "steps": 2,
            "warmup_steps": 200,
            "lr": 1e-3,
            "batch_size": None,
            "sigma_spread": 2.0,
        },
    },
    "generator": {
        "latent_dim": None,
        "hidden": 128,
        "layers": 3,
        "n_frequencies": 4,
        "init_scale": 2.0,
    },
    "evaluation": {
        "n_samples": 10_000,
        "n_ot": 2000,
        "sinkhorn_reg": 0.05,
        "coverage_threshold": 0.1,
        "monitor_samples": 2000,
        "seed": 12345,
    },
    "figures": {
        "seed": 0,
        "monitor_metric": "mmd_median",
        # results/figures/lv_reference.pdf: LV with each reference ν beside reverse KL; only the
        # listed targets that are configured; seeds null = every configured seed. `lv` is the
        # grid's LV run (reference training.lv.reference, mixture by default: no rerun).
        "lv_reference": {
            "targets": ["gmm8", "gmm2hard16"],
            "divergences": ["reverse_kl", "lv_q", "lv_flow", "lv"],
            "seeds": None,
        },
    },
    "diagnostics": {
        "regional_response": {
            "kappas": [0.25 * i for i in range(13)],
            "missing_modes": [1, 4],
            "broad_weight": 0.05,
            "broad_std": 2.0,
            "grid_n": 800,
            "lim": 6.0,
            "one_step_dt": 0.001,
            "phi_floor": 0.001,
        },
        "fields": {
            "n_samples": 2000,
            "tau": 0.15,
            "kernel": "laplace",
            "grid_n": 80,
            "lim": 4.5,
            "seed": 0,
        },
        "undercoverage": {"kappa": 1.0, "s": 0.1, "tau": None, "kernel": "rbf"},
    },
    # The reference flow ν of SCIENCE.md §5 (wgf.flows.ReferenceConfig); per-target overrides
    # under targets.<name>.reference.
    "reference": {
        "architecture": "nsf",
        "layers": 4,
        "hidden": 64,
        "blocks": 2,
        "bins": 8,
        "tail_bound": 4.0,
        "iaf": False,  # true: one-pass sampling, d-pass density (wgf.flows)
        "method": "iw_ml",
        "steps": 2000,
        "rounds": 20,
        "pool_size": 20_000,
        "batch_size": 1024,
        "lr": 3e-3,
        "lr_final_ratio": 0.1,
        "proposal_loc": 0.0,
        "proposal_scale": 3.0,
        "defensive": 0.1,
        "temper_start": 1.0,
        "temper_fraction": 0.5,
        "ess_target": 0.3,
        "reverse_steps": 0,
        "n_log_z": 100_000,
        "n_samples": 10_000,
        "device": "cpu",
        "seed": 0,
    },
    # The baselines beside the generators (wgf.methods; rules in workflow/rules/baselines.smk).
    "baselines": BASELINE_DEFAULTS,
}


def schema() -> dict[str, Any]:
    text = resources.files("wgf").joinpath("data/config.schema.yaml").read_text()
    return yaml.safe_load(text)


def _key(path: Any) -> str:
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in path]
    return "".join(parts).lstrip(".") or "<top level>"


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def prepare(raw: dict[str, Any] | None) -> dict[str, Any]:
    """Validate ``raw`` and return it merged over :data:`DEFAULTS`."""
    raw = dict(raw or {})
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [f"config key '{_key(e.absolute_path)}': {e.message}" for e in errors]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    config = _merge(DEFAULTS, raw)
    if "targets" in raw:
        config["targets"] = copy.deepcopy(raw["targets"])
    for i, name in enumerate(config["divergences"]):
        try:
            get_divergence(name)
        except UnknownDivergence as err:
            raise ConfigError(f"config key 'divergences[{i}]': {err}") from err
    for i, name in enumerate(config["figures"]["lv_reference"]["divergences"]):
        try:
            get_divergence(name)
        except UnknownDivergence as err:
            raise ConfigError(f"config key 'figures.lv_reference.divergences[{i}]': {err}") from err
    for i, method in enumerate(config["baselines"]["methods"]):
        try:
            get_method(method)
        except UnknownMethod as err:
            raise ConfigError(f"config key 'baselines.methods[{i}]': {err}") from err
    for i, method in enumerate(config["baselines"]["generator"].get("full_steps", [])):
        try:
            kind = get_method(method).kind
        except UnknownMethod as err:
            raise ConfigError(f"config key 'baselines.generator.full_steps[{i}]': {err}") from err
        if kind != "generator":
            raise ConfigError(
                f"config key 'baselines.generator.full_steps[{i}]': {method!r} is a {kind}, "
                "not a generator-kind method"
            )
    for name in config["targets"]:
        target = target_of(config, name)
        tcfg = train_config(config, name)
        if tcfg.estimator not in ESTIMATORS:
            raise ConfigError(
                f"config key 'training.estimator' (target {name}): unknown estimator "
                f"{tcfg.estimator!r}; known: {', '.join(ESTIMATORS)}"
            )
        proposal = reference_config(config, name)[0].proposal_loc
        if isinstance(proposal, list) and len(proposal) != target.dim:
            own = "proposal_loc" in config["targets"][name].get("reference", {})
            key = f"targets.{name}.reference" if own else "reference"
            raise ConfigError(
                f"config key '{key}.proposal_loc': {len(proposal)} entries for target {name} "
                f"of dimension {target.dim}"
            )
        latent = tcfg.generator.latent_dim
        if latent is not None and latent > target.dim:
            raise ConfigError(
                f"config key 'targets.{name}.generator.latent_dim': {latent} exceeds the "
                f"target's dimension {target.dim}"
            )
    return config


def load_config(path: str | Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from err
    if raw is not None and not isinstance(raw, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping")
    return prepare(raw)


def target_of(config: dict[str, Any], name: str) -> Target:
    """Build target ``name`` of a prepared config, naming the key on failure."""
    if name not in config["targets"]:
        raise ConfigError(f"unknown target {name!r}; configured: {', '.join(config['targets'])}")
    spec = config["targets"][name]
    try:
        return build_target(name, {k: spec[k] for k in ("kind", "params") if k in spec})
    except TargetError as err:
        raise ConfigError(f"config key 'targets.{name}': {err}") from err


def train_config(config: dict[str, Any], target: str) -> TrainConfig:
    """Global ``training``/``generator`` sections with the target's own overrides on top."""
    spec = config["targets"].get(target, {})
    training = _merge(config["training"], spec.get("training", {}))
    generator = _merge(config["generator"], spec.get("generator", {}))
    return TrainConfig.from_dict({**training, "generator": generator})


def reference_config(config: dict[str, Any], target: str) -> tuple[ReferenceConfig, int]:
    """The reference-flow settings of ``target`` (global ``reference`` with the target's own
    ``reference`` on top) and the fit's seed."""
    spec = config["targets"].get(target, {})
    settings = _merge(config["reference"], spec.get("reference", {}))
    seed = int(settings.pop("seed"))
    return ReferenceConfig.from_dict(settings), seed


def lv_reference_runs(config: dict[str, Any]) -> tuple[list[str], list[str], list[int]]:
    """Targets, divergences and seeds of the LV-reference figure (targets not configured are
    dropped; no targets means no figure)."""
    spec = config["figures"]["lv_reference"]
    targets = [t for t in spec["targets"] if t in config["targets"]]
    seeds = list(spec["seeds"]) if spec["seeds"] is not None else list(config["seeds"])
    return targets, list(spec["divergences"]), seeds


def run_label(config: dict[str, Any], target: str, divergence: str) -> str:
    """The divergence's label, with the LV reference spelled out for a plain ``lv`` run."""
    div = get_divergence(divergence)
    if div.kind == "lv" and not getattr(div, "surrogate", False) and div.reference is None:
        lv = train_config(config, target).lv
        nu = {"q": "q", "flow": "flow", "mixture": f"{lv.mix:g} flow + {1 - lv.mix:g} q"}
        return f"{div.label}, ν = {nu.get(lv.reference, lv.reference)}"
    return div.label


def uses_reference(config: dict[str, Any], target: str, divergence: str) -> bool:
    """Whether run (target, divergence) needs the target's reference flow (LV with a flow or
    mixture reference; a non-homogeneous weight with ``normaliser: reference``)."""
    return train_config(config, target).uses_reference(get_divergence(divergence))


def baseline_settings(config: dict[str, Any], target: str, method: str) -> dict[str, Any]:
    """Resolved settings of baseline ``method`` on ``target`` (plain data; a change reruns)."""
    tcfg = train_config(config, target)
    ref, seed = reference_config(config, target)
    return method_settings(
        config["baselines"],
        method,
        tcfg.to_dict(),
        ref.to_dict(),
        tcfg.generator.init_scale,
        config["evaluation"]["n_samples"],
    )
