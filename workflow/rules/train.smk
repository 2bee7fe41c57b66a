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
        monitor_w2=None,
        undercoverage=CONFIG["diagnostics"]["undercoverage"],
        resume_state=lambda w: CHECKPOINTS.format(**w),
    script:
        "../scripts/train.py"


# A long run of one divergence for the asymptotics figure (figures.asymptotics): rule train
# with the target's settings at steps and log_every of its own, W2 monitored too.
use rule train as train_long with:
    output:
        checkpoint=f"{LONG}/generator.pt",
        history=f"{LONG}/history.csv",
        info=f"{LONG}/run.json",
    log:
        f"results/logs/train_long/{{target}}/{{divergence}}/seed{{seed}}.log",
    benchmark:
        f"results/benchmarks/train_long/{{target}}/{{divergence}}/seed{{seed}}.tsv"
    resources:
        gpu=0,
        mem_mb=2000,
        runtime=240,
    params:
        train=lambda w: asymptotics_params(w.target),
        monitor_samples=CONFIG["evaluation"]["monitor_samples"],
        monitor_w2=CONFIG["figures"]["asymptotics"]["w2_samples"],
        undercoverage=None,
        resume_state=lambda w: LONG_CHECKPOINTS.format(**w),
