# Baselines beside the one-step generators (wgf.baselines): MALA/ULA/SVGD chains, a reverse-KL
# flow, and generator-kind entries (drifting, score_net, generator_flow); the comparison tables
# and figures.
BASELINE_RULE = dict(
    log=f"results/logs/baseline/{{target}}/{{method}}/seed{{seed}}.log",
    benchmark=f"results/benchmarks/baseline/{{target}}/{{method}}/seed{{seed}}.tsv",
)


rule baseline_sampler:
    """Run one iterative baseline (MALA, ULA, SVGD); score its final states, record its
    quality-versus-budget curve."""
    input:
        spec=f"{TARGET}/target.json",
        exact=f"{TARGET}/samples.npy",
    output:
        samples=f"{BASELINE}/samples.npy",
        metrics=f"{BASELINE}/metrics.json",
        info=f"{BASELINE}/run.json",
        curve=f"{BASELINE}/curve.csv",
    log:
        BASELINE_RULE["log"],
    benchmark:
        BASELINE_RULE["benchmark"]
    wildcard_constraints:
        method=_alternatives(SAMPLER_METHODS),
    retries: 1
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
    params:
        settings=lambda w: baseline_params(w.target, w.method),
        evaluation=SCORING,
        throughput_samples=CONFIG["baselines"]["throughput_samples"],
    script:
        "../scripts/baseline.py"


rule baseline_onestep:
    """Train one one-step baseline (reverse-KL flow, drifting, score_net); score it, time its
    throughput."""
    input:
        spec=f"{TARGET}/target.json",
        exact=f"{TARGET}/samples.npy",
    output:
        samples=f"{BASELINE}/samples.npy",
        metrics=f"{BASELINE}/metrics.json",
        info=f"{BASELINE}/run.json",
        model=f"{BASELINE}/model.pt",
    log:
        BASELINE_RULE["log"],
    benchmark:
        BASELINE_RULE["benchmark"]
    wildcard_constraints:
        method=_alternatives(ONESTEP_METHODS),
    retries: 1
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
    params:
        settings=lambda w: baseline_params(w.target, w.method),
        evaluation=SCORING,
        throughput_samples=CONFIG["baselines"]["throughput_samples"],
    script:
        "../scripts/baseline.py"


rule table_comparison:
    """Every method × target × metric (mean ± std), with MALA's cost and the break-even."""
    input:
        metrics=main_runs("metrics.json"),
        info=main_runs("run.json"),
        baseline_metrics=baseline_runs("metrics.json"),
        baseline_info=baseline_runs("run.json"),
        reference_metrics=expand(f"{REFERENCE}/metrics.json", target=TARGETS),
        reference_info=expand(f"{REFERENCE}/log_z.json", target=TARGETS),
        floors=expand(FLOOR, target=TARGETS),
        curves=baseline_runs(
            "curve.csv", methods=["mala"] if "mala" in BASELINES else []
        ),
    output:
        md="results/tables/comparison.md",
        csv="results/tables/comparison.csv",
        break_even="results/tables/break_even.json",
    log:
        "results/logs/table_comparison.log",
    benchmark:
        "results/benchmarks/table_comparison.tsv"
    conda:
        ENV
    params:
        targets=TARGETS,
        seeds=BASELINE_SEEDS,
        chains=(
            {t: baseline_params(t, "mala").get("chains") for t in TARGETS}
            if "mala" in BASELINES
            else {}
        ),
    script:
        "../scripts/table_comparison.py"


rule figure_mala_cost:
    """MMD against target evaluations per sample: MALA's (and ULA's) curves, the one-step
    methods' levels, the training costs and the break-even."""
    input:
        curves=lambda w: baseline_runs("curve.csv", [w.target], CHAIN_METHODS),
        csv="results/tables/comparison.csv",
        break_even="results/tables/break_even.json",
    output:
        pdf="results/figures/mala_cost_{target}.pdf",
        png="results/figures/mala_cost_{target}.png",
    log:
        "results/logs/figure_mala_cost/{target}.log",
    benchmark:
        "results/benchmarks/figure_mala_cost/{target}.tsv"
    conda:
        ENV
    params:
        methods=CHAIN_METHODS,
        seeds=BASELINE_SEEDS,
        chains=lambda w: {
            m: baseline_params(w.target, m)["chains"] for m in CHAIN_METHODS
        },
    script:
        "../scripts/figure_mala_cost.py"


rule figure_comparison:
    """Samples of every method (figures.comparison.targets), exact samples beside."""
    input:
        spec=f"{TARGET}/target.json",
        exact=f"{TARGET}/samples.npy",
        samples=lambda w: comparison_panels(w.target)[1],
        metrics=lambda w: comparison_panels(w.target)[2],
    output:
        pdf="results/figures/comparison_{target}.pdf",
        png="results/figures/comparison_{target}.png",
    log:
        "results/logs/figure_comparison/{target}.log",
    benchmark:
        "results/benchmarks/figure_comparison/{target}.tsv"
    conda:
        ENV
    params:
        names=lambda w: comparison_panels(w.target)[0],
    script:
        "../scripts/figure_comparison.py"


rule figure_marginals:
    """Every coordinate's marginal of every method (all the grid's generators and baselines)
    against the exact or long-chain sample (figures.marginals.targets)."""
    input:
        spec=f"{TARGET}/target.json",
        exact=f"{TARGET}/samples.npy",
        samples=lambda w: comparison_panels(w.target, DIVERGENCES)[1],
    output:
        pdf="results/figures/marginals_{target}.pdf",
        png=report(
            "results/figures/marginals_{target}.png",
            caption="../report/marginals.rst",
            category="Samples",
            labels={"target": "{target}"},
        ),
    log:
        "results/logs/figure_marginals/{target}.log",
    benchmark:
        "results/benchmarks/figure_marginals/{target}.tsv"
    conda:
        ENV
    params:
        names=lambda w: comparison_panels(w.target, DIVERGENCES)[0],
        reference=sample_label,
    script:
        "../scripts/figure_marginals.py"


rule figure_energy:
    """Every method's energy histogram and its TV against the exact or long-chain sample's, or
    MALA's for a target with neither (figures.energy.targets; null: the user energies).
    """
    input:
        spec=f"{TARGET}/target.json",
        exact=f"{TARGET}/samples.npy",
        samples=lambda w: comparison_panels(w.target, DIVERGENCES)[1],
    output:
        pdf="results/figures/energy_{target}.pdf",
        png=report(
            "results/figures/energy_{target}.png",
            caption="../report/energy.rst",
            category="Samples",
            labels={"target": "{target}"},
        ),
        md="results/tables/energy_{target}.md",
        csv="results/tables/energy_{target}.csv",
    log:
        "results/logs/figure_energy/{target}.log",
    benchmark:
        "results/benchmarks/figure_energy/{target}.tsv"
    conda:
        ENV
    params:
        names=lambda w: comparison_panels(w.target, DIVERGENCES)[0],
        reference=sample_label,
    script:
        "../scripts/figure_energy.py"


rule table_published:
    """A target in the DEM/iDEM protocol: n vs n exact samples, x-W2 by exact OT, mode TV."""
    input:
        spec=f"{TARGET}/target.json",
        samples=lambda w: main_runs("samples.npy", [w.target]),
        info=lambda w: main_runs("run.json", [w.target]),
        baseline_samples=lambda w: baseline_runs("samples.npy", [w.target]),
        baseline_info=lambda w: baseline_runs("run.json", [w.target]),
        reference_samples=f"{REFERENCE}/samples.npy",
        reference_info=f"{REFERENCE}/log_z.json",
        floor=FLOOR,
    output:
        md="results/tables/{target}_published_protocol.md",
        csv="results/tables/{target}_published_protocol.csv",
    log:
        "results/logs/table_published/{target}.log",
    benchmark:
        "results/benchmarks/table_published/{target}.tsv"
    conda:
        ENV
    params:
        n=CONFIG["evaluation"]["published_protocol"]["n"],
    script:
        "../scripts/table_published.py"
