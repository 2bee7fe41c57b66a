"""Command line: ``python -m wgf train | evaluate | sample | reference | config`` without
Snakemake.

Every command resolves its settings with :mod:`wgf.plan` and runs the workflow's own step
(:mod:`wgf.jobs`), so a generator trained or evaluated here gets the workflow's numbers: the
same exact samples (``target_samples`` drawn with ``evaluation.seed``), the same monitor, the
same evaluation protocol, on one thread like the workflow's jobs (``--threads``).
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any

import torch
import yaml

from . import jobs, plan
from .config import DEFAULTS, ConfigError
from .divergences import UnknownDivergence
from .generator import Generator
from .io import save_npy, write_json
from .reference import load_reference
from .training import TrainingDiverged, save_run

__all__ = ["main", "parser"]


def _config(path: str | None, target: str | None = None) -> dict[str, Any]:
    """The prepared configuration (``path``, else the defaults) with ``target`` among its
    targets, checked like the workflow's first job checks it."""
    config = plan.load(path) if path else plan.prepare({"targets": {target: {}}} if target else {})
    if target is not None:
        config = plan.with_target(config, target)
    jobs.check_config(config)
    return config


def _override(config: dict[str, Any], target: str, section: str, **values: Any) -> dict:
    """``config`` with ``values`` (those not ``None``) as the target's own ``section`` settings,
    which take precedence over every other."""
    values = {k: v for k, v in values.items() if v is not None}
    if not values:
        return config
    out = copy.deepcopy(config)
    spec = out["targets"][target]
    spec[section] = {**spec.get(section, {}), **values}
    return out


def _target(config: dict[str, Any], name: str):
    return jobs.build_target(
        name,
        config["targets"][name],
        config["target_samples"],
        config["evaluation"]["seed"],
    )


def cmd_train(args: argparse.Namespace) -> None:
    if args.checkpoint_every is not None and args.checkpoint_every < 0:
        raise ConfigError(f"--checkpoint-every must be ≥ 0, got {args.checkpoint_every}")
    config = _override(
        _config(args.config, args.target),
        args.target,
        "training",
        steps=args.steps,
        device=args.device,
        estimator=args.q_estimator,
        checkpoint_every=args.checkpoint_every,
    )
    target, exact = _target(config, args.target)
    params = plan.train_params(config, args.target)
    flow = None
    if args.reference is not None:
        ref = Path(args.reference)
        flow = load_reference(ref / "flow.pt", ref / "log_z.json")
    out = Path(args.out)
    state = out / "state.pt"  # the same command after a kill resumes from it
    result = jobs.train_generator(
        target,
        exact,
        args.divergence,
        args.seed,
        params,
        config["evaluation"]["monitor_samples"],
        config["diagnostics"]["undercoverage"],
        reference=flow,
        checkpoint=state if params["checkpoint_every"] > 0 else None,
    )
    save_run(result, out / "generator.pt", out / "history.csv", out / "run.json")
    state.unlink(missing_ok=True)
    print(f"wrote {out}/generator.pt, history.csv, run.json ({result.info['train_wall_s']:.1f} s)")


def cmd_reference(args: argparse.Namespace) -> None:
    config = _config(args.config, args.target)
    config = _override(config, args.target, "reference", steps=args.steps)
    target, _ = _target(config, args.target)
    fit, samples = jobs.reference_flow(target, plan.reference_params(config, args.target))
    out = Path(args.out)
    jobs.save_reference(fit, samples, out / "flow.pt", out / "log_z.json", out / "samples.npy")
    error = fit.info["log_z_error"]
    print(
        f"wrote {out}/flow.pt, log_z.json, samples.npy: log Ẑ = {fit.info['log_z_hat']:.4f}"
        + (f" (error {error:+.4f})" if error is not None else "")
        + f", ESS {fit.info['ess']:.3f}"
    )


def cmd_sample(args: argparse.Namespace) -> None:
    gen = Generator.load(args.checkpoint)
    x = gen.sample(args.n, torch.Generator().manual_seed(args.seed))
    save_npy(args.out, x)
    print(f"wrote {args.n} samples to {args.out}")


def cmd_evaluate(args: argparse.Namespace) -> None:
    config = _config(args.config, args.target)
    target, exact = _target(config, args.target)
    _, result = jobs.evaluate_one_step(
        target,
        Generator.load(args.checkpoint),
        exact,
        config["evaluation"],
        config["baselines"]["throughput_samples"],
    )
    if args.out:
        write_json(args.out, result)
    for key, value in result.items():
        print(f"{key:>24s}  {value:.6g}")


def cmd_config(args: argparse.Namespace) -> None:
    config = _config(args.config)
    print(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), end="")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wgf", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1, as each workflow job: the same floats as the workflow)",
    )
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train one generator for (target, divergence, seed)")
    t.add_argument("--target", required=True, help="a configured or built-in target name")
    t.add_argument("--divergence", required=True)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", required=True, help="output directory")
    t.add_argument(
        "--config",
        help=f"config YAML (default: built-in defaults, {DEFAULTS['training']['steps']} steps)",
    )
    t.add_argument("--steps", type=int)
    t.add_argument("--device", help="auto, cpu or cuda")
    t.add_argument("--q-estimator", help="estimator of q: kde, drifting, flow or score_net")
    t.add_argument(
        "--checkpoint-every",
        type=int,
        help="save OUT/state.pt every this many steps (0: never); rerunning the same command "
        "after an interruption resumes from it (default: training.checkpoint_every)",
    )
    t.add_argument(
        "--reference",
        help="directory of a reference flow (flow.pt, log_z.json) for LV or normaliser: reference",
    )
    t.set_defaults(func=cmd_train)
    r = sub.add_parser("reference", help="fit a target's reference flow (log Ẑ, ESS, samples)")
    r.add_argument("--target", required=True)
    r.add_argument("--out", required=True, help="output directory")
    r.add_argument("--config")
    r.add_argument("--steps", type=int)
    r.set_defaults(func=cmd_reference)
    s = sub.add_parser("sample", help="draw samples from a trained generator (one forward pass)")
    s.add_argument("checkpoint")
    s.add_argument("--n", type=int, default=10_000)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True, help=".npy file")
    s.set_defaults(func=cmd_sample)
    e = sub.add_parser("evaluate", help="metrics of a trained generator against exact samples")
    e.add_argument("checkpoint")
    e.add_argument("--target", required=True)
    e.add_argument("--config")
    e.add_argument("--out", help="JSON file")
    e.set_defaults(func=cmd_evaluate)
    c = sub.add_parser("config", help="print a configuration with every default filled in")
    c.add_argument("--config", help="config YAML (default: the built-in defaults)")
    c.set_defaults(func=cmd_config)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        args.func(args)
    except (ConfigError, UnknownDivergence, TrainingDiverged) as err:
        print(f"wgf: error: {err}", file=sys.stderr)
        return 2
    return 0
