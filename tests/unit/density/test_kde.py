"""The kernel density estimate of the generator's batch (SCIENCE.md §4): score against autograd,
exact distances, chunking, the own-batch shortcut, normalisation, the mean shift and the
bandwidth schedule."""

import math

import pytest
import torch

from tests.helpers import normal_data
from wgf.density.kde import (
    bandwidth_schedule,
    exact_distances,
    kde_log_density,
    kde_stats,
    mean_shift,
)


@pytest.mark.parametrize("kernel", ["laplace", "rbf"])
@pytest.mark.parametrize("d", [2, 16])
def test_score_equals_autograd_of_log_density(kernel, d):
    data = normal_data(d=d)
    x = normal_data(n=50, d=d, seed=1).requires_grad_(True)
    (grad,) = torch.autograd.grad(kde_log_density(x, data, 0.4, kernel).sum(), x)
    log_q, score = kde_stats(x.detach(), data, 0.4, kernel)
    torch.testing.assert_close(score, grad, rtol=1e-9, atol=1e-10)
    torch.testing.assert_close(log_q, kde_log_density(x.detach(), data, 0.4, kernel))


@pytest.mark.parametrize("d", [2, 16])
def test_rbf_log_density_matches_brute_force_far_from_origin(d):
    # In float64 the squared distances (by coordinate at d = 2, by the expansion about the
    # data's mean at d = 16) carry ~1e-16 |x − mean|² ≈ 1e-14 of rounding, ×1/2τ² ≈ 3 in log k:
    # 1e-11 leaves room and still fails any algebraic slip (a factor, a missing |x|² term).
    data = normal_data(n=400, d=d) + 50.0
    x = normal_data(n=70, d=d, seed=2) + 50.0
    sq = (x[:, None, :] - data[None, :, :]).square().sum(-1)
    expected = torch.logsumexp(-sq / (2 * 0.4**2), 1) - math.log(400)
    expected -= 0.5 * d * math.log(2 * math.pi * 0.4**2)
    torch.testing.assert_close(kde_log_density(x, data, 0.4, "rbf"), expected, rtol=0, atol=1e-11)


@pytest.mark.parametrize("kernel", ["laplace", "rbf"])
def test_chunking_does_not_change_results(kernel):
    data = normal_data(n=500)
    a = kde_stats(data, data, 0.3, kernel, chunk=4096)
    b = kde_stats(data, data, 0.3, kernel, chunk=7)
    for u, v in zip(a, b, strict=True):
        torch.testing.assert_close(u, v, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("d", [1, 2, 16])
def test_distances_by_coordinate_equal_cdist(d):
    """The by-coordinate route (GPU, low-dimensional CPU) against ``cdist``'s direct kernel:
    exact even for near neighbours (1e-6 apart), where the |x|²+|y|²−2x·y expansion would lose
    every digit."""
    data = 10.0 + normal_data(n=200, d=d)
    x = torch.cat([data[:20] + 1e-6, normal_data(n=30, d=d, seed=1)])
    by_coordinate = exact_distances(x, data, by_coordinate=True)
    direct = exact_distances(x, data, by_coordinate=False)
    torch.testing.assert_close(by_coordinate, direct, rtol=1e-12, atol=0.0)
    assert torch.allclose(
        by_coordinate[:20].amin(1),
        torch.tensor(1e-6 * math.sqrt(d), dtype=torch.float64),
        rtol=1e-6,
    )


def test_distances_differentiate_in_both_arguments():
    """The by-coordinate passes run in place, under autograd too: gradients match cdist's."""
    x = normal_data(n=20, seed=3).requires_grad_(True)
    y = normal_data(n=30, seed=4).requires_grad_(True)
    grads = torch.autograd.grad(exact_distances(x, y, by_coordinate=True).sum(), (x, y))
    expected = torch.autograd.grad(torch.cdist(x, y).sum(), (x, y))
    for g, e in zip(grads, expected, strict=True):
        torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
@pytest.mark.parametrize("kernel", ["laplace", "rbf"])
def test_gpu_kde_matches_cpu(kernel):
    data = normal_data(n=3000)
    a = kde_stats(data.cuda(), data.cuda(), 0.3, kernel)
    b = kde_stats(data, data, 0.3, kernel)
    for u, v in zip(a, b, strict=True):
        torch.testing.assert_close(u.cpu(), v, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kernel", ["laplace", "rbf"])
@pytest.mark.parametrize("d", [2, 16])
@pytest.mark.parametrize("chunk", [64, 1024])
def test_own_batch_shortcut_matches_general_path(kernel, d, chunk):
    """The batch's own KDE skips the nearest-point reduction (each query is its own nearest
    point) and computes each pair once for both of its rows (the weights are symmetric); a copy
    of the batch, which is not recognised as the same tensor, takes the general path. Both agree
    to rounding (float64): in blocks of 64 (a shorter last block) and in one block, with a
    coincident pair (zero displacement, no 1/0)."""
    data = normal_data(n=400, d=d) * 3.0
    data[7] = data[3]
    tau = 0.3 if d == 2 else 3.0  # in d = 16 a wider kernel, so that other points weigh in
    own = kde_stats(data, data, tau, kernel, chunk=chunk)
    general = kde_stats(data.clone(), data, tau, kernel, chunk=chunk)
    for u, v in zip(own, general, strict=True):
        assert torch.isfinite(u).all()
        torch.testing.assert_close(u, v, rtol=1e-10, atol=1e-10)
    # A batch that carries gradients is left to the row blocks (differentiable in x): the same.
    tracked = data.clone().requires_grad_(True)
    for u, v in zip(kde_stats(tracked, tracked, tau, kernel, chunk=chunk), own, strict=True):
        torch.testing.assert_close(u.detach(), v, rtol=1e-10, atol=1e-10)


def test_self_points_have_finite_score():
    data = normal_data(n=200)
    log_q, score = kde_stats(data, data, 0.2, "laplace")
    assert torch.isfinite(score).all() and torch.isfinite(log_q).all()


@pytest.mark.parametrize("kernel", ["laplace", "rbf"])
def test_log_density_is_normalised(kernel):
    """Riemann sum of q̂ over a grid covering the data ± 12τ: error well below 1e-3."""
    data = normal_data(n=5) * 0.5
    h = 0.02
    g = torch.arange(-6, 6, h, dtype=torch.float64)
    xx, yy = torch.meshgrid(g, g, indexing="ij")
    grid = torch.stack([xx.flatten(), yy.flatten()], -1)
    total = kde_log_density(grid, data, 0.3, kernel, chunk=20_000).exp().sum() * h * h
    assert float(total) == pytest.approx(1.0, abs=2e-3)


def test_mean_shift_is_laplace_weighted_displacement():
    data = normal_data(n=40)
    x = normal_data(n=3, seed=2)
    dist = torch.cdist(x, data)
    a = torch.softmax(-dist / 0.5, dim=1)
    expected = (a[:, :, None] * (data[None] - x[:, None])).sum(1)
    torch.testing.assert_close(mean_shift(x, data, 0.5), expected)


def test_bandwidth_schedule_is_geometric_from_05_to_015():
    assert bandwidth_schedule(0, 100, 0.5, 0.3) == pytest.approx(0.5)
    assert bandwidth_schedule(99, 100, 0.5, 0.3) == pytest.approx(0.15)
    mid = bandwidth_schedule(49.5, 100, 0.5, 0.3)
    assert mid == pytest.approx(math.sqrt(0.5 * 0.15))
