"""The stop-gradient training loop: seeded, it moves samples towards the target, and a
non-finite drift stops it naming the step and the divergence."""

import pytest
import torch

from tests.helpers import tiny_train_config
from wgf.divergences import get_divergence
from wgf.targets import Target, build_target
from wgf.training import TrainConfig, TrainingDiverged, train


def _tiny(**kw) -> TrainConfig:
    return tiny_train_config(**{"steps": 30, "log_every": 10, **kw})


def test_same_seed_same_numbers_on_cpu():
    target = build_target("gmm8")
    runs = [train(target, get_divergence("forward_kl"), _tiny(), 3, progress=False) for _ in "ab"]
    for a, b in zip(runs[0].generator.parameters(), runs[1].generator.parameters(), strict=True):
        assert torch.equal(a, b)
    other = train(target, get_divergence("forward_kl"), _tiny(), 4, progress=False)
    assert not torch.equal(next(other.generator.parameters()), next(runs[0].generator.parameters()))


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
