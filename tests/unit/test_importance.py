"""The subnormal-free log-sum-exp gives torch's floats, and under autograd its gradients."""

import math

import pytest
import torch

from wgf.importance import exp_floor, logsumexp


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_logsumexp_gives_torchs_floats(dtype, dim):
    # Rows spread over [-2000, 0] put most terms where exp underflows (subnormals below -708
    # in float64, -87 in float32): the clamp at exp_floor must not move a single bit.
    g = torch.Generator().manual_seed(0)
    a = (-2000.0 * torch.rand(64, 300, generator=g, dtype=torch.float64)).to(dtype)
    a[:, 7] += 30.0  # maxima away from 0
    a[3] = a[3] - 1e4  # a row shifted far down: only the differences to its own max count
    a[5, :10] = -math.inf  # -inf terms beside finite ones
    a[9] = -math.inf  # a row of -inf only: -inf, as torch gives
    a[11, 4] = math.inf  # +inf: +inf
    assert torch.equal(logsumexp(a, dim), torch.logsumexp(a, dim))


def test_logsumexp_under_autograd_is_torchs_value_and_gradient():
    g = torch.Generator().manual_seed(1)
    a = (-1000.0 * torch.rand(8, 50, generator=g, dtype=torch.float64)).requires_grad_(True)
    out = logsumexp(a, 1)
    (grad,) = torch.autograd.grad(out.sum(), a)
    (expected,) = torch.autograd.grad(torch.logsumexp(a, 1).sum(), a)
    assert torch.equal(out, torch.logsumexp(a.detach(), 1)) and torch.equal(grad, expected)


def test_exp_floor_is_negligible_beside_one():
    for dtype in (torch.float64, torch.float32):
        eps = torch.finfo(dtype).eps
        assert math.exp(exp_floor(dtype)) * 1e27 < eps / 2
        assert math.exp(exp_floor(dtype)) > torch.finfo(dtype).tiny  # above the subnormals
