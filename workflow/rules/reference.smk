# The normalizing-flow route (SCIENCE.md §5): a reference flow ν per target, fitted data-free
# before any generator; its log Ẑ (with ESS), and ν as a one-step sampler.


rule reference_flow:
    """Fit ν to the unnormalised target (IW-ML / reverse KL); log Ẑ by importance sampling."""
    input:
        spec=f"{TARGET}/target.json",
    output:
        flow=f"{REFERENCE}/flow.pt",
        log_z=f"{REFERENCE}/log_z.json",
        samples=f"{REFERENCE}/samples.npy",
    log:
        "results/logs/reference_flow/{target}.log",
    benchmark:
        "results/benchmarks/reference_flow/{target}.tsv"
    retries: 1
    conda:
        ENV
    threads: 1
    resources:
        gpu=0,
        mem_mb=4000,
        runtime=30,
    params:
        reference=lambda w: reference_params(w.target),
    script:
        "../scripts/reference_flow.py"


rule evaluate_reference:
    """Score ν's own samples like a generator's (method reference_flow in main.csv)."""
    input:
        flow=f"{REFERENCE}/flow.pt",
        spec=f"{TARGET}/target.json",
        exact=f"{TARGET}/samples.npy",
    output:
        metrics=f"{REFERENCE}/metrics.json",
    log:
        "results/logs/evaluate_reference/{target}.log",
    benchmark:
        "results/benchmarks/evaluate_reference/{target}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
    params:
        evaluation=SCORING,
        throughput_samples=CONFIG["baselines"]["throughput_samples"],
    script:
        "../scripts/evaluate_reference.py"


rule table_reference:
    """log Ẑ − log Z and the ESS of every target's reference flow."""
    input:
        log_z=expand(f"{REFERENCE}/log_z.json", target=TARGETS),
    output:
        md="results/tables/reference.md",
        csv="results/tables/reference.csv",
    log:
        "results/logs/table_reference.log",
    benchmark:
        "results/benchmarks/table_reference.tsv"
    conda:
        ENV
    script:
        "../scripts/table_reference.py"
