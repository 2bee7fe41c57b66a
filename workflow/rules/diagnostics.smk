# Theory diagnostics (docs/theory.md): regional response, vector fields, under-coverage curves.
# Settings live under `diagnostics:` in the config (defaults in wgf.config.defaults).


rule regional_response:
    """Inflow into the under-covered regions A_κ of a mixture (diagnostics.regional_response.
    target) per f-divergence: measured against w(e^κ)Φ_κ."""
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
        target=REGIONAL,
        settings=DIAGNOSTICS["regional_response"],
        divergences=F_DIVERGENCES,
    script:
        "../scripts/regional_response.py"


rule fields:
    """∇log p, ∇log q̂, β, log r and w(r)β of a trained 2-D generator (the grid's first
    divergence and seed) on a grid, for diagnostics.fields.targets."""
    input:
        spec=f"{TARGET}/target.json",
        checkpoint=lambda w: runs(
            w.target, "generator.pt", SEEDS[:1], DIVERGENCES[:1]
        )[0],
    output:
        npz="results/fields/{target}.npz",
        pdf="results/figures/fields_{target}.pdf",
        png=report(
            "results/figures/fields_{target}.png",
            caption="../report/fields.rst",
            category="Theory",
            labels={"target": "{target}"},
        ),
    log:
        "results/logs/fields/{target}.log",
    benchmark:
        "results/benchmarks/fields/{target}.tsv"
    conda:
        ENV
    threads: 1
    params:
        settings={k: v for k, v in DIAGNOSTICS["fields"].items() if k != "targets"},
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
