def reference_inputs(wildcards):
    """The target's reference flow (rule reference_flow), only for the runs that use it."""
    if wgf.config.uses_reference(CONFIG, wildcards.target, wildcards.divergence):
        ref = f"results/reference/{wildcards.target}"
        return {
            "reference_flow": f"{ref}/flow.pt",
            "reference_log_z": f"{ref}/log_z.json",
        }
    return {}


# The resumable training state: a param, not an output, so that Snakemake's cleanup of a killed
# job's incomplete outputs keeps it; the rerun resumes from it and the script deletes it at the end.
CHECKPOINTS = "results/checkpoints/{target}/{divergence}/seed{seed}/state.pt"


rule train:
    """Train one generator per (target, divergence, seed) with the stop-gradient drift loss.

    Retried once (a transient failure); the retry resumes from the last checkpoint.
    """
    input:
        unpack(reference_inputs),
        spec="results/targets/{target}/target.json",
        samples="results/targets/{target}/samples.npy",
    output:
        checkpoint=f"{RUN}/generator.pt",
        history=f"{RUN}/history.csv",
        info=f"{RUN}/run.json",
    log:
        f"results/logs/train/{{target}}/{{divergence}}/seed{{seed}}.log",
    benchmark:
        f"results/benchmarks/train/{{target}}/{{divergence}}/seed{{seed}}.tsv"
    retries: 1
    conda:
        ENV
    threads: 1
    resources:
        gpu=0,
        mem_mb=2000,
        runtime=60,
    params:
        train=lambda w: train_params(w.target),
        monitor_samples=CONFIG["evaluation"]["monitor_samples"],
        undercoverage=CONFIG["diagnostics"]["undercoverage"],
        resume_state=lambda w: CHECKPOINTS.format(**w),
    script:
        "../scripts/train.py"
