"""Score the reference flow ν as a one-step sampler, by the generators' protocol."""

from wgf import jobs
from wgf.density.flows import load_flow
from wgf.io import load_samples, write_json
from wgf.targets import load_target

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0], sm.threads):
    _, metrics = jobs.evaluate_one_step(
        load_target(sm.input.spec),
        load_flow(sm.input.flow),
        load_samples(sm.input.exact),
        dict(sm.params.evaluation),
        int(sm.params.throughput_samples),
    )
    write_json(sm.output.metrics, metrics)
    print("\n".join(f"{k:>30s} {v:.6g}" for k, v in metrics.items()))
