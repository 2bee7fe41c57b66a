"""The floor of every metric on one target: independent exact samples (or long-chain sets) scored
like a sampler's."""

from wgf import jobs
from wgf.io import load_samples, read_json, write_json
from wgf.targets import load_target

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0], sm.threads):
    reference = None
    if "floor" in sm.input.keys():  # long chains: their other sets against the reference
        reference = (list(load_samples(sm.input.floor)), read_json(sm.input.convergence))
    floor = jobs.exact_floor(
        load_target(sm.input.spec),
        load_samples(sm.input.exact),
        dict(sm.params.evaluation),
        int(sm.params.draws),
        int(sm.params.n),
        reference,
    )
    write_json(sm.output[0], floor)
    for k, metrics in enumerate(floor["metrics"]):
        print(f"draw {k}: " + ", ".join(f"{m} {v:.4g}" for m, v in sorted(metrics.items())))
