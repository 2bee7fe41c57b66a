"""Sample a trained generator (one forward pass) and compute every metric against exact samples."""

from wgf import jobs
from wgf.generator import Generator
from wgf.io import load_samples, save_npy, write_json
from wgf.targets import load_target

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0], sm.threads):
    samples, metrics = jobs.evaluate_one_step(
        load_target(sm.input.spec),
        Generator.load(sm.input.checkpoint),
        load_samples(sm.input.exact),
        dict(sm.params.evaluation),
        int(sm.params.throughput_samples),
    )
    save_npy(sm.output.samples, samples)
    write_json(sm.output.metrics, metrics)
    print("\n".join(f"{k:>30s} {v:.6g}" for k, v in metrics.items()))
