"""Run one baseline method on one target and seed; score it like a generator."""

from wgf import jobs
from wgf.io import load_samples, save_checkpoint, save_npy, write_csv, write_json
from wgf.targets import load_target

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0], sm.threads):
    run, metrics = jobs.baseline(
        sm.wildcards.method,
        load_target(sm.input.spec),
        load_samples(sm.input.exact),
        dict(sm.params.settings),
        int(sm.wildcards.seed),
        dict(sm.params.evaluation),
        int(sm.params.throughput_samples),
    )
    save_npy(sm.output.samples, run.samples)
    write_json(sm.output.metrics, metrics)
    write_json(sm.output.info, run.info)
    if "curve" in sm.output.keys():
        write_csv(sm.output.curve, run.curve or [], sorted({k for r in run.curve or [] for k in r}))
    if "model" in sm.output.keys():
        save_checkpoint(sm.output.model, run.model)
    print("\n".join(f"{k:>30s} {v:.6g}" for k, v in metrics.items()))
    for key in ("acceptance", "step_size", "train_wall_s", "target_evaluations"):
        if run.info.get(key) is not None:
            print(f"{key:>30s} {run.info[key]:.6g}")
