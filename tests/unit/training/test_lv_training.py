"""The Log-Variance drifts and the online flow estimator of q in the stop-gradient training loop:
every divergence trains with the flow estimator, LV with each reference ν, entries with their
own reference, and the reference normaliser (and its absence) for non-homogeneous weights."""

import math

import pytest
import torch

from tests.helpers import tiny_train_config
from wgf.density.estimators import FlowEstimatorConfig
from wgf.density.flows import Flow
from wgf.divergences import DIVERGENCES, LV_DIVERGENCES, get_divergence
from wgf.drift import LVConfig
from wgf.reference import ReferenceFlow
from wgf.targets import build_target
from wgf.training import TrainConfig, train

pytestmark = pytest.mark.usefixtures("one_thread")

QUICK_FLOW = FlowEstimatorConfig(layers=2, hidden=16, warmup_steps=20, steps=2)


def _tiny(**kw) -> TrainConfig:
    return tiny_train_config(**{"steps": 8, "log_every": 4, **kw})


def _reference(target) -> ReferenceFlow:
    """An (untrained) flow as ν: the plumbing, not the quality, is under test here."""
    torch.manual_seed(5)
    return ReferenceFlow(Flow(target.dim, "maf", layers=1, hidden=8, scale=2.0), target.log_z, 1.0)


ALL_DIVERGENCES = [*DIVERGENCES, "alpha_0.5", *LV_DIVERGENCES]


@pytest.mark.parametrize("name", ALL_DIVERGENCES)
def test_flow_estimator_trains_every_divergence(name):
    target = build_target("gmm8")
    cfg = _tiny(estimator="flow", flow_estimator=QUICK_FLOW, lv=LVConfig(reference="mixture"))
    ref = _reference(target)
    result = train(target, get_divergence(name), cfg, 0, progress=False, reference=ref)
    x = result.generator.sample(200, torch.Generator().manual_seed(0))
    assert torch.isfinite(x).all()
    assert result.info["config"]["estimator"] == "flow"
    assert all(math.isfinite(row["loss"]) for row in result.history)


@pytest.mark.parametrize("choice", ["q", "flow", "mixture"])
@pytest.mark.parametrize("name", ["lv", "lv_surrogate"])
def test_lv_trains_with_each_reference(name, choice):
    target = build_target("gmm8")
    reference = None if choice == "q" else _reference(target)
    cfg = _tiny(lv=LVConfig(reference=choice, mix=0.5, gamma=0.5))
    result = train(target, get_divergence(name), cfg, 1, progress=False, reference=reference)
    assert result.info["normaliser"] == "invariant"
    assert torch.isfinite(result.generator.sample(100)).all()


def test_entries_with_their_own_reference_override_the_config():
    cfg = _tiny(lv=LVConfig(reference="flow"))
    assert not cfg.uses_reference(get_divergence("lv_q"))
    assert cfg.uses_reference(get_divergence("lv"))
    assert _tiny(lv=LVConfig(reference="q")).uses_reference(get_divergence("lv_mixture"))
    target = build_target("gmm8")
    # lv_q needs no flow and is 2 × reverse KL: the same generator as reverse KL with η doubled.
    a = train(target, get_divergence("lv_q"), cfg, 0, progress=False)
    b = train(target, get_divergence("reverse_kl"), _tiny(eta=2 * cfg.eta), 0, progress=False)
    for u, v in zip(a.generator.parameters(), b.generator.parameters(), strict=True):
        torch.testing.assert_close(u, v, rtol=1e-5, atol=1e-6)


def test_reference_normaliser_for_js_and_missing_reference():
    target = build_target("gmm8")
    cfg = _tiny(normaliser="reference")
    ref = _reference(target)
    result = train(target, get_divergence("js"), cfg, 0, progress=False, reference=ref)
    assert result.info["normaliser"] == "reference"
    assert result.info["reference_log_z"] == pytest.approx(target.log_z)
    assert result.history[0]["log_z_batch"] == pytest.approx(target.log_z)
    # Homogeneous weights ignore it (self-normalised exactly) and need no reference.
    kl = train(target, get_divergence("forward_kl"), cfg, 0, progress=False)
    assert kl.info["normaliser"] == "self"
    with pytest.raises(ValueError, match="need a reference flow"):
        train(target, get_divergence("js"), cfg, 0, progress=False)
    with pytest.raises(ValueError, match="need a reference flow"):
        train(target, get_divergence("lv"), _tiny(), 0, progress=False)
