"""The subnormal-free log-sum-exp gives torch's floats, and its gradient."""

import math

import pytest
import torch

from wgf.importance import exp_floor, logsumexp


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_logsumexp_is_torchs_float_for_float(dtype, dim):
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


def test_logsumexp_gradient_is_the_softmax():
    g = torch.Generator().manual_seed(1)
    a = (-1000.0 * torch.rand(8, 50, generator=g, dtype=torch.float64)).requires_grad_(True)
    (grad,) = torch.autograd.grad(logsumexp(a, 1).sum(), a)
    # the clamped terms' softmax weights are below e^-700: 0 against 0 to within 1e-300
    torch.testing.assert_close(grad, torch.softmax(a.detach(), 1), rtol=1e-15, atol=1e-300)


def test_exp_floor_is_negligible_beside_one():
    for dtype in (torch.float64, torch.float32):
        eps = torch.finfo(dtype).eps
        assert math.exp(exp_floor(dtype)) * 1e27 < eps / 2
        assert math.exp(exp_floor(dtype)) > torch.finfo(dtype).tiny  # above the subnormals
