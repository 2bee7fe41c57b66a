"""The method registry: the baselines a user would pick instead of a one-step WGF generator.

One entry per method: ``name -> Method(kind, runner, ...)``; ``kind`` is

* ``sampler``: iterative, every sample costs target evaluations (``mala``, ``ula``, ``svgd``);
  they record their quality at several budgets (the curve of :func:`run_baseline`);
* ``flow``: a normalizing flow trained by reverse KL (``flow_reverse_kl``), one-step with a
  density;
* ``generator``: a generator trained by :func:`wgf.train.train` with a given (divergence,
  estimator); ``drifting`` (reverse KL, Laplace mean shift), ``score_net`` (reverse KL, DSM
  score network) and ``generator_flow`` (forward KL, a flow fitted online for ``q̂``, beside the
  main grid's KDE runs). Add one with :func:`generator_method`.

Settings come from the config section ``baselines`` (:func:`method_settings` resolves them per
target as plain data); runners take ``(target, settings, seed)`` and return a
:class:`MethodRun`. :func:`run_baseline` adds the metrics (:func:`wgf.evaluate.evaluate`), the
throughput of one-step methods over ``throughput_samples`` draws, and the cost columns.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from . import metrics
from .divergences import get_divergence
from .evaluate import evaluate
from .flows import ReferenceConfig, fit_reference
from .samplers import ChainResult, mala, svgd, ula
from .targets import GaussianMixture, Target
from .train import TrainConfig, train

__all__ = [
    "BASELINE_DEFAULTS",
    "KINDS",
    "METHODS",
    "Method",
    "MethodRun",
    "UnknownMethod",
    "generator_method",
    "get_method",
    "method_settings",
    "run_baseline",
    "throughput",
]

KINDS = ("sampler", "flow", "generator")

BASELINE_DEFAULTS: dict[str, Any] = {
    "methods": [
        "mala",
        "ula",
        "svgd",
        "flow_reverse_kl",
        "drifting",
        "score_net",
        "generator_flow",
    ],
    # Samples drawn (one batched pass, chunked) to time a one-step method's throughput.
    "throughput_samples": 1_000_000,
    # Chains start from N(0, s² I), s = the target's generator init_scale (the generators' start).
    "mala": {
        "chains": None,  # null: evaluation.n_samples
        "steps": 300,
        "burn_in": 100,
        "step_size": 0.05,
        "target_accept": 0.574,
        "budgets": [1, 3, 10, 30, 100],
    },
    "ula": {
        "chains": None,
        "steps": 300,
        "step_size": None,  # null: MALA's adapted step (tuned on 1000 chains, cost counted)
        "budgets": [1, 3, 10, 30, 100],
    },
    "svgd": {
        "particles": 500,
        "steps": 300,
        "step_size": 0.05,
        "adagrad": True,  # Liu & Wang's per-coordinate steps; false: fixed steps
        "budgets": [10, 30, 100],
    },
    # The target's reference-flow settings with these on top; method forced to reverse_kl.
    "flow": {
        # Splines, not MAF: a MAF's inverse at its random initialisation reached |x| ~ 1e11 in
        # d = 16 (gmm2hard16, seed 2: non-finite loss at step 0-3 whatever the learning rate);
        # the bounded splines stay finite.
        "architecture": "nsf",
        # Inverse autoregressive (Kingma et al. 2016), the usual direction for reverse KL: it
        # trains and samples on its own draws only, and each draw with its log ν is one pass
        # instead of d (gmm2hard16, batch 256: 0.32 → 0.022 s per step, one thread).
        "iaf": True,
        "layers": 4,
        "hidden": 64,
        "steps": 1000,
        "batch_size": 256,
        "lr": 3e-3,
        "temper_start": 1.0,
        "n_log_z": 1000,
    },
    # Generator-kind baselines: the target's training settings with `steps` (null: its own).
    # 750, half the main grid's 1500, keeps the default baseline grid near 10 CPU-minutes; the
    # comparison table shows every method's training steps.
    # `full_steps`: generator-kind methods that keep the target's own steps, because they are
    # compared with the main grid run for run (generator_flow against generator_kde).
    "generator": {"steps": 750, "full_steps": ["generator_flow"]},
}


class UnknownMethod(KeyError):
    """A method name not in :data:`METHODS`."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class MethodRun:
    """What a runner returns: samples, cost (``info``), a model checkpoint, a budget curve."""

    samples: torch.Tensor
    info: dict[str, Any]
    model: dict[str, Any] | None = None
    curve: list[dict[str, Any]] | None = None
    sample: Callable[[int, torch.Generator], torch.Tensor] | None = None


Runner = Callable[..., MethodRun]


@dataclass(frozen=True)
class Method:
    name: str
    kind: str
    runner: Runner
    description: str
    divergence: str | None = None
    estimator: str | None = None


def _init(target: Target, settings: dict[str, Any], n: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed + 20_000)
    return settings["init_scale"] * torch.randn(n, target.dim, generator=gen)


def _recorder(target: Target, reference: torch.Tensor | None):
    if reference is None:
        return None
    ref = reference.cpu().numpy()

    def record(_step: int, x: torch.Tensor) -> dict[str, float]:
        xs = x.float().numpy()
        row = {"mmd_median": metrics.mmd_median(xs, ref)}
        if isinstance(target, GaussianMixture):
            w_hat = metrics.mode_weights(target.assign(x.double()).numpy(), len(target.weights))
            row.update(metrics.mode_weight_errors(w_hat, target.weights.numpy()))
        return row

    return record


def _chain_run(result: ChainResult, n: int, extra: dict[str, Any]) -> MethodRun:
    info = {
        "train_wall_s": extra.pop("train_wall_s", 0.0),
        "target_evaluations": extra.pop("target_evaluations", 0),
        "sampling_wall_s": result.wall_s,
        "samples_per_s": n / result.wall_s,
        "target_evaluations_per_sample": result.target_evaluations / n,
        "acceptance": None if np.isnan(result.acceptance) else result.acceptance,
        "step_size": result.step_size,
        **extra,
    }
    return MethodRun(result.samples, info, curve=result.curve)


def _budgets(settings: dict[str, Any]) -> list[int]:
    return sorted(
        {int(b) for b in settings["budgets"] if b < settings["steps"]} | {int(settings["steps"])}
    )


def _run_mala(target: Target, settings: dict[str, Any], seed: int, reference=None) -> MethodRun:
    n = settings["chains"]
    result = mala(
        target,
        _init(target, settings, n, seed),
        settings["steps"],
        settings["step_size"],
        settings["burn_in"],
        settings["target_accept"],
        torch.Generator().manual_seed(seed),
        _recorder(target, reference),
        _budgets(settings),
    )
    return _chain_run(result, n, {"steps": settings["steps"], "burn_in": settings["burn_in"]})


def _run_ula(target: Target, settings: dict[str, Any], seed: int, reference=None) -> MethodRun:
    n = settings["chains"]
    extra: dict[str, Any] = {"steps": settings["steps"]}
    h = settings["step_size"]
    if h is None:
        tune = settings["tune"]
        m = min(1000, n)
        start = time.perf_counter()
        tuned = mala(
            target,
            _init(target, settings, m, seed + 1),
            tune["burn_in"],
            tune["step_size"],
            tune["burn_in"],
            tune["target_accept"],
            torch.Generator().manual_seed(seed + 1),
        )
        h = tuned.step_size
        extra["train_wall_s"] = time.perf_counter() - start
        extra["target_evaluations"] = tuned.target_evaluations
    result = ula(
        target,
        _init(target, settings, n, seed),
        settings["steps"],
        h,
        torch.Generator().manual_seed(seed),
        _recorder(target, reference),
        _budgets(settings),
    )
    return _chain_run(result, n, extra)


def _run_svgd(target: Target, settings: dict[str, Any], seed: int, reference=None) -> MethodRun:
    n = settings["particles"]
    result = svgd(
        target,
        _init(target, settings, n, seed),
        settings["steps"],
        settings["step_size"],
        _recorder(target, reference),
        _budgets(settings),
        settings["adagrad"],
    )
    return _chain_run(result, n, {"steps": settings["steps"]})


def _run_flow(target: Target, settings: dict[str, Any], seed: int, reference=None) -> MethodRun:
    cfg = ReferenceConfig.from_dict({**settings["flow"], "method": "reverse_kl"})
    fit = fit_reference(target, cfg, seed, progress=False)
    flow = fit.flow.eval()
    info = {
        "train_wall_s": fit.info["fit_wall_s"],
        "target_evaluations": 2 * cfg.steps * cfg.batch_size,  # energy and its gradient
        "time_per_step_s": fit.info["fit_wall_s"] / max(cfg.steps, 1),
        "log_z_hat": fit.info["log_z_hat"],
        "steps": cfg.steps,
    }
    return MethodRun(torch.empty(0), info, model=flow.checkpoint(), sample=flow.sample)


def _generator_runner(divergence: str, estimator: str) -> Runner:
    def run(target: Target, settings: dict[str, Any], seed: int, reference=None) -> MethodRun:
        data = copy.deepcopy(settings["training"])
        data["estimator"] = estimator
        data["device"] = "cpu" if data.get("device") == "auto" else data.get("device", "cpu")
        cfg = TrainConfig.from_dict(data)
        result = train(target, get_divergence(divergence), cfg, seed, progress=False)
        gen = result.generator.eval()
        info = {
            k: result.info[k] for k in ("train_wall_s", "time_per_step_s", "target_evaluations")
        }
        info["steps"] = cfg.steps
        return MethodRun(torch.empty(0), info, model=gen.checkpoint(), sample=gen.sample)

    return run


def generator_method(name: str, divergence: str, estimator: str, description: str) -> Method:
    """A generator-kind entry: :func:`wgf.train.train` with ``divergence`` and ``estimator``."""
    return Method(
        name,
        "generator",
        _generator_runner(divergence, estimator),
        description,
        divergence,
        estimator,
    )


METHODS: dict[str, Method] = {
    "mala": Method("mala", "sampler", _run_mala, "MALA chains, step tuned to acceptance 0.574"),
    "ula": Method("ula", "sampler", _run_ula, "unadjusted Langevin chains (MALA's step size)"),
    "svgd": Method("svgd", "sampler", _run_svgd, "SVGD, RBF kernel with median bandwidth"),
    "flow_reverse_kl": Method(
        "flow_reverse_kl", "flow", _run_flow, "normalizing flow trained by reverse KL"
    ),
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


def throughput(sample: Callable[[int, torch.Generator], torch.Tensor], n: int) -> float:
    """Samples per second of one batched draw of ``n`` samples (the sampler chunks internally)."""
    with torch.no_grad():
        sample(min(n, 1000), torch.Generator().manual_seed(1))  # warm-up
        start = time.perf_counter()
        sample(n, torch.Generator().manual_seed(2))
        return n / (time.perf_counter() - start)


def run_baseline(
    name: str,
    target: Target,
    settings: dict[str, Any],
    seed: int,
    reference: torch.Tensor | None,
    evaluation: dict[str, Any],
    throughput_samples: int,
) -> tuple[MethodRun, dict[str, float]]:
    """Run method ``name`` and score it like a generator; returns the run and its metrics
    (quality plus ``samples_per_s`` and ``target_evaluations_per_sample``)."""
    method = get_method(name)
    torch.manual_seed(seed)
    ref = reference if reference is not None and len(reference) else None
    run = method.runner(target, settings, seed, ref)
    if run.sample is not None:
        gen = torch.Generator().manual_seed(evaluation["seed"])
        with torch.no_grad():
            run.samples = run.sample(evaluation["n_samples"], gen)
        run.info["samples_per_s"] = throughput(run.sample, throughput_samples)
        run.info["target_evaluations_per_sample"] = 0.0
        run.info["throughput_samples"] = throughput_samples
    result = evaluate(
        target,
        run.samples,
        ref,
        n_ot=evaluation["n_ot"],
        sinkhorn_reg=evaluation["sinkhorn_reg"],
        coverage_threshold=evaluation["coverage_threshold"],
        seed=evaluation["seed"],
    )
    for key in ("samples_per_s", "target_evaluations_per_sample"):
        result[key] = float(run.info[key])
    run.info.update(
        {
            "target": target.name,
            "method": name,
            "kind": method.kind,
            "divergence": method.divergence,
            "estimator": method.estimator,
            "seed": seed,
            "n_samples": int(run.samples.shape[0]),
            "settings": settings,
        }
    )
    return run, result


def curve_array(curve: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Columns of a budget curve as arrays (for plotting and the break-even)."""
    keys = sorted({k for row in curve for k in row})
    return {k: np.array([float(row.get(k, np.nan)) for row in curve]) for k in keys}
