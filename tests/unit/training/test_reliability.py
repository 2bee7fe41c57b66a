"""Reliability at the library level: bit-identical resume from a checkpoint, stale checkpoints
ignored, divergence stops with the step and the divergence named."""

import pytest
import torch

from tests.helpers import Crash, crash_after, tiny_train_config
from wgf.density.estimators import FlowEstimatorConfig
from wgf.divergences import get_divergence
from wgf.targets import build_target
from wgf.training import TrainConfig, TrainingDiverged, train


def _cfg(**kw) -> TrainConfig:
    return tiny_train_config(**{"steps": 30, "log_every": 5, "checkpoint_every": 10, **kw})


def _assert_same_run(a, b) -> None:
    for (name, p), q in zip(
        a.generator.state_dict().items(), b.generator.state_dict().values(), strict=True
    ):
        assert torch.equal(p, q), name
    strip = [{k: v for k, v in row.items() if k != "elapsed_s"} for row in a.history]
    assert strip == [{k: v for k, v in row.items() if k != "elapsed_s"} for row in b.history]


def _monitor(x):
    return {"mean_x": float(x[:, 0].mean())}  # consumes monitor noise: it must be restored too


CASES = {
    "kde_f": (build_target("gmm8"), "js", {}),
    # A stateful estimator (warm-started flow, minibatches from the global RNG) in 3-D, where
    # the flow's random permutations are drawn from the global RNG when it is rebuilt.
    "flow_3d": (
        build_target(
            "mixture",
            {"kind": "mixture", "params": {"means": [[0, 0, 0], [2, 2, 2]], "stds": 1.0}},
        ),
        "reverse_kl",
        {
            "estimator": "flow",
            "flow_estimator": FlowEstimatorConfig(
                layers=2, hidden=8, warmup_steps=10, steps=2, batch_size=64
            ),
        },
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_resume_after_crash_is_bit_identical(tmp_path, monkeypatch, capsys, case):
    target, div, kw = CASES[case]
    cfg = _cfg(**kw)
    plain = train(target, get_divergence(div), cfg, 7, monitor=_monitor, progress=False)
    path = tmp_path / "state.pt"
    with monkeypatch.context() as m:
        crash_after(m, 20)
        with pytest.raises(Crash):
            train(
                target,
                get_divergence(div),
                cfg,
                7,
                monitor=_monitor,
                progress=False,
                checkpoint=path,
            )
    assert torch.load(path, weights_only=True)["step"] == 20
    resumed = train(
        target, get_divergence(div), cfg, 7, monitor=_monitor, progress=False, checkpoint=path
    )
    assert "resumed from step 20 of 30" in capsys.readouterr().out
    assert resumed.info["resumed_from_step"] == 20
    _assert_same_run(plain, resumed)


def test_checkpointing_does_not_change_the_run(tmp_path):
    target, div = build_target("gmm8"), get_divergence("forward_kl")
    a = train(target, div, _cfg(), 1, progress=False)
    b = train(target, div, _cfg(checkpoint_every=7), 1, progress=False, checkpoint=tmp_path / "s")
    _assert_same_run(a, b)


def test_stale_checkpoint_is_ignored(tmp_path, monkeypatch, capsys):
    target, div = build_target("gmm8"), get_divergence("forward_kl")
    path = tmp_path / "state.pt"
    with monkeypatch.context() as m:
        crash_after(m, 10)
        with pytest.raises(Crash):
            train(target, div, _cfg(), 1, progress=False, checkpoint=path)
    other = train(target, div, _cfg(lr=2e-3), 1, progress=False, checkpoint=path)
    out = capsys.readouterr().out
    assert "ignoring stale checkpoint" in out and "resumed" not in out
    assert other.info["resumed_from_step"] is None
    _assert_same_run(other, train(target, div, _cfg(lr=2e-3), 1, progress=False))
    path.write_bytes(b"truncated")
    train(target, div, _cfg(steps=3), 1, progress=False, checkpoint=path)
    assert "ignoring unreadable checkpoint" in capsys.readouterr().out


def test_exploding_learning_rate_names_step_and_divergence():
    """A huge step makes the generator's samples (or the loss) non-finite: training stops."""
    with pytest.raises(TrainingDiverged, match=r"forward_kl: .*non-finite at step \d+"):
        train(
            build_target("gmm8"),
            get_divergence("forward_kl"),
            _cfg(steps=200, lr=1e6, lr_final_ratio=1.0, eta=1e6),
            0,
            progress=False,
        )


def test_energy_turning_nan_away_from_the_origin_stops_training():
    target = build_target(
        "energy", {"kind": "energy", "params": {"function": "tests.energies:nan_far", "dim": 2}}
    )
    with pytest.raises(TrainingDiverged, match=r"reverse_kl: .*non-finite at step \d+"):
        train(target, get_divergence("reverse_kl"), _cfg(), 0, progress=False)
