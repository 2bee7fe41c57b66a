"""The workflow's plan: torch-free, every name and number checked, settings as the package
resolves them."""

import math
import subprocess
import sys

import pytest
import yaml

from wgf import plan
from wgf.config import ConfigError
from wgf.divergences import DIVERGENCES, LV_DIVERGENCES, get_divergence
from wgf.training import TrainConfig, train_config


def test_building_the_plan_imports_no_torch():
    code = (
        "import sys, wgf.plan as p; c = p.load('config.yaml'); ts = c['targets'];"
        "[p.baseline_params(c, t, m) for t in ts for m in c['baselines']['methods']];"
        "[p.uses_reference(c, t, d) for t in ts for d in c['divergences']];"
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (
            "targets: {g: {kind: mixture, params: {means: [[0, .nan]], stds: 1}}}",
            "targets.g.params.means[0][1]",
        ),
        ("training: {lr: .inf}", "training.lr"),
        (
            "targets: {g: {kind: mixture, params: {means: [[0, 0]], stds: [-.inf]}}}",
            "targets.g.params.stds[0]",
        ),
    ],
)
def test_non_finite_numbers_fail_naming_the_key(text, key):
    with pytest.raises(ConfigError) as err:
        plan.prepare(yaml.safe_load(text))
    assert f"config key '{key}': " in str(err.value) and "is not a finite number" in str(err.value)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"divergences": ["kl"]}, "divergences[0]"),
        (
            {"figures": {"lv_reference": {"divergences": ["lv", "nope"]}}},
            "figures.lv_reference.divergences[1]",
        ),
        ({"baselines": {"methods": ["mala", "hmc"]}}, "baselines.methods[1]"),
        (
            {"baselines": {"generator": {"full_steps": ["mala"]}}},
            "baselines.generator.full_steps[0]",
        ),
        ({"training": {"estimator": "magic"}}, "training.estimator"),
    ],
)
def test_unknown_names_fail_naming_the_key(raw, key):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        plan.prepare(raw)


def test_train_params_are_the_training_settings():
    config = plan.load("tests/smoke/config.yaml")
    for target in config["targets"]:
        params = plan.train_params(config, target)
        resolved = train_config(config, target).to_dict()
        resolved.pop("score_net")  # only where the score network is the estimator
        assert params == resolved


@pytest.mark.parametrize("normaliser", ["batch", "reference"])
@pytest.mark.parametrize("lv_reference", ["q", "flow", "mixture"])
def test_uses_reference_agrees_with_the_training_settings(normaliser, lv_reference):
    raw = {"training": {"normaliser": normaliser, "lv": {"reference": lv_reference}}}
    config = plan.prepare(raw)
    cfg = train_config(config, "gmm8")
    for name in [*DIVERGENCES, *LV_DIVERGENCES]:
        assert plan.uses_reference(config, "gmm8", name) == cfg.uses_reference(get_divergence(name))
    assert plan.uses_reference(config, "gmm8", "js") == (normaliser == "reference")
    assert plan.uses_reference(config, "gmm8", "lv_q") is False


def test_baseline_params_resolve_each_kind():
    config = plan.load("tests/smoke/config.yaml")
    mala = plan.baseline_params(config, "gmm8", "mala")
    assert mala["chains"] == config["evaluation"]["n_samples"]  # chains: null
    assert mala["init_scale"] == 2.0
    ula = plan.baseline_params(config, "gmm8", "ula")
    assert ula["tune"] == {k: mala[k] for k in ("burn_in", "step_size", "target_accept")}
    flow = plan.baseline_params(config, "gmm2hard16", "flow_reverse_kl")["flow"]
    assert flow["method"] == "reverse_kl" and "seed" not in flow
    assert flow["layers"] == config["baselines"]["flow"]["layers"]  # baselines.flow on top
    assert flow["proposal_scale"] == 2.0  # of the target's own reference settings
    gen = plan.baseline_params(config, "gmm8", "drifting")["training"]
    assert gen == TrainConfig.from_dict(gen).to_dict()  # every training key, resolvable


def test_run_label_spells_out_the_lv_reference():
    config = plan.prepare({"training": {"lv": {"reference": "mixture", "mix": 0.25}}})
    assert plan.run_label(config, "gmm8", "lv") == "log-variance, ν = 0.25 flow + 0.75 q"
    assert plan.run_label(config, "gmm8", "reverse_kl") == "reverse KL"


def test_optional_outputs_cover_only_configured_targets():
    config = plan.prepare(
        {
            "targets": {
                "ring": {"kind": "mixture", "params": {"means": [[0, 1], [1, 0]], "stds": 0.2}}
            },
            "diagnostics": {"fields": {"targets": ["gmm8", "ring"]}},
            "figures": {"comparison": {"targets": ["ring"]}},
        }
    )
    assert plan.fields_targets(config) == ["ring"]
    assert plan.comparison_targets(config) == ["ring"]
    assert plan.published_targets(config) == []  # gmm40 is not configured
    assert plan.regional_response_target(config) == ("gmm8", {})  # the built-in
    assert not math.isnan(config["diagnostics"]["regional_response"]["lim"])
    assert plan.marginals_targets(config) == []  # none of the defaults is configured
    assert plan.energy_targets(config) == []  # null: the kind-energy targets, and there is none
    config = plan.prepare(
        {
            "targets": {
                "mine": {"kind": "energy", "params": {"function": "m:f", "dim": 3}},
                "funnel10": {"training": {"steps": 5}, "reference": {"steps": 7}},
            },
            "figures": {"marginals": {"targets": ["funnel10", "gmm8"]}},
        }
    )
    assert plan.energy_targets(config) == ["mine"]
    assert plan.marginals_targets(config) == ["funnel10"]
    config["figures"]["energy"]["targets"] = ["funnel10", "gmm40"]
    assert plan.energy_targets(config) == ["funnel10"]


def test_a_targets_definition_leaves_out_its_settings():
    """What build_target and reference_sample see: a training or reference-flow setting of the
    target changes neither (no rerun of its samples or long chains)."""
    spec = {"kind": "funnel", "params": {"dim": 4}, "training": {"steps": 5}, "reference": {}}
    config = {"targets": {"f": spec, "funnel10": {"generator": {"init_scale": 3.0}}}}
    assert plan.target_definition(config, "f") == {"kind": "funnel", "params": {"dim": 4}}
    assert plan.target_definition(config, "funnel10") == {}


def test_asymptotics_runs_stretch_the_targets_settings():
    config = plan.prepare(
        {
            "divergences": ["forward_kl", "pearson"],
            "targets": {"gmm8": {"training": {"lr": 2e-3}}},
            "figures": {"asymptotics": {"targets": ["gmm8", "gmm40"], "steps": 900}},
        }
    )
    assert plan.asymptotics_runs(config) == (["gmm8"], ["forward_kl", "pearson"], 0)
    params = plan.asymptotics_params(config, "gmm8")
    assert (params["steps"], params["log_every"], params["lr"]) == (900, 250, 2e-3)
    assert {**params, "steps": 1500, "log_every": 50} == plan.train_params(config, "gmm8")
    longer = plan.prepare({"figures": {"asymptotics": {"divergences": ["alpha_0.5"]}}})
    assert plan.run_divergences(longer)[-1] == "alpha_0.5"
    with pytest.raises(ConfigError, match=r"figures\.asymptotics\.divergences\[0\]"):
        plan.prepare({"figures": {"asymptotics": {"divergences": ["kl"]}}})


def test_mixture_kinds_are_the_kinds_that_build_a_mixture():
    """The plan's torch-free list against the registry: each built-in kind built with its
    defaults (a user's mixture with two means) is a Gaussian mixture exactly when listed; an
    energy, the funnel, the many-well and the logistic regression have no under-coverage figure."""
    from wgf.targets import TARGETS, GaussianMixture, build_target

    params = {"mixture": {"means": [[0.0, 0.0], [1.0, 1.0]], "stds": 1.0}, "energy": None}
    for kind in TARGETS:
        if kind == "energy":
            assert kind not in plan.MIXTURE_KINDS
            continue
        target = build_target(kind, {"params": params.get(kind)})
        assert isinstance(target, GaussianMixture) == (kind in plan.MIXTURE_KINDS), kind
    config = plan.load("config.yaml")
    config["targets"] = {"funnel10": {}, "gmm8": {}, "cancer": {"kind": "logreg_cancer"}}
    assert plan.undercoverage_targets(config) == ["gmm8"]
