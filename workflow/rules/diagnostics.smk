# Theory diagnostics (docs/theory.md): regional response, vector fields, under-coverage curves.
# Settings live under `diagnostics:` in the config (defaults in wgf.config.DEFAULTS).
DIAGNOSTICS = CONFIG["diagnostics"]


rule regional_response:
    """Inflow into under-covered regions A_κ of gmm8 per divergence: measured vs w(e^κ)Φ_κ."""
    output:
        pdf="results/figures/regional_response.pdf",
        png=report(
            "results/figures/regional_response.png",
            caption="../report/regional_response.rst",
            category="Theory",
        ),
        csv="results/tables/regional_response.csv",
        md="results/tables/regional_response.md",
    log:
        "results/logs/regional_response/regional_response.log",
    benchmark:
        "results/benchmarks/regional_response/regional_response.tsv"
    conda:
        ENV
    threads: 1
    params:
        settings=DIAGNOSTICS["regional_response"],
        divergences=F_DIVERGENCES,
    script:
        "../scripts/regional_response.py"


rule fields:
    """∇log p, ∇log q̂, β, log r and w(r)β of a trained gmm8 generator on a grid."""
    input:
        spec="results/targets/gmm8/target.json",
        checkpoint=runs(
            "gmm8", "generator.pt", seeds=SEEDS[:1], divergences=DIVERGENCES[:1]
        )[0],
    output:
        npz="results/fields/gmm8.npz",
        pdf="results/figures/fields_gmm8.pdf",
        png=report(
            "results/figures/fields_gmm8.png",
            caption="../report/fields.rst",
            category="Theory",
        ),
    log:
        "results/logs/fields/gmm8.log",
    benchmark:
        "results/benchmarks/fields/gmm8.tsv"
    conda:
        ENV
    threads: 1
    params:
        settings=DIAGNOSTICS["fields"],
        divergences=F_DIVERGENCES,
    script:
        "../scripts/fields.py"


rule undercoverage:
    """Soft under-coverage U_s against training step, one line per divergence."""
    input:
        histories=lambda w: runs(w.target, "history.csv"),
    output:
        pdf="results/figures/undercoverage_{target}.pdf",
        png=report(
            "results/figures/undercoverage_{target}.png",
            caption="../report/undercoverage.rst",
            category="Training",
            labels={"target": "{target}"},
        ),
    log:
        "results/logs/undercoverage/{target}.log",
    benchmark:
        "results/benchmarks/undercoverage/{target}.tsv"
    conda:
        ENV
    params:
        divergences=DIVERGENCES,
        seeds=SEEDS,
    script:
        "../scripts/figure_undercoverage.py"
