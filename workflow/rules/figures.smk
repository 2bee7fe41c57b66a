rule figure_samples:
    """One panel per divergence over the target's density (seed given by figures.seed)."""
    input:
        spec=f"{TARGET}/target.json",
        exact=f"{TARGET}/samples.npy",
        samples=lambda w: runs(
            w.target, "samples.npy", seeds=[CONFIG["figures"]["seed"]]
        ),
        metrics=lambda w: runs(
            w.target, "metrics.json", seeds=[CONFIG["figures"]["seed"]]
        ),
    output:
        pdf="results/figures/samples_{target}.pdf",
        png=report(
            "results/figures/samples_{target}.png",
            caption="../report/samples.rst",
            category="Samples",
            labels={"target": "{target}"},
        ),
    log:
        "results/logs/figure_samples/{target}.log",
    benchmark:
        "results/benchmarks/figure_samples/{target}.tsv"
    conda:
        ENV
    params:
        divergences=DIVERGENCES,
    script:
        "../scripts/figure_samples.py"


rule figure_training:
    """Monitored metric against step, one line per divergence (mean and range over seeds)."""
    input:
        histories=lambda w: runs(w.target, "history.csv"),
    output:
        pdf="results/figures/training_{target}.pdf",
        png=report(
            "results/figures/training_{target}.png",
            caption="../report/training.rst",
            category="Training",
            labels={"target": "{target}"},
        ),
    log:
        "results/logs/figure_training/{target}.log",
    benchmark:
        "results/benchmarks/figure_training/{target}.tsv"
    conda:
        ENV
    params:
        divergences=DIVERGENCES,
        seeds=SEEDS,
        metric=CONFIG["figures"]["monitor_metric"],
    script:
        "../scripts/figure_training.py"


rule figure_lv_reference:
    """LV with each reference ν (q, flow, mixture) beside reverse KL (figures.lv_reference)."""
    input:
        specs=expand(f"{TARGET}/target.json", target=LV_TARGETS),
        exact=expand(f"{TARGET}/samples.npy", target=LV_TARGETS),
        samples=[
            f
            for t in LV_TARGETS
            for f in runs(t, "samples.npy", LV_SEEDS[:1], LV_DIVERGENCES)
        ],
        metrics=[
            f
            for t in LV_TARGETS
            for f in runs(t, "metrics.json", LV_SEEDS, LV_DIVERGENCES)
        ],
    output:
        pdf="results/figures/lv_reference.pdf",
        png=report(
            "results/figures/lv_reference.png",
            caption="../report/lv_reference.rst",
            category="Samples",
            labels={"target": "LV references"},
        ),
    log:
        "results/logs/figure_lv_reference.log",
    benchmark:
        "results/benchmarks/figure_lv_reference.tsv"
    conda:
        ENV
    params:
        targets=LV_TARGETS,
        divergences=LV_DIVERGENCES,
        labels={
            t: {d: wgf.plan.run_label(CONFIG, t, d) for d in LV_DIVERGENCES}
            for t in LV_TARGETS
        },
        seeds=LV_SEEDS,
    script:
        "../scripts/figure_lv_reference.py"


rule asymptotics:
    """Long runs of every divergence on one target (figures.asymptotics): MMD, W2 and the
    mode-weight error against step with the floor, and the table of where each ends."""
    input:
        spec=f"{TARGET}/target.json",
        exact=f"{TARGET}/samples.npy",
        histories=expand(
            f"{LONG}/history.csv",
            divergence=LONG_DIVERGENCES,
            seed=LONG_SEED,
            allow_missing=True,
        ),
    output:
        pdf="results/figures/asymptotics_{target}.pdf",
        png=report(
            "results/figures/asymptotics_{target}.png",
            caption="../report/asymptotics.rst",
            category="Training",
            labels={"target": "{target}"},
        ),
        csv="results/tables/asymptotics_{target}.csv",
        md="results/tables/asymptotics_{target}.md",
    log:
        "results/logs/asymptotics/{target}.log",
    benchmark:
        "results/benchmarks/asymptotics/{target}.tsv"
    conda:
        ENV
    params:
        divergences=LONG_DIVERGENCES,
        spec=CONFIG["figures"]["asymptotics"],
        monitor_samples=CONFIG["evaluation"]["monitor_samples"],
        grid_steps=lambda w: train_params(w.target)["steps"],
        evaluation_seed=CONFIG["evaluation"]["seed"],
    script:
        "../scripts/asymptotics.py"
