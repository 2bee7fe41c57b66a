"""Train one generator for (target, divergence, seed), resuming from its checkpoint if any."""

from pathlib import Path

from wgf import jobs
from wgf.io import load_samples
from wgf.reference import load_reference
from wgf.targets import load_target
from wgf.training import save_run

sm = snakemake  # noqa: F821
with jobs.job_log(sm.log[0], sm.threads):
    flow = None  # the reference flow ν, for the runs that use it (rule reference_flow)
    if "reference_flow" in sm.input.keys():
        flow = load_reference(sm.input.reference_flow, sm.input.reference_log_z)
    result = jobs.train_generator(
        load_target(sm.input.spec),
        load_samples(sm.input.exact),
        sm.wildcards.divergence,
        int(sm.wildcards.seed),
        dict(sm.params.train),
        sm.params.monitor_samples,
        dict(sm.params.undercoverage) if sm.params.undercoverage else None,
        reference=flow,
        checkpoint=sm.params.resume_state,
        w2_samples=sm.params.monitor_w2,
    )
    save_run(result, sm.output.checkpoint, sm.output.history, sm.output.info)
    Path(sm.params.resume_state).unlink(missing_ok=True)  # the outputs supersede it
    print(f"done in {result.info['train_wall_s']:.1f} s on {result.info['device']}")
