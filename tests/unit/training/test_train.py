"""The stop-gradient training loop: seeded, it moves samples towards the target, and a
non-finite drift stops it naming the step and the divergence."""

import pytest
import torch

from tests.helpers import tiny_train_config
from wgf.divergences import get_divergence
from wgf.targets import Target, Tempered, build_target
from wgf.training import TrainConfig, TrainingDiverged, train
from wgf.training.loop import anneal_schedule


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


def test_anneal_schedule_rises_geometrically_to_one():
    betas = [anneal_schedule(s, 101, 0.01, 0.5) for s in range(101)]
    assert betas[0] == pytest.approx(0.01) and betas[25] == pytest.approx(0.1)
    assert betas[50:] == [1.0] * 51
    assert all(a < b for a, b in zip(betas[:50], betas[1:51], strict=True))
    assert anneal_schedule(0, 101, 1.0, 0.5) == 1.0


def test_tempered_target_scales_energy_and_score():
    target = build_target("gmm8")
    x = target.sample(50, torch.Generator().manual_seed(0))
    hot = Tempered(target, 0.25)
    torch.testing.assert_close(hot.energy(x), 0.25 * target.energy(x))
    log_p, score = hot.log_prob_and_score(x)
    torch.testing.assert_close(log_p, -0.25 * target.energy(x))
    torch.testing.assert_close(score, 0.25 * target.score(x))
    torch.testing.assert_close(hot.score(x), score)


def test_annealed_training_records_its_schedule():
    """History rows carry β of p^β (from anneal_start to 1) and the weights' temper λ."""
    cfg = _tiny(steps=41, anneal_start=0.1, anneal_fraction=0.5, weight_ess_floor=0.5)
    result = train(build_target("gmm8"), get_divergence("pearson"), cfg, 0, progress=False)
    rows = result.history
    assert rows[0]["anneal_beta"] == pytest.approx(0.1)
    assert rows[-1]["anneal_beta"] == 1.0
    assert all(0.0 <= r["weight_temper"] <= 1.0 for r in rows)
    assert all(r["weight_ess"] >= 0.5 - 1e-5 for r in rows)  # float32 weights


def test_ess_floor_schedule_is_linear_to_its_final_value():
    """``weight_ess_floor_final`` null keeps the floor; set, it moves linearly over the run."""
    assert _tiny(steps=11, weight_ess_floor=0.1).ess_floor(7) == 0.1
    cfg = _tiny(steps=11, weight_ess_floor=0.1, weight_ess_floor_final=0.6)
    floors = [cfg.ess_floor(s) for s in range(11)]
    assert floors[0] == pytest.approx(0.1) and floors[-1] == pytest.approx(0.6)
    assert floors[4] == pytest.approx(0.3)
    steps = [b - a for a, b in zip(floors, floors[1:], strict=False)]
    assert steps == pytest.approx([0.05] * 10)
