"""The Gaussian-mixture benchmarks and mixtures from a config: pinned means, scores against
autograd, log Z by quadrature, sampling, and invalid parameters."""

import math

import pytest
import torch

from tests.conftest import assert_score_is_minus_grad_energy
from wgf.targets import TargetError, build_target, gmm40_means

# The first, second and last means of the FAB / (i)DEM 40-mode benchmark, as those projects draw
# them (torch.manual_seed(0); (torch.rand(40, 2) - 0.5) * 2 * 40), pinned as literals.
GMM40_PINNED = {
    0: (-0.29947298765182495, 21.457744598388672),
    1: (-32.92180633544922, -29.437562942504883),
    13: (36.21904754638672, -37.106815338134766),
    39: (3.6796998977661133, -25.024213790893555),
}


def test_gmm40_means_pinned():
    means = gmm40_means()
    assert means.shape == (40, 2)
    for i, (a, b) in GMM40_PINNED.items():
        assert means[i].tolist() == pytest.approx([a, b], abs=1e-5)
    assert means.sum(0).tolist() == pytest.approx([-85.6205, 49.6015], abs=1e-3)
    target = build_target("gmm40")
    assert torch.allclose(target.means.float(), means)
    std = target.covs[0].diagonal().sqrt()
    assert std.tolist() == pytest.approx([math.log1p(math.e)] * 2, rel=1e-12)


@pytest.mark.parametrize("name", ["gmm8", "gmm40", "gmm2hard16"])
def test_score_is_minus_grad_energy(name):
    target = build_target(name)
    x = target.sample(64, torch.Generator().manual_seed(0)).double()
    x = x + 0.3 * torch.randn(x.shape, generator=torch.Generator().manual_seed(1), dtype=x.dtype)
    # log_prob_and_score: one pass over the components
    assert_score_is_minus_grad_energy(target, x, 1e-9, 1e-9, log_p_rtol=1e-12, log_p_atol=1e-10)


def test_gmm8_log_z_by_quadrature():
    """∫ exp(-E) dx on a fine grid equals exp(log Z); the grid error is far below 1e-4."""
    target = build_target("gmm8")
    h = 0.01
    g = torch.arange(-5, 5, h, dtype=torch.float64)
    xx, yy = torch.meshgrid(g, g, indexing="ij")
    grid = torch.stack([xx.flatten(), yy.flatten()], -1)
    log_integral = torch.logsumexp(-target.energy(grid), 0) + 2 * math.log(h)
    assert float(log_integral) == pytest.approx(target.log_z, abs=1e-4)


def test_gmm2hard16_geometry_and_sampling():
    target = build_target("gmm2hard16")
    assert target.dim == 16
    assert target.means[0].tolist() == pytest.approx([-2 / 3] * 16)
    assert target.means[1].tolist() == pytest.approx([4 / 3] * 16)
    x = target.sample(20_000, torch.Generator().manual_seed(0))
    light = (target.assign(x.double()) == 1).float().mean()
    # Binomial standard error sqrt(p(1-p)/n) = 0.0033: 5 sigma.
    assert float(light) == pytest.approx(1 / 3, abs=0.017)
    # Mixture mean is 0; per-coordinate variance 0.05 + (2/3)(1/3)·4 = 0.9389; se of the
    # mean of the 16·20000 coordinates is below 0.01 (coordinates within a sample are correlated).
    assert float(x.mean()) == pytest.approx(0.0, abs=0.04)


def test_mixture_from_config_and_errors():
    target = build_target(
        "mine", {"kind": "mixture", "params": {"means": [[0, 0], [3, 0]], "stds": 0.5}}
    )
    assert target.weights.tolist() == [0.5, 0.5]
    full = build_target(
        "full",
        {"kind": "mixture", "params": {"means": [[0, 0]], "covs": [[[1.0, 0.5], [0.5, 1.0]]]}},
    )
    x = torch.randn(5, 2, dtype=torch.float64)
    prec = torch.linalg.inv(torch.tensor([[1.0, 0.5], [0.5, 1.0]], dtype=torch.float64))
    expected = 0.5 * torch.einsum("ni,ij,nj->n", x, prec, x) + 0.5 * math.log(0.75)
    torch.testing.assert_close(full.energy(x), expected)
    bad = {
        "weights": {"means": [[0, 0], [1, 1]], "stds": 1.0, "weights": [0.5, 0.6]},
        "negative": {"means": [[0, 0], [1, 1]], "stds": 1.0, "weights": [1.5, -0.5]},
        "not PD": {"means": [[0, 0]], "covs": [[[1.0, 2.0], [2.0, 1.0]]]},
        "std": {"means": [[0, 0]], "stds": -1.0},
        "both": {"means": [[0, 0]]},
    }
    for case, params in bad.items():
        with pytest.raises(TargetError):
            build_target(case, {"kind": "mixture", "params": params})
