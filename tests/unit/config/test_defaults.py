"""One source of defaults: the settings dataclasses, config.yaml and the schema agree with
``wgf.config.DEFAULTS``; the registries and the names the schema enumerates agree."""

from dataclasses import asdict
from typing import Any

import yaml

from tests.conftest import REPO
from wgf.baselines import METHODS
from wgf.baselines.run import CHAIN_RUNNERS
from wgf.config import DEFAULTS, prepare, resolve, schema
from wgf.density.estimators import ESTIMATORS
from wgf.reference import ReferenceConfig
from wgf.training import TrainConfig


def contradictions(stated: Any, default: Any, key: str = "") -> list[str]:
    """Keys of ``stated`` whose value differs from (or is absent in) ``default``."""
    if isinstance(stated, dict):
        if not isinstance(default, dict):
            return [f"{key}: a section where the default is {default!r}"]
        out = []
        for k, v in stated.items():
            if k not in default:
                out.append(f"{key}.{k}: no such default")
            else:
                out += contradictions(v, default[k], f"{key}.{k}".lstrip("."))
        return out
    return [] if stated == default else [f"{key}: {stated!r} where the default is {default!r}"]


def test_train_config_defaults_are_the_config_defaults():
    assert TrainConfig().to_dict() == resolve.training(prepare({}), "gmm8")


def test_reference_config_defaults_are_the_config_defaults():
    expected = {k: v for k, v in DEFAULTS["reference"].items() if k != "seed"}
    assert asdict(ReferenceConfig()) == expected


def test_long_chain_settings_defaults_are_the_config_defaults():
    from wgf.baselines.long_chains import LongChainSettings

    expected = {k: v for k, v in DEFAULTS["reference_sample"].items() if k != "targets"}
    assert asdict(LongChainSettings()) == expected


def test_config_yaml_states_no_setting_that_contradicts_the_defaults():
    """config.yaml holds the paper's grid; every other key it states is the default itself."""
    stated = yaml.safe_load((REPO / "config.yaml").read_text())
    stated.pop("targets")  # the grid, with its per-target settings
    assert contradictions(stated, DEFAULTS) == []


def test_the_contradiction_check_catches_one():
    assert contradictions({"training": {"steps": 1499}}, DEFAULTS) == [
        "training.steps: 1499 where the default is 1500"
    ]
    assert contradictions({"trainin": {}}, DEFAULTS) == [".trainin: no such default"]


def test_the_defaults_pass_the_schema_unchanged():
    assert prepare(DEFAULTS) == DEFAULTS


def test_schema_enumerates_the_estimator_registry():
    training = schema()["$defs"]["training"]["properties"]
    assert training["estimator"]["enum"] == list(ESTIMATORS)


def test_every_sampler_method_has_its_chain_runner():
    samplers = {name for name, m in METHODS.items() if m.kind == "sampler"}
    assert samplers == set(CHAIN_RUNNERS)
    assert {m.kind for m in METHODS.values()} <= {"sampler", "flow", "generator"}
    assert all(m.name == name for name, m in METHODS.items())
