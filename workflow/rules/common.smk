import wgf.config
import wgf.divergences
import wgf.methods

# Validates semantics (divergence names, target densities, user energies) and fills defaults;
# a ConfigError here stops the workflow before any job is scheduled.
CONFIG = wgf.config.prepare(config)
TARGETS = list(CONFIG["targets"])
DIVERGENCES = list(CONFIG["divergences"])
SEEDS = list(CONFIG["seeds"])
# The f-divergences (V = w(r)β) among them: the theory diagnostics concern only these.
F_DIVERGENCES = [
    d for d in DIVERGENCES if wgf.divergences.get_divergence(d).kind == "f"
]
LV_TARGETS, LV_DIVERGENCES, LV_SEEDS = wgf.config.lv_reference_runs(CONFIG)
# Runs the figures need beyond the grid (the LV-reference figure's divergences).
RUN_DIVERGENCES = list(
    dict.fromkeys(DIVERGENCES + (LV_DIVERGENCES if LV_TARGETS else []))
)
RUN = "results/runs/{target}/{divergence}/seed{seed}"
BASELINES = list(CONFIG["baselines"]["methods"])
SAMPLER_METHODS = [m for m in BASELINES if wgf.methods.get_method(m).kind == "sampler"]
ONESTEP_METHODS = [m for m in BASELINES if m not in SAMPLER_METHODS]
ENV = "../../envs/wgf.yaml"


wildcard_constraints:
    target="|".join(TARGETS),
    divergence="|".join(RUN_DIVERGENCES),
    seed=r"\d+",


def train_params(target):
    """The resolved training settings of a target, as plain data (a change reruns its jobs).

    The score network's settings only where it is the estimator, so that runs which do not use
    it keep their parameters (and their results) from before the section existed."""
    params = wgf.config.train_config(CONFIG, target).to_dict()
    if params["estimator"] != "score_net":
        params.pop("score_net")
    return params


def baseline_params(target, method):
    """The resolved settings of baseline ``method`` on ``target`` (a change reruns its jobs)."""
    return wgf.config.baseline_settings(CONFIG, target, method)


def runs(target, name, seeds=None, divergences=None):
    return expand(
        f"{RUN}/{name}",
        target=target,
        divergence=divergences or DIVERGENCES,
        seed=seeds or SEEDS,
    )


def final_outputs():
    mixtures = [t for t in TARGETS if CONFIG["targets"][t].get("kind", t) != "energy"]
    outputs = [
        "results/tables/main.csv",
        "results/tables/main.md",
        "results/tables/reference.md",
        *expand(
            "results/figures/samples_{target}.{ext}", target=TARGETS, ext=["pdf", "png"]
        ),
        *expand("results/figures/training_{target}.pdf", target=TARGETS),
        *expand("results/figures/undercoverage_{target}.pdf", target=mixtures),
    ]
    if F_DIVERGENCES:
        outputs += [
            "results/figures/regional_response.pdf",
            "results/tables/regional_response.md",
        ]
    if "gmm8" in TARGETS and F_DIVERGENCES:
        outputs.append("results/figures/fields_gmm8.pdf")
    if LV_TARGETS:
        outputs.append("results/figures/lv_reference.pdf")
    outputs += ["results/tables/comparison.md", "results/tables/comparison.csv"]
    if "mala" in BASELINES:
        outputs += expand("results/figures/mala_cost_{target}.pdf", target=TARGETS)
    if "gmm8" in TARGETS:
        outputs.append("results/figures/comparison_gmm8.pdf")
    if "gmm40" in TARGETS:
        outputs.append("results/tables/gmm40_published_protocol.md")
    return outputs
