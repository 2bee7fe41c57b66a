rule check_config:
    """Check what needs torch before any other job: every target builds into a valid density
    and the settings that depend on its dimension or kind fit it (a failure names the key).

    A target of `all` with the highest priority, so it runs first, and no job's input: every
    edge out of it would hide its descendants' own changes from Snakemake (9.x: a job that must
    rerun masks its descendants' rerun checks, and an ancient() edge then skips them; snakemake
    issue #4166), so a changed setting would rerun this job and nothing else.
    """
    output:
        CHECKED,
    log:
        "results/logs/check_config.log",
    benchmark:
        "results/benchmarks/check_config.tsv"
    priority: 100
    conda:
        ENV
    params:
        config=CONFIG,
    script:
        "../scripts/check_config.py"


rule reference_sample:
    """Long MALA chains' reference sample of a target without an exact sampler, its floor's
    sets from other chains, and the convergence record (split-R̂ ≤ reference_sample.rhat_max
    required, bulk ESS): what evaluation scores against in place of exact samples.
    """
    output:
        samples=f"{LONG_CHAINS}/samples.npy",
        floor=f"{LONG_CHAINS}/floor.npy",
        convergence=f"{LONG_CHAINS}/convergence.json",
    log:
        "results/logs/reference_sample/{target}.log",
    benchmark:
        "results/benchmarks/reference_sample/{target}.tsv"
    wildcard_constraints:
        target=_alternatives(LONG_CHAIN_TARGETS),
    conda:
        ENV
    params:
        spec=lambda w: wgf.plan.target_definition(CONFIG, w.target),
        settings=CONFIG["reference_sample"],
        n=CONFIG["target_samples"],
        floor_sets=CONFIG["evaluation"]["floor_draws"],
        floor_n=CONFIG["evaluation"]["n_samples"],
    script:
        "../scripts/reference_sample.py"


rule build_target:
    """Resolve a target's parameters and draw its exact samples (for evaluation only), or take
    its long-chain reference sample.
    """
    input:
        unpack(long_chain_inputs),
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
        spec=lambda w: wgf.plan.target_definition(CONFIG, w.target),
        n=CONFIG["target_samples"],
        seed=CONFIG["evaluation"]["seed"],
    script:
        "../scripts/build_target.py"
