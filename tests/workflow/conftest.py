"""One small real run shared by the determinism and SLURM tests: the smoke settings on gmm8 with
two divergences, one seed, MALA and the reverse-KL flow (every kind of row of main.csv), built
for main.csv and the gmm8 figures. The determinism test reruns it locally, the SLURM test
through SLURM; both compare main.csv with this run's byte for byte."""

from pathlib import Path
from typing import NamedTuple

import pytest
import yaml

from tests.conftest import smoke_raw, snakemake

SMALL_TARGETS = (
    "results/tables/main.csv",
    "results/figures/samples_gmm8.pdf",
    "results/figures/training_gmm8.pdf",
)


def small_config(path: Path) -> Path:
    """Write the small config to ``path`` and return it."""
    config = smoke_raw()
    config.update(seeds=[0], divergences=["reverse_kl", "forward_kl"], targets={"gmm8": {}})
    config["training"]["steps"] = 20
    config["figures"]["lv_reference"]["targets"] = []  # no extra LV runs
    config["baselines"]["methods"] = ["mala", "flow_reverse_kl"]
    path.write_text(yaml.safe_dump(config))
    return path


class SmallRun(NamedTuple):
    config: Path  # the config file
    targets: tuple[str, ...]  # what the run built
    workdir: Path  # the local run's working directory


@pytest.fixture(scope="session")
def small_run(tmp_path_factory) -> SmallRun:
    """The small config run locally (``--cores 2``) for :data:`SMALL_TARGETS`."""
    root = tmp_path_factory.mktemp("small")
    config = small_config(root / "small.yaml")
    work = root / "local"
    work.mkdir()
    done = snakemake(work, "--cores", "2", *SMALL_TARGETS, config=config)
    assert done.returncode == 0, done.stderr[-3000:]
    return SmallRun(config, SMALL_TARGETS, work)
