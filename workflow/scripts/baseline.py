"""Run one baseline method on one target and seed; score it like a generator."""

from pathlib import Path

import numpy as np
import torch

from wgf.methods import run_baseline
from wgf.results import atomic_write, load_target, save_npy, write_csv, write_json
from wgf.runlog import redirect_output

sm = snakemake  # noqa: F821
with redirect_output(sm.log[0]):
    torch.set_num_threads(sm.threads)
    target = load_target(sm.input.spec)
    reference = torch.from_numpy(np.load(sm.input.reference))
    run, result = run_baseline(
        sm.wildcards.method,
        target,
        dict(sm.params.settings),
        int(sm.wildcards.seed),
        reference,
        dict(sm.params.evaluation),
        int(sm.params.throughput_samples),
    )
    save_npy(sm.output.samples, run.samples.numpy())
    write_json(sm.output.metrics, result)
    write_json(sm.output.info, run.info)
    if "curve" in sm.output.keys():
        columns = sorted({k for row in run.curve or [] for k in row})
        write_csv(sm.output.curve, run.curve or [], columns)
    if "model" in sm.output.keys():
        atomic_write(Path(sm.output.model), lambda fh: torch.save(run.model, fh), "wb")
    print("\n".join(f"{k:>30s} {v:.6g}" for k, v in result.items()))
    for key in ("acceptance", "step_size", "train_wall_s", "target_evaluations"):
        if run.info.get(key) is not None:
            print(f"{key:>30s} {run.info[key]:.6g}")
