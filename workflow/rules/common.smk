# The workflow's plan: the validated config, the runs it asks for, and the input functions of
# every rule. Built from wgf.plan, which loads no torch, so the DAG is built in about a second;
# what needs torch (that every target is a valid density) is checked by the first job.
import wgf.plan

# `--configfile my.yaml` runs exactly my.yaml's grid, over the package defaults: the paper's
# config.yaml is then not read (Snakemake would merge the two, adding the paper's targets and
# settings to the user's). `--config key=value` alone adjusts the paper's config.yaml.
RAW = (
    workflow.config_settings.overwrite_config
    if workflow.config_settings.configfiles
    else config
)
# The schema (workflow/schemas/config.schema.yaml), finite numbers and every name against its
# registry; a ConfigError here names the key and stops the workflow before any job is scheduled.
CONFIG = wgf.plan.prepare(RAW)
TARGETS = list(CONFIG["targets"])
DIVERGENCES = list(CONFIG["divergences"])
SEEDS = list(CONFIG["seeds"])
BASELINE_SEEDS = wgf.plan.baseline_seeds(CONFIG)
F_DIVERGENCES = wgf.plan.f_divergences(CONFIG)
LV_TARGETS, LV_DIVERGENCES, LV_SEEDS = wgf.plan.lv_reference_runs(CONFIG)
LONG_TARGETS, LONG_DIVERGENCES, LONG_SEED = wgf.plan.asymptotics_runs(CONFIG)
RUN_DIVERGENCES = wgf.plan.run_divergences(CONFIG)
BASELINES = list(CONFIG["baselines"]["methods"])
SAMPLER_METHODS = wgf.plan.sampler_methods(CONFIG)
ONESTEP_METHODS = wgf.plan.onestep_methods(CONFIG)
# The chain methods with a quality-versus-budget curve in the MALA-cost figure.
CHAIN_METHODS = [m for m in BASELINES if m in ("mala", "ula")]
FIELDS_TARGETS = wgf.plan.fields_targets(CONFIG)
# Targets scored against long MALA chains instead of exact samples (rule reference_sample).
LONG_CHAIN_TARGETS = wgf.plan.reference_sample_targets(CONFIG)
COMPARISON_TARGETS = wgf.plan.comparison_targets(CONFIG)
MARGINALS_TARGETS = wgf.plan.marginals_targets(CONFIG)
ENERGY_TARGETS = wgf.plan.energy_targets(CONFIG)
PUBLISHED_TARGETS = wgf.plan.published_targets(CONFIG)
REGIONAL = wgf.plan.regional_response_target(CONFIG)
DIAGNOSTICS = CONFIG["diagnostics"]
# What scoring a sample set uses (its change rescores every method).
SCORING = wgf.plan.scoring(CONFIG)
ENV = "../../envs/wgf.yaml"

TARGET = "results/targets/{target}"
RUN = "results/runs/{target}/{divergence}/seed{seed}"
# The long runs of the asymptotics figure (figures.asymptotics), outside the grid.
LONG = "results/asymptotics/{target}/{divergence}/seed{seed}"
REFERENCE = "results/reference/{target}"
LONG_CHAINS = "results/targets/{target}/long_chains"
BASELINE = "results/baselines/{target}/{method}/seed{seed}"
FLOOR = "results/floors/{target}.json"
# The resumable training state: a param, not an output, so that Snakemake's cleanup of a killed
# job's incomplete outputs keeps it; the rerun resumes from it and the script deletes it at the end.
CHECKPOINTS = "results/checkpoints/{target}/{divergence}/seed{seed}/state.pt"
LONG_CHECKPOINTS = (
    "results/checkpoints/asymptotics/{target}/{divergence}/seed{seed}/state.pt"
)
CHECKED = "results/config/checked.json"


wildcard_constraints:
    target="|".join(TARGETS),
    divergence="|".join(RUN_DIVERGENCES),
    seed=r"\d+",


def _alternatives(names):
    """A wildcard regex matching exactly ``names`` (nothing when empty)."""
    return "|".join(names) if names else "(?!)"


def train_params(target):
    return wgf.plan.train_params(CONFIG, target)


def asymptotics_params(target):
    return wgf.plan.asymptotics_params(CONFIG, target)


def reference_params(target):
    return wgf.plan.reference_params(CONFIG, target)


def baseline_params(target, method):
    return wgf.plan.baseline_params(CONFIG, target, method)


def runs(target, name, seeds=None, divergences=None):
    """One file ``name`` of every main-grid run of ``target``: divergence-major, then seed."""
    return expand(
        f"{RUN}/{name}",
        target=target,
        divergence=divergences or DIVERGENCES,
        seed=seeds or SEEDS,
    )


def main_runs(name, targets=None, seeds=None, divergences=None):
    return [m for t in targets or TARGETS for m in runs(t, name, seeds, divergences)]


def baseline_runs(name, targets=None, methods=None, seeds=None):
    """One file ``name`` of every baseline run: target-major, then method, then seed."""
    return expand(
        f"{BASELINE}/{name}",
        target=targets or TARGETS,
        method=BASELINES if methods is None else methods,
        seed=seeds or BASELINE_SEEDS,
    )


def reference_inputs(wildcards):
    """The target's reference flow (rule reference_flow), only for the runs that use it."""
    if wgf.plan.uses_reference(CONFIG, wildcards.target, wildcards.divergence):
        ref = REFERENCE.format(target=wildcards.target)
        return {
            "reference_flow": f"{ref}/flow.pt",
            "reference_log_z": f"{ref}/log_z.json",
        }
    return {}


def long_chain_inputs(wildcards):
    """The target's long-chain reference sample (rule reference_sample), where it has one."""
    if wildcards.target in LONG_CHAIN_TARGETS:
        chains = LONG_CHAINS.format(target=wildcards.target)
        return {"reference": f"{chains}/samples.npy"}
    return {}


def long_chain_floor_inputs(wildcards):
    """The long chains' floor sets and record, where the target has them."""
    if wildcards.target in LONG_CHAIN_TARGETS:
        chains = LONG_CHAINS.format(target=wildcards.target)
        return {
            "floor": f"{chains}/floor.npy",
            "convergence": f"{chains}/convergence.json",
        }
    return {}


def sample_label(wildcards):
    """What a target's evaluation sample is, as the figures name it."""
    return "long-chain reference" if wildcards.target in LONG_CHAIN_TARGETS else "exact"


def comparison_panels(target, divergences=("reverse_kl", "forward_kl")):
    """Panels of the comparison figure: the main grid's generators of ``divergences`` (the
    reverse/forward-KL pair by default), the reference flow ν (a one-step sampler too) and every
    baseline, at seed figures.seed."""
    seed = [CONFIG["figures"]["seed"]]
    divs = [d for d in divergences if d in DIVERGENCES]
    names = [f"generator {d}" for d in divs] + ["reference flow ν"] + list(BASELINES)
    main = lambda name: runs(target, name, seed, divs) if divs else []
    # the baselines at figures.seed where they ran with it, else at their first seed
    bseed = seed if seed[0] in BASELINE_SEEDS else BASELINE_SEEDS[:1]
    nu = REFERENCE.format(target=target)
    paths = main("samples.npy") + [f"{nu}/samples.npy"]
    paths += baseline_runs("samples.npy", [target], seeds=bseed)
    metrics = main("metrics.json") + [f"{nu}/metrics.json"]
    metrics += baseline_runs("metrics.json", [target], seeds=bseed)
    return names, paths, metrics


def final_outputs():
    outputs = [
        CHECKED,
        "results/tables/main.csv",
        "results/tables/main.md",
        "results/tables/reference.md",
        *expand(
            "results/figures/samples_{target}.{ext}", target=TARGETS, ext=["pdf", "png"]
        ),
        *expand("results/figures/training_{target}.pdf", target=TARGETS),
        *expand(
            "results/figures/undercoverage_{target}.pdf",
            target=wgf.plan.undercoverage_targets(CONFIG),
        ),
        *expand("results/figures/fields_{target}.pdf", target=FIELDS_TARGETS),
        "results/tables/comparison.md",
        "results/tables/comparison.csv",
        *expand("results/figures/comparison_{target}.pdf", target=COMPARISON_TARGETS),
        *expand("results/figures/marginals_{target}.pdf", target=MARGINALS_TARGETS),
        *expand("results/figures/energy_{target}.pdf", target=ENERGY_TARGETS),
        *expand(
            "results/tables/{target}_published_protocol.md", target=PUBLISHED_TARGETS
        ),
    ]
    if REGIONAL is not None:
        outputs += [
            "results/figures/regional_response.pdf",
            "results/tables/regional_response.md",
        ]
    if LV_TARGETS:
        outputs.append("results/figures/lv_reference.pdf")
    for t in LONG_TARGETS:
        outputs += [
            f"results/figures/asymptotics_{t}.pdf",
            f"results/tables/asymptotics_{t}.md",
        ]
    if "mala" in BASELINES:
        outputs += expand("results/figures/mala_cost_{target}.pdf", target=TARGETS)
    return outputs
