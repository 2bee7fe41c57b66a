"""A user's own energy as a target (``kind: energy``): its score and the errors of a bad one."""

import pytest
import torch

from wgf.targets import TargetError, build_target


def test_energy_targets():
    target = build_target(
        "quad", {"kind": "energy", "params": {"function": "tests.energies:quadratic", "dim": 3}}
    )
    x = torch.randn(4, 3)
    torch.testing.assert_close(target.score(x), -x)
    log_p, score = target.log_prob_and_score(x)  # the base class: one energy, autograd
    torch.testing.assert_close(score, -x)
    torch.testing.assert_close(log_p, -0.5 * x.square().sum(-1))
    for fn, msg in [
        ("tests.energies:always_nan", "not finite"),
        ("tests.energies:wrong_shape", "must map"),
        ("tests.energies:missing", "no callable"),
        ("no_such_module_xyz:f", "cannot import"),
        ("no_colon", "module:function"),
    ]:
        with pytest.raises(TargetError, match=msg):
            build_target("e", {"kind": "energy", "params": {"function": fn, "dim": 2}})
    with pytest.raises(TargetError, match="unknown kind"):
        build_target("x", {"kind": "banana"})
