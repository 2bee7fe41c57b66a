"""Run one baseline on one target and seed, by its kind, and score it like a generator.

Runners take ``(method, target, settings, seed, monitor)`` (settings: the plain data of
:func:`~wgf.baselines.registry.method_settings`; ``monitor``: the quality recorder of the
sampler's budget curve) and return a :class:`MethodRun`. :func:`run_baseline` adds the metrics,
for one-step methods by the protocol every one-step sampler is evaluated by
(:func:`wgf.evaluation.evaluate_sampler`), and the cost columns.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..divergences import get_divergence
from ..evaluation import Monitor, Sampler, evaluate_sampler, quality_monitor, score
from ..reference import ReferenceConfig, fit_reference
from ..targets import Target
from ..training import TrainConfig, train
from .chains import MALA, SVGD, ULA, ChainResult, mala, run_chain
from .registry import Method, get_method

__all__ = ["CHAIN_RUNNERS", "MethodRun", "run_baseline"]


@dataclass
class MethodRun:
    """What a runner returns: samples, cost (``info``), a model checkpoint, a budget curve."""

    samples: torch.Tensor
    info: dict[str, Any]
    model: dict[str, Any] | None = None
    curve: list[dict[str, Any]] | None = None
    sample: Sampler | None = None


Runner = Callable[[Method, Target, dict[str, Any], int, Monitor | None], MethodRun]


def _init(target: Target, settings: dict[str, Any], n: int, seed: int) -> torch.Tensor:
    """The chains' start: ``N(0, s² I)``, ``s`` the generator's ``init_scale``."""
    gen = torch.Generator().manual_seed(seed + 20_000)
    return settings["init_scale"] * torch.randn(n, target.dim, generator=gen)


def _budgets(settings: dict[str, Any]) -> list[int]:
    return sorted(
        {int(b) for b in settings["budgets"] if b < settings["steps"]} | {int(settings["steps"])}
    )


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


def _run_mala(target: Target, settings: dict[str, Any], seed: int, monitor) -> MethodRun:
    n = settings["chains"]
    gen = torch.Generator().manual_seed(seed)
    kernel = MALA(settings["step_size"], gen, settings["burn_in"], settings["target_accept"])
    x0 = _init(target, settings, n, seed)
    result = run_chain(kernel, target, x0, settings["steps"], monitor, _budgets(settings))
    return _chain_run(result, n, {"steps": settings["steps"], "burn_in": settings["burn_in"]})


def _run_ula(target: Target, settings: dict[str, Any], seed: int, monitor) -> MethodRun:
    """ULA at the given step, or (``step_size: null``) at MALA's adapted step, tuned on up to
    1000 chains with MALA's burn-in: that tuning counts as training."""
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
    kernel = ULA(h, torch.Generator().manual_seed(seed))
    x0 = _init(target, settings, n, seed)
    result = run_chain(kernel, target, x0, settings["steps"], monitor, _budgets(settings))
    return _chain_run(result, n, extra)


def _run_svgd(target: Target, settings: dict[str, Any], seed: int, monitor) -> MethodRun:
    n = settings["particles"]
    kernel = SVGD(settings["step_size"], settings["adagrad"])
    x0 = _init(target, settings, n, seed)
    result = run_chain(kernel, target, x0, settings["steps"], monitor, _budgets(settings))
    return _chain_run(result, n, {"steps": settings["steps"]})


# How each sampler-kind entry of the registry runs (a test checks every one has its runner).
CHAIN_RUNNERS: dict[str, Callable[..., MethodRun]] = {
    "mala": _run_mala,
    "ula": _run_ula,
    "svgd": _run_svgd,
}


def _run_sampler(method: Method, target: Target, settings: dict, seed: int, monitor) -> MethodRun:
    return CHAIN_RUNNERS[method.name](target, settings, seed, monitor)


def _run_flow(method: Method, target: Target, settings: dict, seed: int, monitor) -> MethodRun:
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


def _run_generator(method: Method, target: Target, settings: dict, seed: int, monitor) -> MethodRun:
    """:func:`wgf.training.train` with the entry's divergence and estimator, on the CPU unless a
    device is named (the baseline rules ask for no GPU)."""
    data = copy.deepcopy(settings["training"])
    data["estimator"] = method.estimator
    data["device"] = "cpu" if data.get("device") == "auto" else data.get("device", "cpu")
    cfg = TrainConfig.from_dict(data)
    result = train(target, get_divergence(method.divergence), cfg, seed, progress=False)
    gen = result.generator.eval()
    info = {k: result.info[k] for k in ("train_wall_s", "time_per_step_s", "target_evaluations")}
    info["steps"] = cfg.steps
    return MethodRun(torch.empty(0), info, model=gen.checkpoint(), sample=gen.sample)


RUNNERS: dict[str, Runner] = {
    "sampler": _run_sampler,
    "flow": _run_flow,
    "generator": _run_generator,
}


def run_baseline(
    name: str,
    target: Target,
    settings: dict[str, Any],
    seed: int,
    exact: torch.Tensor | None,
    evaluation: dict[str, Any],
    throughput_samples: int,
) -> tuple[MethodRun, dict[str, float]]:
    """Run method ``name`` and score it like a generator; returns the run and its metrics
    (quality plus ``samples_per_s`` and ``target_evaluations_per_sample``)."""
    method = get_method(name)
    torch.manual_seed(seed)
    run = RUNNERS[method.kind](method, target, settings, seed, quality_monitor(target, exact))
    if run.sample is not None:
        run.samples, result = evaluate_sampler(
            target, run.sample, exact, evaluation, throughput_samples
        )
        run.info["samples_per_s"] = result["samples_per_s"]
        run.info["target_evaluations_per_sample"] = 0.0
        run.info["throughput_samples"] = throughput_samples
    else:
        result = score(target, run.samples, exact, evaluation)
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
