"""The command line without Snakemake: train (resuming after an interruption), sample, evaluate."""

import csv
import json

import numpy as np
import pytest
import torch

from tests.helpers import Crash, crash_after
from wgf.cli import main


def _train_args(out, *extra):
    return [
        *("train", "--target", "gmm8", "--divergence", "reverse_kl", "--seed", "3"),
        *("--steps", "12", "--out", str(out), *extra),
    ]


def _history(run):
    """The per-step history without its clock column."""
    with open(run / "history.csv") as fh:
        return [{k: v for k, v in row.items() if k != "elapsed_s"} for row in csv.DictReader(fh)]


def test_interrupted_train_command_resumes_to_the_same_generator(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    with monkeypatch.context() as m:
        crash_after(m, 8)
        with pytest.raises(Crash):
            main(_train_args(out, "--checkpoint-every", "4"))
    assert (out / "state.pt").exists() and not (out / "generator.pt").exists()

    assert main(_train_args(out, "--checkpoint-every", "4")) == 0
    assert "resumed from step 8 of 12" in capsys.readouterr().out
    assert not (out / "state.pt").exists()

    plain = tmp_path / "plain"
    assert main(_train_args(plain, "--checkpoint-every", "0")) == 0
    a = torch.load(out / "generator.pt", weights_only=True)["state_dict"]
    b = torch.load(plain / "generator.pt", weights_only=True)["state_dict"]
    for key in b:
        assert torch.equal(a[key], b[key]), key
    assert _history(out) == _history(plain)


def test_sample_and_evaluate_a_trained_generator(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(_train_args(out)) == 0
    samples = tmp_path / "x.npy"
    assert main(["sample", str(out / "generator.pt"), "--n", "500", "--out", str(samples)]) == 0
    assert np.load(samples).shape == (500, 2)
    metrics = tmp_path / "m.json"
    args = ["evaluate", str(out / "generator.pt"), "--target", "gmm8", "--out", str(metrics)]
    assert main(args) == 0
    assert np.isfinite(json.loads(metrics.read_text())["mmd_median"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--checkpoint-every", "-1"), "--checkpoint-every must be ≥ 0"),
        (("--q-estimator", "histogram"), "histogram"),
    ],
)
def test_bad_train_options_fail_with_a_message(tmp_path, capsys, extra, message):
    out = tmp_path / "run"
    assert main(_train_args(out, *extra)) == 2
    assert message in capsys.readouterr().err
    assert not (out / "generator.pt").exists()
