rule build_target:
    """Resolve a target's parameters and draw its exact samples (for evaluation only)."""
    output:
        spec="results/targets/{target}/target.json",
        samples="results/targets/{target}/samples.npy",
    log:
        "results/logs/build_target/{target}.log",
    benchmark:
        "results/benchmarks/build_target/{target}.tsv"
    conda:
        ENV
    params:
        spec=lambda w: CONFIG["targets"][w.target],
        n=CONFIG["target_samples"],
        seed=CONFIG["evaluation"]["seed"],
    script:
        "../scripts/build_target.py"
