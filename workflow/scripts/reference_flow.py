"""Fit one target's reference flow ν data-free; log Ẑ with its ESS; ν's own samples."""

from wgf import jobs
from wgf.targets import load_target

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0], sm.threads):
    target = load_target(sm.input.spec)
    fit, samples = jobs.reference_flow(target, dict(sm.params.reference))
    jobs.save_reference(fit, samples, sm.output.flow, sm.output.log_z, sm.output.samples)
    info = fit.info
    error = info["log_z_error"]
    print(
        f"{target.name}: log Ẑ = {info['log_z_hat']:.4f}"
        + (f" (log Ẑ − log Z = {error:+.4f})" if error is not None else "")
        + f", ESS {info['ess']:.3f} of {info['n_log_z']}, fit {info['fit_wall_s']:.1f} s"
    )
