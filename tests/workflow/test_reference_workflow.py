"""The reference-flow rules (workflow/rules/reference.smk) on a tiny config, in a temporary
directory, through a Snakefile that includes them beside the rules they need."""

import pytest
import yaml

from tests.conftest import REPO, snakemake, snakemake_env
from wgf.io import read_csv, read_json

pytestmark = pytest.mark.slow
RULES = REPO / "workflow" / "rules"

CONFIG = {
    "seeds": [0],
    "divergences": ["reverse_kl"],
    "targets": {"gmm8": {}},
    "target_samples": 500,
    "evaluation": {"n_samples": 300, "n_ot": 100, "monitor_samples": 100},
    "reference": {
        "architecture": "maf",
        "layers": 2,
        "hidden": 16,
        "steps": 60,
        "rounds": 3,
        "pool_size": 2000,
        "batch_size": 256,
        "n_log_z": 2000,
        "n_samples": 200,
    },
}


def test_reference_rules_end_to_end(tmp_path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    snakefile = tmp_path / "Snakefile"
    snakefile.write_text(
        'configfile: "config.yaml"\n\n\n'
        + "".join(f'include: "{RULES / name}"\n' for name in ("common.smk", "targets.smk"))
        + f'include: "{RULES / "reference.smk"}"\n'
    )
    targets = ["results/tables/reference.md", "results/reference/gmm8/metrics.json"]
    env = snakemake_env(OMP_NUM_THREADS="1")
    done = snakemake(tmp_path, "--cores", "1", *targets, config=None, snakefile=snakefile, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    out = tmp_path / "results" / "reference" / "gmm8"
    assert {p.name for p in out.iterdir()} >= {"flow.pt", "log_z.json", "samples.npy"}
    info = read_json(out / "log_z.json")
    assert info["log_z_true"] is not None and 0 < info["ess"] <= 1
    assert abs(info["log_z_error"]) < 1.0  # a tiny fit: only the plumbing is checked here
    assert "mmd_median" in read_json(out / "metrics.json")
    table = (tmp_path / "results" / "tables" / "reference.md").read_text()
    assert "| gmm8 | iw_ml | maf |" in table
    rows = read_csv(tmp_path / "results" / "tables" / "reference.csv")
    assert rows[0]["target"] == "gmm8" and float(rows[0]["ess"]) == info["ess"]
    for rule in ("reference_flow", "evaluate_reference", "table_reference"):
        assert (
            any((tmp_path / "results" / "logs" / rule).rglob("*.log"))
            or (tmp_path / "results" / "logs" / f"{rule}.log").exists()
        ), rule
