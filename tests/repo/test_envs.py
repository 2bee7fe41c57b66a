"""Every conda environment under envs/ pins exactly the package's runtime dependencies."""

import tomllib

import yaml

from tests.conftest import REPO


def _pins(requirements: list[str]) -> dict[str, str]:
    out = {}
    for req in requirements:
        name, sep, version = req.partition("==")
        if sep:
            out[name.strip().lower()] = version.strip()
    return out


def test_envs_match_pyproject_pins():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = _pins(project["dependencies"])
    assert len(runtime) == len(project["dependencies"]), "every runtime dependency is pinned"
    envs = sorted((REPO / "envs").glob("*.yaml"))
    assert envs
    for env in envs:
        deps = yaml.safe_load(env.read_text())["dependencies"]
        pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
        pinned = _pins([p for p in pip if not p.startswith("-e")])
        assert pinned == runtime, env.name
        assert any(p.startswith("-e") for p in pip), f"{env.name} must install the wgf package"
