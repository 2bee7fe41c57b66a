def reference_inputs(wildcards):
    """The target's reference flow (rule reference_flow), only for the runs that use it."""
    if wgf.config.uses_reference(CONFIG, wildcards.target, wildcards.divergence):
        ref = f"results/reference/{wildcards.target}"
        return {
            "reference_flow": f"{ref}/flow.pt",
            "reference_log_z": f"{ref}/log_z.json",
        }
    return {}


rule train:
    """Train one generator per (target, divergence, seed) with the stop-gradient drift loss."""
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
    script:
        "../scripts/train.py"
