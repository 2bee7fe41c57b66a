import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from wgf.divergences import get_divergence
from wgf.generator import Generator
from wgf.targets import Target, build_target
from wgf.train import GeneratorConfig, TrainConfig, TrainingDiverged, train

REPO = Path(__file__).resolve().parents[1]
TINY = dict(steps=30, batch_size=128, log_every=10, device="cpu")


def _tiny(**kw) -> TrainConfig:
    return TrainConfig(**{**TINY, **kw}, generator=GeneratorConfig(hidden=16, layers=2))


def test_same_seed_same_numbers_on_cpu():
    target = build_target("gmm8")
    runs = [train(target, get_divergence("forward_kl"), _tiny(), 3, progress=False) for _ in "ab"]
    for a, b in zip(runs[0].generator.parameters(), runs[1].generator.parameters(), strict=True):
        assert torch.equal(a, b)
    other = train(target, get_divergence("forward_kl"), _tiny(), 4, progress=False)
    assert not torch.equal(next(other.generator.parameters()), next(runs[0].generator.parameters()))


def test_generator_initial_pushforward_is_scaled_gaussian():
    gen = Generator(latent_dim=8, dim=16, init_scale=2.0)
    z = torch.randn(4, 8)
    torch.testing.assert_close(gen(z), 2.0 * torch.cat([z, z], dim=1))


def test_checkpoint_round_trip(tmp_path):
    gen = Generator(2, 2, hidden=8, layers=1)
    torch.save(gen.checkpoint(), tmp_path / "g.pt")
    loaded = Generator.load(str(tmp_path / "g.pt"))
    z = torch.randn(10, 2)
    torch.testing.assert_close(loaded(z), gen(z))


def test_training_moves_samples_towards_target():
    """A few hundred steps of reverse KL on a unit Gaussian shift the N(0, 4) start inwards."""
    target = build_target(
        "mixture", {"kind": "mixture", "params": {"means": [[1.0, 1.0]], "stds": 0.5}}
    )
    result = train(
        target, get_divergence("reverse_kl"), _tiny(steps=200, lr=3e-3), 0, progress=False
    )
    x = result.generator.sample(4000, torch.Generator().manual_seed(0))
    assert x.mean(0).tolist() == pytest.approx([1.0, 1.0], abs=0.25)
    assert float(x.std(0).mean()) < 1.0


class _NaNScore(Target):
    name = "nan_score"
    dim = 2

    def energy(self, x):
        return 0.5 * x.square().sum(-1)

    def score(self, x):
        return torch.full_like(x, float("nan"))


def test_non_finite_drift_names_step_and_divergence():
    with pytest.raises(TrainingDiverged, match=r"js: .*non-finite at step 0"):
        train(_NaNScore(), get_divergence("js"), _tiny(), 0, progress=False)


def test_cli_trains_and_writes_nothing_on_divergence(tmp_path):
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "wgf",
        "train",
        "--target",
        "gmm8",
        "--divergence",
        "forward_kl",
        "--seed",
        "0",
        "--out",
        str(out),
        "--steps",
        "5",
        "--device",
        "cpu",
    ]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert {p.name for p in out.iterdir()} == {"generator.pt", "history.csv", "run.json"}

    config = tmp_path / "bad.yaml"
    spec = {"kind": "energy", "params": {"function": "tests.energies:nan_far", "dim": 2}}
    config.write_text(yaml.safe_dump({"targets": {"far": spec}}))
    bad_out = tmp_path / "bad_run"
    cmd = [
        sys.executable,
        "-m",
        "wgf",
        "train",
        "--target",
        "far",
        "--divergence",
        "reverse_kl",
        "--out",
        str(bad_out),
        "--config",
        str(config),
        "--steps",
        "5",
        "--device",
        "cpu",
    ]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 2
    assert "non-finite at step" in done.stderr and "reverse_kl" in done.stderr
    assert not bad_out.exists()
