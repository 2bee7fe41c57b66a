rule train:
    """Train one generator per (target, divergence, seed) with the stop-gradient drift loss.

    Retried once (a transient failure); the retry resumes from the last checkpoint.
    """
    input:
        unpack(reference_inputs),
        spec=f"{TARGET}/target.json",
        exact=f"{TARGET}/samples.npy",
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
