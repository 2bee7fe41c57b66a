"""Command line: ``python -m wgf train | sample | evaluate | reference`` without Snakemake."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from .config import (
    DEFAULTS,
    ConfigError,
    load_config,
    prepare,
    reference_config,
    target_of,
    train_config,
)
from .divergences import UnknownDivergence, get_divergence
from .evaluate import make_monitor, sample_and_evaluate
from .flows import fit_reference, load_reference, save_flow
from .results import load_generator, save_npy, save_run, write_json
from .train import TrainingDiverged, train


def _config(path: str | None, target: str) -> dict:
    config = load_config(path) if path else prepare({"targets": {target: {}}})
    if target not in config["targets"]:
        config = prepare(
            {
                **{k: v for k, v in config.items() if k != "targets"},
                "targets": {**config["targets"], target: {}},
            }
        )
    return config


def cmd_train(args: argparse.Namespace) -> None:
    config = _config(args.config, args.target)
    target = target_of(config, args.target)
    cfg = train_config(config, args.target)
    if args.steps is not None:
        cfg.steps = args.steps
    if args.device is not None:
        cfg.device = args.device
    if args.q_estimator is not None:
        cfg.estimator = args.q_estimator
    if args.checkpoint_every is not None:
        if args.checkpoint_every < 0:
            raise ConfigError(f"--checkpoint-every must be ≥ 0, got {args.checkpoint_every}")
        cfg.checkpoint_every = args.checkpoint_every
    divergence = get_divergence(args.divergence)
    exact = None
    if target.exact:
        exact = target.sample(2000, torch.Generator().manual_seed(config["evaluation"]["seed"]))
    flow = None
    if args.reference is not None:
        ref = Path(args.reference)
        flow = load_reference(ref / "flow.pt", ref / "log_z.json")
    out = Path(args.out)
    state = out / "state.pt"  # the same command after a kill resumes from it
    try:
        result = train(
            target,
            divergence,
            cfg,
            args.seed,
            monitor=make_monitor(target, exact),
            reference=flow,
            checkpoint=state if cfg.checkpoint_every > 0 else None,
        )
    except ValueError as err:
        raise ConfigError(str(err)) from err
    save_run(result, out / "generator.pt", out / "history.csv", out / "run.json")
    state.unlink(missing_ok=True)
    print(f"wrote {out}/generator.pt, history.csv, run.json ({result.info['train_wall_s']:.1f} s)")


def cmd_reference(args: argparse.Namespace) -> None:
    config = _config(args.config, args.target)
    target = target_of(config, args.target)
    cfg, seed = reference_config(config, args.target)
    if args.steps is not None:
        cfg.steps = args.steps
    fit = fit_reference(target, cfg, seed)
    samples = fit.flow.sample(cfg.n_samples, torch.Generator().manual_seed(seed + 1))
    out = Path(args.out)
    save_flow(out / "flow.pt", fit.flow, {"log_z_hat": fit.info["log_z_hat"]})
    save_npy(out / "samples.npy", samples.numpy())
    write_json(out / "log_z.json", {**fit.info, "history": fit.history})
    error = fit.info["log_z_error"]
    print(
        f"wrote {out}/flow.pt, log_z.json, samples.npy: log Ẑ = {fit.info['log_z_hat']:.4f}"
        + (f" (error {error:+.4f})" if error is not None else "")
        + f", ESS {fit.info['ess']:.3f}"
    )


def cmd_sample(args: argparse.Namespace) -> None:
    gen = load_generator(args.checkpoint)
    x = gen.sample(args.n, torch.Generator().manual_seed(args.seed))
    save_npy(args.out, x.numpy())
    print(f"wrote {args.n} samples to {args.out}")


def cmd_evaluate(args: argparse.Namespace) -> None:
    config = _config(args.config, args.target)
    target = target_of(config, args.target)
    ev = config["evaluation"]
    gen = load_generator(args.checkpoint)
    ref = (
        target.sample(ev["n_samples"], torch.Generator().manual_seed(ev["seed"] + 1))
        if target.exact
        else None
    )
    _, result = sample_and_evaluate(target, gen.sample, ref, ev)
    if args.out:
        write_json(args.out, result)
    for key, value in result.items():
        print(f"{key:>24s}  {value:.6g}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wgf", description=__doc__)
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
    t.add_argument("--q-estimator", help="estimator of q: kde, drifting or flow")
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
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        args.func(args)
    except (ConfigError, UnknownDivergence, TrainingDiverged) as err:
        print(f"wgf: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
