"""One function per workflow step: what the workflow's scripts and the command line both call.

A script reads its inputs, calls one of these, and writes what it returns; ``python -m wgf``
calls the same functions on the same settings (resolved by :mod:`wgf.plan`), so the command line
gives the workflow's numbers. Functions here take and return objects, not paths.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

from . import plan
from .baselines.long_chains import LongChainSettings, ReferenceSample
from .baselines.long_chains import reference_sample as long_chain_sample
from .baselines.run import MethodRun, run_baseline
from .config import ConfigError, resolve
from .density.flows import Flow, save_flow
from .divergences import get_divergence
from .evaluation import evaluate_sampler, published_protocol, quality_monitor, score
from .evaluation.monitor import TRAINING_EXACT
from .evaluation.target_metrics import energies, energy_comparison
from .generator import Generator
from .io import redirect_output, save_npy, write_json
from .reference import ReferenceConfig, ReferenceFit, ReferenceFlow, fit_reference
from .reporting.asymptotics import asymptotics_markdown, asymptotics_rows, floor_stats
from .reporting.comparison import break_even, break_even_markdown, curve_summary, one_step_levels
from .reporting.rows import quality_metric, run_identity, run_rows, split_timing
from .reporting.tables import (
    comparison_markdown,
    energy_markdown,
    main_markdown,
    published_markdown,
    reference_markdown,
    reference_sample_note,
    reference_table_rows,
    summarise,
)
from .targets import GaussianMixture, Target, TargetError, exact_samples, registry
from .theory import RegionalResponse, regional_response, undercovering_q, vector_fields
from .training import TrainConfig, TrainResult, train

__all__ = [
    "Run",
    "baseline",
    "build_target",
    "check_config",
    "comparison_table",
    "energy_histograms",
    "evaluate_one_step",
    "exact_floor",
    "fields",
    "floor_runs",
    "job_log",
    "main_table",
    "make_target",
    "mala_cost",
    "published_table",
    "reference_flow",
    "reference_notes",
    "reference_sample",
    "reference_table",
    "regional_response_table",
    "require_finite_reference",
    "save_reference",
    "train_generator",
]

# A run's record (run.json or log_z.json), its metrics, and its source (wgf.reporting.rows).
Run = tuple[dict[str, Any], dict[str, float], str]


@contextlib.contextmanager
def job_log(path: str | Path, threads: int | None = None) -> Iterator[None]:
    """A job's output (and a failure's traceback) in its log; torch on ``threads`` threads."""
    with redirect_output(path):
        if threads is not None:
            torch.set_num_threads(threads)
        yield


# --------------------------------------------------------------------------- targets


def make_target(name: str, spec: dict[str, Any]) -> Target:
    """Target ``name`` from its config entry, a failure naming its key."""
    try:
        return registry.build_target(name, {k: spec[k] for k in ("kind", "params") if k in spec})
    except TargetError as err:
        raise ConfigError(f"config key 'targets.{name}': {err}") from err


def check_config(config: dict[str, Any]) -> list[str]:
    """What needs torch to check: every target builds into a valid density, and the settings
    that depend on a target's dimension or kind fit it. Raises :class:`ConfigError` naming the
    key; returns one line per target."""
    lines = []
    targets = {name: make_target(name, spec) for name, spec in config["targets"].items()}
    for name, target in targets.items():
        spec = config["targets"][name]
        proposal = resolve.reference(config, name)["proposal_loc"]
        if isinstance(proposal, list) and len(proposal) != target.dim:
            own = "proposal_loc" in spec.get("reference", {})
            key = f"targets.{name}.reference" if own else "reference"
            raise ConfigError(
                f"config key '{key}.proposal_loc': {len(proposal)} entries for target {name} "
                f"of dimension {target.dim}"
            )
        latent = resolve.training(config, name)["generator"]["latent_dim"]
        if latent is not None and latent > target.dim:
            raise ConfigError(
                f"config key 'targets.{name}.generator.latent_dim': {latent} exceeds the "
                f"target's dimension {target.dim}"
            )
        lines.append(f"{name}: d = {target.dim}, {type(target).__name__}, log Z = {target.log_z}")
    for i, name in enumerate(config["diagnostics"]["fields"]["targets"]):
        t = targets.get(name)
        if t is not None and not (isinstance(t, GaussianMixture) and t.dim == 2):
            raise ConfigError(
                f"config key 'diagnostics.fields.targets[{i}]': {name} is not a 2-D mixture "
                "(the vector fields need d = 2 and log Z)"
            )
    chains = plan.reference_sample_targets(config)
    for i, name in enumerate(config["figures"]["marginals"]["targets"]):
        t = targets.get(name)
        if t is not None and not (t.exact or name in chains):
            raise ConfigError(
                f"config key 'figures.marginals.targets[{i}]': {name} has neither exact samples "
                "nor a long-chain reference (add it to reference_sample.targets)"
            )
    for i, name in enumerate(config["evaluation"]["published_protocol"]["targets"]):
        if name in targets and not isinstance(targets[name], GaussianMixture):
            raise ConfigError(
                f"config key 'evaluation.published_protocol.targets[{i}]': {name} is not a "
                "mixture (the protocol counts modes)"
            )
    regional = plan.regional_response_target(config)
    if regional is not None:
        name, spec = regional
        key = "diagnostics.regional_response.target"
        try:
            target = targets.get(name) or registry.build_target(name, spec)
        except TargetError as err:
            raise ConfigError(f"config key '{key}': {err}") from err
        if not isinstance(target, GaussianMixture):
            raise ConfigError(f"config key '{key}': {name} is not a mixture")
    return lines


def build_target(
    name: str, spec: dict[str, Any], n: int, seed: int, reference: torch.Tensor | None = None
) -> tuple[Target, torch.Tensor]:
    """The target and the draw every sampler is evaluated against: ``n`` exact samples drawn
    with ``seed``, or the long chains' ``reference`` sample where one is given (none for a
    target with neither)."""
    target = make_target(name, spec)
    if reference is not None:
        return target, reference[:n].float()
    return target, exact_samples(target, n, seed)


def reference_sample(
    name: str,
    spec: dict[str, Any],
    settings: dict[str, Any],
    n: int,
    floor_sets: int,
    floor_n: int,
) -> tuple[Target, ReferenceSample]:
    """Long MALA chains' reference sample of target ``name`` (``settings``: the config's
    ``reference_sample`` block): ``n`` draws, and ``floor_sets`` sets of ``floor_n`` from other
    chains for the reference-vs-reference floor. Raises if R̂ exceeds its limit."""
    target = make_target(name, spec)
    return target, long_chain_sample(
        target, LongChainSettings.from_dict(settings), n, floor_sets, floor_n
    )


# --------------------------------------------------------------------------- reference flow ν


def reference_flow(target: Target, params: dict[str, Any]) -> tuple[ReferenceFit, torch.Tensor]:
    """Fit the target's reference flow ν (``params``: its resolved settings, seed included)
    and draw ``n_samples`` of ν; the fit's record gains the sampling time and the history.
    Raises ``FloatingPointError`` if some samples are not finite (a diverged flow: say so here,
    not in the evaluation of its samples)."""
    settings = dict(params)
    seed = int(settings.pop("seed"))
    cfg = ReferenceConfig.from_dict(settings)
    fit = fit_reference(target, cfg, seed)
    start = time.perf_counter()
    samples = fit.flow.sample(cfg.n_samples, torch.Generator().manual_seed(seed + 1))
    fit.info.update(sample_wall_s=time.perf_counter() - start, history=fit.history)
    require_finite_reference(samples, target.name, fit.info)
    return fit, samples


def require_finite_reference(samples: torch.Tensor, name: str, info: dict[str, Any]) -> None:
    """Raise ``FloatingPointError`` naming how many of ν's samples are not finite, with the
    fit's log Ẑ and ESS and what to change."""
    bad = int((~torch.isfinite(samples).all(-1)).sum())
    if bad:
        raise FloatingPointError(
            f"reference flow of {name}: {bad} of {len(samples)} samples are not finite "
            f"(log Ẑ {info['log_z_hat']:.4g}, ESS {info['ess']:.2g}); change "
            "reference.method (reverse_kl), its proposal or its steps"
        )


def save_reference(
    fit: ReferenceFit, samples: torch.Tensor, flow: str | Path, log_z: str | Path, out: str | Path
) -> None:
    """``flow.pt`` (with ``log Ẑ`` and its ESS), ``log_z.json`` (the fit's record) and ν's
    samples: what :func:`wgf.reference.load_reference` and the tables read."""
    save_flow(flow, fit.flow, {"log_z_hat": fit.info["log_z_hat"], "ess": fit.info["ess"]})
    save_npy(out, samples)
    write_json(log_z, fit.info)


# --------------------------------------------------------------------------- generators


def train_generator(
    target: Target,
    exact: torch.Tensor,
    divergence: str,
    seed: int,
    params: dict[str, Any],
    monitor_samples: int,
    undercoverage: dict[str, Any] | None,
    reference: ReferenceFlow | None = None,
    checkpoint: str | Path | None = None,
    w2_samples: int | None = None,
) -> TrainResult:
    """Train one generator (``params``: the target's resolved training settings), monitored
    against the exact samples every ``log_every`` steps (W2 too with ``w2_samples``); resumes
    from ``checkpoint``."""
    return train(
        target,
        get_divergence(divergence),
        TrainConfig.from_dict(dict(params)),
        seed=seed,
        monitor=quality_monitor(target, exact, TRAINING_EXACT, undercoverage, w2_samples),
        monitor_samples=monitor_samples,
        reference=reference,
        checkpoint=checkpoint,
    )


def evaluate_one_step(
    target: Target,
    model: Generator | Flow,
    exact: torch.Tensor,
    evaluation: dict[str, Any],
    throughput_samples: int,
) -> tuple[torch.Tensor, dict[str, float]]:
    """A trained one-step sampler's samples and metrics, a generator's or the reference flow
    ν's alike (one forward pass per sample: no target evaluation per sample)."""
    samples, metrics = evaluate_sampler(target, model.sample, exact, evaluation, throughput_samples)
    metrics["target_evaluations_per_sample"] = 0.0
    return samples, metrics


def exact_floor(
    target: Target,
    exact: torch.Tensor,
    evaluation: dict[str, Any],
    draws: int,
    published_n: int,
    reference: tuple[Sequence[torch.Tensor], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The floor of every metric: ``draws`` independent exact sample sets of the generated
    sets' size (``evaluation.n_samples``, seeds ``evaluation.seed + 1 + k``) scored like a
    sampler's against the same exact samples, and for a mixture the published protocol of each
    (``published_n`` of them against a fresh exact draw, seed ``10 000 + k``). No sampler can
    beat a floor on average. A target scored against long chains gives ``reference`` (the
    floor's sets from other chains and the chains' record): its floor is reference against
    reference. A target with neither has none."""
    out: dict[str, Any] = {"target": target.name, "metrics": [], "published": []}
    if reference is not None:
        floor_sets, info = reference
        out["reference_sample"] = {k: v for k, v in info.items() if not isinstance(v, list)}
        out["metrics"] = [score(target, fresh, exact, evaluation) for fresh in floor_sets]
        return out
    if not target.exact or not len(exact):
        return out
    for k in range(draws):
        fresh = exact_samples(target, evaluation["n_samples"], evaluation["seed"] + 1 + k)
        out["metrics"].append(score(target, fresh, exact, evaluation))
        if isinstance(target, GaussianMixture):
            values = published_protocol(target, fresh.numpy(), seed=10_000 + k, n=published_n)
            out["published"].append(values)
    return out


def asymptotics(
    target: Target,
    exact: torch.Tensor,
    histories: dict[str, list[dict[str, Any]]],
    spec: dict[str, Any],
    monitor_samples: int,
    grid_steps: int,
    evaluation_seed: int,
) -> tuple[list[dict[str, Any]], str, dict[str, tuple[float, float]]]:
    """The long runs' table rows, its markdown and the floors (``spec``: figures.asymptotics).

    The floor is the training monitor itself applied to ``floor_draws`` independent exact sets
    of the monitor's size (seeds ``evaluation_seed + 1 + k``, as :func:`exact_floor`)."""
    monitor = quality_monitor(target, exact, TRAINING_EXACT, None, spec["w2_samples"])
    draws = []
    if monitor is not None and target.exact:
        for k in range(spec["floor_draws"]):
            draws.append(monitor(exact_samples(target, monitor_samples, evaluation_seed + 1 + k)))
    floors = floor_stats(draws)
    rows = asymptotics_rows(target.name, histories, floors, spec["tail"], grid_steps)
    return rows, asymptotics_markdown(rows, grid_steps, spec["steps"], spec["tail"]), floors


def floor_runs(floor: dict[str, Any]) -> list[Run]:
    """The floor's draws as runs of the long table (method ``exact_vs_exact``, seed = draw)."""
    return [
        ({"target": floor["target"], "seed": k}, metrics, "floor")
        for k, metrics in enumerate(floor["metrics"])
    ]


def baseline(
    method: str,
    target: Target,
    exact: torch.Tensor,
    settings: dict[str, Any],
    seed: int,
    evaluation: dict[str, Any],
    throughput_samples: int,
) -> tuple[MethodRun, dict[str, float]]:
    """Run or train one baseline and score it like a generator."""
    return run_baseline(
        method, target, dict(settings), seed, exact, dict(evaluation), throughput_samples
    )


# --------------------------------------------------------------------------- tables


def reference_notes(floors: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Per target scored against long chains, the line the tables print above its rows."""
    notes = {}
    for floor in floors:
        info = floor.get("reference_sample")
        if info:
            notes[floor["target"]] = reference_sample_note(info)
    return notes


def main_table(
    runs: Sequence[Run], notes: dict[str, str] | None = None
) -> tuple[list[dict], list[dict], str]:
    """``main.csv`` rows, ``timings.csv`` rows and ``main.md`` of every run (``notes``: a line
    above a target's rows, :func:`reference_notes`)."""
    rows = [row for info, metrics, source in runs for row in run_rows(info, metrics, source)]
    results, timings = split_timing(rows)
    return results, timings, main_markdown(rows, notes=notes)


def comparison_table(
    runs: Sequence[Run],
    curves: dict[str, list[list[dict[str, Any]]]],
    chains: dict[str, int],
    notes: dict[str, str] | None = None,
) -> tuple[list[dict], list[dict], str]:
    """``comparison.csv`` (summary rows), the break-even per target with MALA's curve, and
    ``comparison.md`` (``notes`` as for :func:`main_table`). ``curves[target]``: MALA's curve
    per seed; ``chains[target]``: its chains.
    A grid run's and a reference fit's rows carry their training steps (``train_steps``)."""
    rows = []
    for info, metrics, source in runs:
        if source == "grid":
            metrics = {**metrics, "train_steps": info["config"]["steps"]}
        elif source == "reference":
            metrics = {**metrics, "train_steps": info["steps"]}
        rows += run_rows(info, metrics, source)
    results = []
    for target, group in curves.items():
        summary = curve_summary(group, chains[target])
        res = break_even(rows, summary, target)
        if res is not None:
            res["mala_curve"] = summary
            results.append(res)
    markdown = comparison_markdown(rows, notes=notes)
    if results:
        markdown += "\n" + break_even_markdown(results)
    return summarise(rows), results, markdown


def energy_histograms(
    target: Target,
    samples: dict[str, Any],
    reference: Any,
    reference_label: str,
) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """Every set's energies and their histogram TV against the reference's: ``reference`` (the
    exact or long-chain sample) where there is one, else MALA's chains (a user energy's only
    distribution-level check, the caveat said in the table). Returns what the figure draws
    (``energies``, ``reference``: its energies or None, ``reference_name``), the rows (with the
    reference-vs-reference floor at the same size) and their markdown."""
    own = {name: energies(target, x) for name, x in samples.items()}
    if len(reference):
        name, ref = reference_label, energies(target, reference)
        caveat = ""
    elif "mala" in own:
        name, ref = "mala", own["mala"]
        caveat = (
            "No exact samples: the reference is MALA's chains (one sample per chain, at the "
            "end of its budget), not an exact sample; a TV of 0 means agreement with MALA."
        )
    else:
        drawn = {"energies": own, "reference": None, "reference_name": None}
        rows = [{"method": m, "n": len(e), "mean_energy": float(e.mean())} for m, e in own.items()]
        note = "No exact samples and no MALA baseline: energies only, nothing to compare with."
        return drawn, rows, energy_markdown(target.name, rows, note)
    rows = energy_comparison(own, ref, name)
    drawn = {"energies": own, "reference": ref, "reference_name": name}
    return drawn, rows, energy_markdown(target.name, rows, caveat)


def mala_cost(
    target: str,
    curves: dict[str, list[list[dict[str, Any]]]],
    chains: dict[str, int],
    stats: Sequence[dict[str, Any]],
    break_even_results: Sequence[dict[str, Any]],
) -> tuple[dict, dict[str, float], dict[str, Any] | None, str]:
    """What the MALA-cost figure draws: each chain method's curve (mean over seeds), the
    one-step methods' levels of the quality metric (MMD, or KSD without exact samples), the
    target's break-even, and that metric's name."""
    summaries = {m: curve_summary(group, chains[m]) for m, group in curves.items()}
    best = next((b for b in break_even_results if b["target"] == target), None)
    metric = quality_metric(row["metric"] for row in stats if row["target"] == target)
    return summaries, one_step_levels(stats, target, metric), best, metric


def reference_table(infos: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """``reference.csv`` rows and ``reference.md``: each reference flow's ``log Ẑ`` and ESS."""
    return reference_table_rows(infos), reference_markdown(infos)


def published_table(
    target: GaussianMixture,
    runs: Sequence[tuple[dict[str, Any], str, Any]],
    n: int,
    floor: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], str]:
    """The published (DEM/iDEM) protocol of the floor's draws and of every run ``(record,
    source, samples)`` on ``target``: rows and the markdown table; the exact draw of seed ``s``
    is ``10 000 + s``."""
    draws = floor["published"] if floor is not None else []
    scored = [
        (run_identity({"target": target.name, "seed": k}, "floor"), values)
        for k, values in enumerate(draws)
    ]
    for info, source, samples in runs:
        values = published_protocol(target, samples, seed=10_000 + int(info["seed"]), n=n)
        scored.append((run_identity(info, source), values))
    rows = [
        {**base, "metric": k, "value": repr(v)} for base, vals in scored for k, v in vals.items()
    ]
    return rows, published_markdown(rows, target.name, n)


# --------------------------------------------------------------------------- theory diagnostics


def regional_response_table(
    name: str, spec: dict[str, Any], settings: dict[str, Any], divergences: Sequence[str]
) -> RegionalResponse:
    """The regional response of each f-divergence on the mixture ``name`` (its config entry
    ``spec``, ``{}`` for the built-in): measured inflow into ``A_κ`` against ``w(e^κ) Φ_κ``."""
    p = make_target(name, spec)
    q = undercovering_q(
        p,
        missing=settings["missing_modes"],
        broad_weight=settings["broad_weight"],
        broad_std=settings["broad_std"],
    )
    return regional_response(
        p,
        q,
        list(divergences),
        settings["kappas"],
        lim=settings["lim"],
        grid_n=settings["grid_n"],
        phi_floor=settings["phi_floor"],
        one_step_dt=settings["one_step_dt"] or None,
    )


def fields(
    target: Target, generator: Generator, settings: dict[str, Any], divergences: Sequence[str]
) -> dict[str, Any]:
    """The drift's vector fields of a trained 2-D generator's samples on a grid."""
    n, seed = int(settings["n_samples"]), int(settings["seed"])
    samples = generator.sample(n, torch.Generator().manual_seed(seed))
    return vector_fields(
        target,
        samples.double(),
        tau=float(settings["tau"]),
        grid_n=int(settings["grid_n"]),
        lim=float(settings["lim"]),
        divergences=list(divergences),
        kernel=settings["kernel"],
    )
