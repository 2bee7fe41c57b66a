"""The method registry: unknown names are named, by the registry and by the configuration."""

import pytest

from tests.conftest import smoke_raw
from wgf import plan
from wgf.baselines import UnknownMethod, get_method
from wgf.config import ConfigError


def test_unknown_method_names_it():
    with pytest.raises(UnknownMethod, match="'mcmc'"):
        get_method("mcmc")


def test_config_rejects_an_unknown_method_naming_the_key():
    raw = smoke_raw()
    raw["baselines"]["methods"] = ["mala", "mcmc"]
    with pytest.raises(ConfigError, match=r"baselines\.methods\[1\].*'mcmc'"):
        plan.prepare(raw)
