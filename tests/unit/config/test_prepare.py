"""Bad configurations fail in validation, naming the key, before any work is done."""

import pytest

import wgf.config
from wgf.config import (
    ConfigError,
    load_config,
    prepare,
    reference_config,
    train_config,
    uses_reference,
)


def _mixture(**params):
    return {"targets": {"g": {"kind": "mixture", "params": params}}}


def _energy(function, dim=2):
    return {"targets": {"g": {"kind": "energy", "params": {"function": function, "dim": dim}}}}


BAD = [
    ({"divergences": ["kl"]}, "divergences[0]"),
    ({"divergences": ["forward_kl", "alpha_1"]}, "divergences[1]"),
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
        {"targets": {"g": {"kind": "gmm8", "training": {"tau_init": -1}}}},
        "targets.g.training.tau_init",
    ),
    (
        {"targets": {"g": {"kind": "gmm8", "generator": {"latent_dim": 3}}}},
        "targets.g.generator.latent_dim",
    ),
    ({"targets": {"g": {"kind": "gmm8", "colour": "red"}}}, "targets.g"),
    ({"divergences": ["lv", "lvv"]}, "divergences[1]"),
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
    ({"reference": {"proposal_loc": [0.0]}}, "reference.proposal_loc"),
    (
        {"targets": {"g": {"kind": "gmm8", "reference": {"proposal_loc": [0, 0, 0]}}}},
        "targets.g.reference.proposal_loc",
    ),
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


@pytest.mark.parametrize(("raw", "key"), BAD)
def test_bad_config_names_the_key(raw, key):
    with pytest.raises(ConfigError) as info:
        prepare(raw)
    assert key in str(info.value)
    if "targets" in raw and isinstance(raw["targets"], dict) and "g" in raw["targets"]:
        assert "targets.g" in str(info.value)


def test_defaults_and_target_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "targets:\n  gmm8: {}\n  g2:\n    kind: gmm2hard16\n"
        "    generator: {latent_dim: 8}\n    training: {tau_init: 1.0}\n"
    )
    config = load_config(path)
    assert config["seeds"] == [0, 1, 2]
    cfg = train_config(config, "g2")
    assert (cfg.tau_init, cfg.generator.latent_dim, cfg.steps) == (1.0, 8, 1500)
    assert train_config(config, "gmm8").tau_init == 0.5


def test_reference_and_lv_settings():
    config = prepare(
        {
            "divergences": ["js", "lv", "lv_surrogate", "forward_kl"],
            "targets": {
                "gmm8": {},
                "far": {"kind": "gmm40", "reference": {"proposal_scale": 25.0, "seed": 3}},
            },
            "training": {"normaliser": "reference", "lv": {"reference": "q"}},
            "reference": {"steps": 100},
        }
    )
    cfg, seed = reference_config(config, "far")
    assert (cfg.proposal_scale, cfg.steps, seed) == (25.0, 100, 3)
    assert reference_config(config, "gmm8")[0].proposal_scale == 3.0
    assert train_config(config, "gmm8").lv.reference == "q"
    needs = {d: uses_reference(config, "gmm8", d) for d in config["divergences"]}
    assert needs == {"js": True, "lv": False, "lv_surrogate": False, "forward_kl": False}
    assert uses_reference(prepare({}), "gmm8", "lv")  # default: mixture of flow and q
    assert not uses_reference(prepare({}), "gmm8", "js")  # default: batch normaliser


def test_repository_configs_are_valid():
    for path in ("config.yaml", "tests/smoke/config.yaml"):
        load_config(path)


def test_lv_reference_figure_settings_and_labels():
    config = prepare({"targets": {"gmm8": {}, "gmm40": {}}, "seeds": [3, 4]})
    targets, divergences, seeds = wgf.config.lv_reference_runs(config)
    assert targets == ["gmm8"] and seeds == [3, 4]  # gmm2hard16 is not configured
    assert divergences[0] == "reverse_kl" and "lv" in divergences
    assert wgf.config.run_label(config, "gmm8", "lv") == "log-variance, ν = 0.5 flow + 0.5 q"
    assert wgf.config.run_label(config, "gmm8", "lv_q") == "log-variance, ν = q"
    with pytest.raises(ConfigError, match=r"figures\.lv_reference\.divergences\[1\]"):
        prepare({"figures": {"lv_reference": {"divergences": ["reverse_kl", "lv_bogus"]}}})
