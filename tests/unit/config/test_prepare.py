"""Bad configurations fail in validation, naming the key, before any work is done.

Three layers check a configuration, each before anything that needs it runs: its structure
(:func:`wgf.config.prepare`: the schema, finite numbers, no torch), its names against the
registries (:func:`wgf.plan.prepare`: divergences, methods, no torch) and what needs torch
(:func:`wgf.jobs.check_config`, the workflow's first job: every target builds into a valid
density, settings that depend on a target's dimension fit it). Each bad case below fails in its
own layer and passes the layers before it.
"""

import pytest

import wgf.config
from wgf import jobs, plan
from wgf.config import ConfigError


def _mixture(**params):
    return {"targets": {"g": {"kind": "mixture", "params": params}}}


def _energy(function, dim=2):
    return {"targets": {"g": {"kind": "energy", "params": {"function": function, "dim": dim}}}}


# Structure: the schema (types, ranges, enums, unknown keys).
STRUCTURE = [
    ({"training": {"tau_init": -0.5}}, "training.tau_init"),
    ({"training": {"tau_init": 0}}, "training.tau_init"),
    ({"training": {"stepz": 10}}, "stepz"),
    ({"trainin": {}}, "trainin"),
    ({"training": {"steps": "many"}}, "training.steps"),
    ({"training": {"kernel": "cosine"}}, "training.kernel"),
    ({"training": {"estimator": "magic"}}, "training.estimator"),
    ({"generator": {"latent_dim": 0}}, "generator.latent_dim"),
    ({"seeds": []}, "seeds"),
    (
        {"targets": {"g": {"kind": "gmm8", "training": {"tau_init": -1}}}},
        "targets.g.training.tau_init",
    ),
    ({"targets": {"g": {"kind": "gmm8", "colour": "red"}}}, "targets.g"),
    ({"training": {"normaliser": "flow"}}, "training.normaliser"),
    ({"training": {"lv": {"reference": "nu"}}}, "training.lv.reference"),
    ({"training": {"lv": {"gamma": 2}}}, "training.lv.gamma"),
    ({"training": {"lv": {"lambda": 0.5}}}, "training.lv"),
    ({"training": {"estimator": "flows"}}, "training.estimator"),
    (
        {"training": {"flow_estimator": {"architecture": "realnvp"}}},
        "training.flow_estimator.architecture",
    ),
    ({"training": {"flow_estimator": {"steps": -1}}}, "training.flow_estimator.steps"),
    ({"reference": {"method": "magic"}}, "reference.method"),
    ({"reference": {"architecture": "realnvp"}}, "reference.architecture"),
    ({"reference": {"proposal_scale": 0}}, "reference.proposal_scale"),
    ({"reference": {"temper_start": 0}}, "reference.temper_start"),
    ({"reference": {"stepz": 10}}, "stepz"),
    ({"targets": {"g": {"kind": "gmm8", "reference": {"bins": 1}}}}, "targets.g.reference.bins"),
    # The bad-input catalogue of the reliability issue, beyond the cases above.
    ({"generator": {"width": 3}}, "width"),
    ({"seeds": "0"}, "seeds"),
    ({"seeds": [0, "one"]}, "seeds[1]"),
    ({"training": {"lr": "fast"}}, "training.lr"),
    ({"generator": {"hidden": 1.5}}, "generator.hidden"),
    ({"targets": ["gmm8"]}, "targets"),
    ({"training": {"checkpoint_every": -1}}, "training.checkpoint_every"),
    ({"diagnostics": {"fields": {"tau": 0}}}, "diagnostics.fields.tau"),
    ({"targets": {"g": {"kind": "gmm8", "training": {"tau_init": 0}}}}, "targets.g.training"),
]

# Names: every divergence against the registry.
NAMES = [
    ({"divergences": ["kl"]}, "divergences[0]"),
    ({"divergences": ["forward_kl", "alpha_1"]}, "divergences[1]"),
    ({"divergences": ["lv", "lvv"]}, "divergences[1]"),
    (
        {"figures": {"lv_reference": {"divergences": ["reverse_kl", "lv_bogus"]}}},
        "figures.lv_reference.divergences[1]",
    ),
]

# Torch: the targets themselves, and the settings that depend on a target's dimension.
TARGETS = [
    (
        {
            "targets": {
                "g": {
                    "kind": "mixture",
                    "params": {"means": [[0, 0], [1, 1]], "stds": 1, "weights": [0.5, 0.6]},
                }
            }
        },
        "targets.g",
    ),
    (
        {
            "targets": {
                "g": {"kind": "mixture", "params": {"means": [[0, 0]], "covs": [[[1, 2], [2, 1]]]}}
            }
        },
        "targets.g",
    ),
    (
        {"targets": {"g": {"kind": "energy", "params": {"function": "nope:f", "dim": 2}}}},
        "targets.g",
    ),
    (
        {
            "targets": {
                "g": {
                    "kind": "energy",
                    "params": {"function": "tests.energies:always_nan", "dim": 2},
                }
            }
        },
        "targets.g",
    ),
    (
        {"targets": {"g": {"kind": "gmm8", "generator": {"latent_dim": 3}}}},
        "targets.g.generator.latent_dim",
    ),
    (
        {
            "targets": {
                "e": {
                    "kind": "energy",
                    "params": {"function": "tests.energies:quadratic", "dim": 3},
                }
            },
            "figures": {"marginals": {"targets": ["e"]}},
        },
        "figures.marginals.targets[0]",
    ),
    ({"reference": {"proposal_loc": [0.0]}}, "reference.proposal_loc"),
    (
        {"targets": {"g": {"kind": "gmm8", "reference": {"proposal_loc": [0, 0, 0]}}}},
        "targets.g.reference.proposal_loc",
    ),
    (_mixture(means=[[0, 0], [1, 1]], stds=1, weights=[1.5, -0.5]), "non-negative"),
    (_mixture(means=[[0, 0]], stds=0), "positive"),
    (_mixture(means=[[0, 0]], stds=-1.0), "positive"),
    (_mixture(means=[[0, 0]], covs=[[[1, 0], [0, -1]]]), "positive definite"),
    (_mixture(means=[[0, 0]], covs=[[[1, 0.5], [0.4, 1]]]), "symmetric"),
    (_energy("tests.energies:no_such_energy"), "no_such_energy"),
    (_energy("tests.no_such_module:f"), "no_such_module"),
    (_energy("tests.energies"), "module:function"),
    (_energy("tests.energies:wrong_shape"), "shape"),
    (_energy("tests.energies:always_nan"), "not finite"),
    (_energy("tests.energies:quadratic", dim=0), "dim"),
]


def _assert_names_the_key(raw, key, check) -> None:
    with pytest.raises(ConfigError) as info:
        check()
    assert key in str(info.value)
    if "targets" in raw and isinstance(raw["targets"], dict) and "g" in raw["targets"]:
        assert "targets.g" in str(info.value)


@pytest.mark.parametrize(("raw", "key"), STRUCTURE)
def test_bad_structure_names_the_key(raw, key):
    _assert_names_the_key(raw, key, lambda: wgf.config.prepare(raw))
    _assert_names_the_key(raw, key, lambda: plan.prepare(raw))


@pytest.mark.parametrize(("raw", "key"), NAMES)
def test_unknown_name_names_the_key(raw, key):
    wgf.config.prepare(raw)  # the structure is fine
    _assert_names_the_key(raw, key, lambda: plan.prepare(raw))


@pytest.mark.parametrize(("raw", "key"), TARGETS)
def test_bad_target_names_the_key(raw, key):
    config = plan.prepare(raw)  # structure and names are fine: only torch can tell
    _assert_names_the_key(raw, key, lambda: jobs.check_config(config))


def test_repository_configs_are_valid():
    for path in ("config.yaml", "config_extended.yaml", "tests/smoke/config.yaml"):
        jobs.check_config(plan.load(path))
