"""The kernel Stein discrepancy: its Stein kernel against autograd, a hand-computed case, zero in
expectation at the target and growing with a shift."""

import math

import pytest
import torch

from wgf.evaluation.stein import ksd, ksd2, stein_kernel_matrix


def _u_autograd(x, y, score, c=1.0, beta=-0.5):
    """u(x, y) = ∇ₓ·∇_y-form of the Langevin Stein operator applied twice to k, by autograd."""
    x = x.clone().requires_grad_(True)
    y = y.clone().requires_grad_(True)
    k = (c * c + (x - y).square().sum()).pow(beta)
    (gx,) = torch.autograd.grad(k, x, create_graph=True)
    (gy,) = torch.autograd.grad(k, y, create_graph=True)
    trace = sum(torch.autograd.grad(gx[i], y, retain_graph=True)[0][i] for i in range(len(x)))
    sx, sy = score(x.detach()), score(y.detach())
    return (k * (sx @ sy) + sx @ gy + sy @ gx + trace).item()


def test_stein_kernel_matches_autograd():
    gen = torch.Generator().manual_seed(0)
    x, y = (
        torch.randn(5, 3, generator=gen, dtype=torch.float64),
        torch.randn(4, 3, generator=gen, dtype=torch.float64),
    )
    score = lambda z: -z + torch.tensor([0.3, -1.0, 2.0], dtype=torch.float64) * z.square()  # noqa: E731
    for c, beta in [(1.0, -0.5), (0.5, -0.3)]:
        u = stein_kernel_matrix(x, score(x), y, score(y), c, beta)
        for i in range(5):
            for j in range(4):
                assert u[i, j].item() == pytest.approx(
                    _u_autograd(x[i], y[j], score, c, beta), rel=1e-10, abs=1e-12
                )


def test_two_points_by_hand():
    """p = N(0, 1), x = (0, 1): scores (0, −1), r = −1, q = 2, so
    u = −2^{−3/2} ((−1)(−1) − 1) − 3 · 2^{−5/2} = −3 / 2^{5/2}."""
    x = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
    assert ksd2(x, -x) == pytest.approx(-3 / 2**2.5, rel=1e-12)


def test_blocks_do_not_change_the_value():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(301, 4, generator=gen, dtype=torch.float64)
    assert ksd2(x, -x, block=7) == pytest.approx(ksd2(x, -x, block=1024), rel=1e-12)


def _null_se(x, s):
    """Standard error of the degenerate U-statistic at the target: √(2 E[u²] / (n(n−1)))."""
    n = len(x)
    u = stein_kernel_matrix(x, s, x, s)
    off = u.square().sum() - u.diagonal().square().sum()
    return math.sqrt(2 * float(off) / (n * (n - 1)) / (n * (n - 1)))


@pytest.mark.parametrize("d", [2, 10])
def test_exact_gaussian_samples_are_near_zero_and_a_shift_is_not(d):
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(2000, d, generator=gen, dtype=torch.float64)
    se = _null_se(x, -x)
    assert abs(ksd2(x, -x)) < 5 * se
    values = [ksd2(x + m, -(x + m)) for m in (0.25, 0.5, 1.0)]
    assert values[0] > 5 * se
    assert values[0] < values[1] < values[2]
    assert ksd(x + 1.0, -(x + 1.0)) == pytest.approx(math.sqrt(values[2]))


def test_bad_input_raises():
    x = torch.randn(10, 2)
    with pytest.raises(ValueError, match="finite"):
        ksd2(torch.full((3, 2), float("nan")), x[:3])
    with pytest.raises(ValueError, match="two samples"):
        ksd2(x[:1], x[:1])
    with pytest.raises(ValueError, match="c > 0"):
        ksd2(x, x, c=0.0)
