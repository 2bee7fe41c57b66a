rule evaluate:
    """Draw samples from a trained generator (one forward pass) and score them."""
    input:
        checkpoint=f"{RUN}/generator.pt",
        spec=f"{TARGET}/target.json",
        exact=f"{TARGET}/samples.npy",
    output:
        samples=f"{RUN}/samples.npy",
        metrics=f"{RUN}/metrics.json",
    log:
        f"results/logs/evaluate/{{target}}/{{divergence}}/seed{{seed}}.log",
    benchmark:
        f"results/benchmarks/evaluate/{{target}}/{{divergence}}/seed{{seed}}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
    params:
        evaluation=SCORING,
        throughput_samples=CONFIG["baselines"]["throughput_samples"],
    script:
        "../scripts/evaluate.py"


rule exact_floor:
    """The floor of every metric: independent exact sample sets of the generated sets' size,
    scored against the exact samples like a sampler's (and in the published protocol).
    """
    input:
        unpack(long_chain_floor_inputs),
        spec=f"{TARGET}/target.json",
        exact=f"{TARGET}/samples.npy",
    output:
        FLOOR,
    log:
        "results/logs/exact_floor/{target}.log",
    benchmark:
        "results/benchmarks/exact_floor/{target}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
    params:
        evaluation=SCORING,
        draws=CONFIG["evaluation"]["floor_draws"],
        n=CONFIG["evaluation"]["published_protocol"]["n"],
    script:
        "../scripts/exact_floor.py"


rule table_main:
    """Long table of every metric of every run (generators, the reference flows, the baselines;
    clock timings apart, in timings.csv), and its mean ± std summary over seeds."""
    input:
        metrics=main_runs("metrics.json"),
        info=main_runs("run.json"),
        reference_metrics=expand(f"{REFERENCE}/metrics.json", target=TARGETS),
        reference_info=expand(f"{REFERENCE}/log_z.json", target=TARGETS),
        baseline_metrics=baseline_runs("metrics.json"),
        baseline_info=baseline_runs("run.json"),
        floors=expand(FLOOR, target=TARGETS),
    output:
        csv=report(
            "results/tables/main.csv",
            caption="../report/table.rst",
            category="Tables",
            labels={"table": "main (long)"},
        ),
        md="results/tables/main.md",
        timings="results/tables/timings.csv",
    log:
        "results/logs/table_main.log",
    benchmark:
        "results/benchmarks/table_main.tsv"
    conda:
        ENV
    script:
        "../scripts/table_main.py"
