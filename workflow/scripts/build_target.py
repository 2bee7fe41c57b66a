"""Resolve one target's parameters and draw its exact samples."""

from wgf import jobs
from wgf.targets import save_target

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0]):
    target, exact = jobs.build_target(
        sm.wildcards.target, dict(sm.params.spec), sm.params.n, sm.params.seed
    )
    save_target(sm.output.spec, sm.output.samples, target, exact)
    print(f"{target.name}: d = {target.dim}, {len(exact)} exact samples, log Z = {target.log_z}")
