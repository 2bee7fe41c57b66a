"""The extended benchmark's targets through the real workflow at smoke size: the funnel and the
many-well scored against exact samples with their own metrics, the logistic regression against
long MALA chains (rule reference_sample) with the tables saying so."""

import csv
import json
import math

import pytest
import yaml

from tests.conftest import REPO, snakemake

pytestmark = pytest.mark.slow


def test_extended_targets_run_every_rule(tmp_path):
    config = yaml.safe_load((REPO / "tests/smoke/extended.yaml").read_text())
    config["divergences"] = ["forward_kl"]
    config["baselines"]["methods"] = ["mala"]
    path = tmp_path / "extended.yaml"
    path.write_text(yaml.safe_dump(config))
    done = snakemake(tmp_path, "--cores", "2", config=path)
    assert done.returncode == 0, done.stderr[-4000:]

    chains = json.loads(
        (tmp_path / "results/targets/logreg_cancer/long_chains/convergence.json").read_text()
    )
    assert chains["rhat_max"] <= config["reference_sample"]["rhat_max"]
    assert len(chains["rhat"]) == len(chains["ess_bulk"]) == 31
    rows = list(csv.DictReader(open(tmp_path / "results/tables/main.csv")))
    value = {(r["target"], r["method"], r["metric"]): float(r["value"]) for r in rows}
    for target in ("funnel10", "manywell32", "logreg_cancer"):
        for method in ("generator_kde", "mala", "exact_vs_exact"):
            for metric in ("ksd", "mmd_median", "mean_error_max", "std_error_max", "energy_tv"):
                assert math.isfinite(value[(target, method, metric)]), (target, method, metric)
    assert 0 <= value[("funnel10", "exact_vs_exact", "neck_fraction")] <= 1
    assert math.isfinite(value[("funnel10", "mala", "neck_w1")])
    assert value[("manywell32", "exact_vs_exact", "well_weight_error_max")] < 0.1
    main_md = (tmp_path / "results/tables/main.md").read_text()
    logreg = main_md.split("## logreg_cancer")[1]
    assert "long MALA chains" in logreg and "reference against reference" in logreg
    assert "long MALA chains" not in main_md.split("## logreg_cancer")[0]
    for target in ("funnel10", "manywell32", "logreg_cancer"):
        assert (tmp_path / f"results/figures/samples_{target}.pdf").stat().st_size > 5000
        assert (tmp_path / f"results/figures/marginals_{target}.png").stat().st_size > 5000
    log = (tmp_path / "results/logs/figure_marginals/logreg_cancer.log").read_text()
    assert "3 rows" in log  # the forward-KL generator, ν and MALA (the methods at seed 0)
