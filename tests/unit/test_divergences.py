"""The divergence registry: every weight ``w(r) = r² f''(r)`` and elasticity against ``f`` by
autograd, the weight table of SCIENCE.md §1, and unknown names."""

import math

import pytest
import torch

from wgf.divergences import DIVERGENCES, UnknownDivergence, get_divergence

ALL = [*DIVERGENCES, "alpha_0.5", "alpha_-1", "alpha_2.5"]


@pytest.mark.parametrize("name", ALL)
def test_weights_and_elasticity(name):
    """w(r) = r² f''(r) and ε = d log w / d log r, both by autograd against the table."""
    div = get_divergence(name)
    log_r = torch.linspace(-4, 4, 41, dtype=torch.float64).requires_grad_(True)
    r = log_r.exp()
    (f1,) = torch.autograd.grad(div.f(r).sum(), r, create_graph=True)
    (f2,) = torch.autograd.grad(f1.sum(), r, create_graph=True)
    torch.testing.assert_close(r.square() * f2, div.weight(log_r), rtol=1e-9, atol=1e-12)
    (eps,) = torch.autograd.grad(div.log_w(log_r).sum(), log_r, materialize_grads=True)
    torch.testing.assert_close(eps, div.elasticity(log_r.detach()), rtol=1e-9, atol=1e-12)


TABLE = {  # SCIENCE.md §1: w(r) at r = e^κ
    "reverse_kl": lambda r: 1.0,
    "forward_kl": lambda r: r,
    "hellinger": lambda r: 0.5 * math.sqrt(r),
    "js": lambda r: 0.5 * r / (1 + r),
    "pearson": lambda r: 2 * r * r,
    "neyman": lambda r: 2 / r,
}


@pytest.mark.parametrize("name", TABLE)
def test_weight_table(name):
    for r in (0.1, 0.7, 1.0, 3.0, 20.0):
        w = float(get_divergence(name).weight(torch.tensor(math.log(r), dtype=torch.float64)))
        assert w == pytest.approx(TABLE[name](r), rel=1e-12)


def test_unknown_divergence():
    with pytest.raises(UnknownDivergence, match="unknown divergence 'kl'"):
        get_divergence("kl")
    with pytest.raises(UnknownDivergence):
        get_divergence("alpha_1")
