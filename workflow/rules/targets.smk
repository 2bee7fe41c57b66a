rule check_config:
    """Check what needs torch before any other job: every target builds into a valid density
    and the settings that depend on its dimension or kind fit it (a failure names the key).
    """
    output:
        CHECKED,
    log:
        "results/logs/check_config.log",
    benchmark:
        "results/benchmarks/check_config.tsv"
    conda:
        ENV
    params:
        config=CONFIG,
    script:
        "../scripts/check_config.py"


rule build_target:
    """Resolve a target's parameters and draw its exact samples (for evaluation only)."""
    input:
        # Order only: a new check (another target added, a setting changed) reruns no target.
        ancient(CHECKED),
    output:
        spec=f"{TARGET}/target.json",
        samples=f"{TARGET}/samples.npy",
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
