"""Resolve one target's parameters and draw its exact samples (or take its long chains')."""

from wgf import jobs
from wgf.io import load_samples
from wgf.targets import save_target

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0]):
    reference = load_samples(sm.input.reference) if "reference" in sm.input.keys() else None
    target, exact = jobs.build_target(
        sm.wildcards.target, dict(sm.params.spec), sm.params.n, sm.params.seed, reference
    )
    save_target(sm.output.spec, sm.output.samples, target, exact)
    kind = "long-chain reference" if reference is not None else "exact"
    print(f"{target.name}: d = {target.dim}, {len(exact)} {kind} samples, log Z = {target.log_z}")
