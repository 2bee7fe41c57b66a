"""The many-well (FAB/DEM manywell32): the energy against its definition, log Z against quadrature
and fab-torch's constant, the analytic score, the exact sampler's 1-D marginal and well weights,
the stored spec, and bad dimensions."""

import math

import numpy as np
import pytest
import torch

from tests.conftest import assert_score_is_minus_grad_energy
from wgf.targets import TargetError, build_target, load_target, save_target
from wgf.targets.manywell import ManyWell, double_well_constants, manywell32, sample_well

FAB_Z1 = 11784.50927  # fab-torch double_well.py: TARGET_Z, 5 decimals


def test_energy_is_the_fab_definition():
    target = manywell32()
    assert target.dim == 32 and target.n_wells == 16 and target.name == "manywell32"
    x = torch.randn(4, 32, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    want = [
        sum(
            -0.5 * r[2 * i] - 6 * r[2 * i] ** 2 + r[2 * i] ** 4 + 0.5 * r[2 * i + 1] ** 2
            for i in range(16)
        )
        for r in x.tolist()
    ]
    assert target.energy(x).tolist() == pytest.approx(want, abs=1e-10)


def test_log_z_against_quadrature_and_fab_torch():
    """log Z₁ by an independent rule (Simpson on a coarser grid) and fab-torch's Z₁ to its 5
    decimals; log Z = 16 (log Z₁ + ½ log 2π) as the issue and fab-torch state."""
    x = np.linspace(-5, 5, 20_001)
    f = np.exp(0.5 * x + 6 * x**2 - x**4)
    h = x[1] - x[0]
    simpson = h / 3 * (f[0] + f[-1] + 4 * f[1:-1:2].sum() + 2 * f[2:-1:2].sum())
    log_z1 = double_well_constants()["log_z1"]
    assert log_z1 == pytest.approx(math.log(simpson), abs=1e-10)
    assert math.exp(log_z1) == pytest.approx(FAB_Z1, abs=1e-5)
    want = 16 * (math.log(FAB_Z1) + 0.5 * math.log(2 * math.pi))
    assert manywell32().log_z == pytest.approx(want, abs=1e-8)


def test_score_is_the_gradient_of_minus_the_energy():
    target = manywell32()
    x = torch.randn(64, 32, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert_score_is_minus_grad_energy(target, x, 1e-10, 1e-9, log_p_rtol=1e-5, log_p_atol=1e-10)


def test_rejection_sampler_draws_the_one_dimensional_marginal():
    """200 000 draws of x₁ against the quadrature density: the deep-well weight within 5
    binomial standard errors, and every one of 60 histogram bins within 5 SE of its mass."""
    n = 200_000
    x1 = sample_well(n, torch.Generator().manual_seed(3)).numpy()
    assert x1.shape == (n,)
    p = double_well_constants()["deep_weight"]
    assert p == pytest.approx(0.8443, abs=1e-4)
    assert abs((x1 > 0).mean() - p) < 5 * math.sqrt(p * (1 - p) / n)
    edges = np.linspace(-2.7, 2.7, 61)
    grid = np.linspace(-2.7, 2.7, 60 * 400 + 1)
    dens = np.exp(0.5 * grid + 6 * grid**2 - grid**4 - double_well_constants()["log_z1"])
    cell = np.array(
        [
            np.trapezoid(dens[i * 400 : (i + 1) * 400 + 1], grid[i * 400 : (i + 1) * 400 + 1])
            for i in range(60)
        ]
    )
    counts = np.histogram(x1, edges)[0] / n
    se = np.sqrt(cell * (1 - cell) / n)
    assert np.all(np.abs(counts - cell) < 5 * se + 1e-6)


def test_exact_samples_are_independent_wells_and_normals():
    n = 50_000
    x = manywell32().sample(n, torch.Generator().manual_seed(4)).double()
    assert x.shape == (n, 32)
    p = double_well_constants()["deep_weight"]
    well = (x[:, 0::2] > 0).double().mean(0)
    assert (well - p).abs().max() < 5 * math.sqrt(p * (1 - p) / n)
    x2 = x[:, 1::2]
    assert x2.mean(0).abs().max() < 5 / math.sqrt(n)
    assert (x2.var(0) - 1).abs().max() < 5 * math.sqrt(2 / n)
    # pairs of wells are independent: P(both deep) = p²
    both = ((x[:, 0] > 0) & (x[:, 2] > 0)).double().mean()
    assert abs(float(both) - p * p) < 5 * math.sqrt(p * p * (1 - p * p) / n)


def test_same_seed_same_samples_and_registry(tmp_path):
    target = build_target("manywell32")
    a = target.sample(100, torch.Generator().manual_seed(5))
    b = target.sample(100, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    small = build_target("mw4", {"kind": "many_well", "params": {"dim": 4}})
    assert isinstance(small, ManyWell) and small.dim == 4
    save_target(tmp_path / "t.json", tmp_path / "t.npy", small, small.sample(3))
    back = load_target(tmp_path / "t.json")
    assert (back.dim, back.name, back.log_z) == (4, "mw4", small.log_z)


@pytest.mark.parametrize("dim", [3, 0, 2.5])
def test_bad_dimension(dim):
    with pytest.raises(TargetError, match="even integer"):
        build_target("m", {"kind": "many_well", "params": {"dim": dim}})


def test_the_figures_pair_marginal_is_the_exact_normalised_density():
    """(x₁, x₃): the product of two double-well marginals, integrating to 1 with 0.8443² of its
    mass in the deep-deep quadrant."""
    target = ManyWell(32)
    assert target.plot_pair == (0, 2)
    g = torch.linspace(-4, 4, 1601, dtype=torch.float64)
    xx, yy = torch.meshgrid(g, g, indexing="ij")
    p = target.pair_log_prob(torch.stack([xx.ravel(), yy.ravel()], 1)).exp().reshape(xx.shape)
    assert float(torch.trapezoid(torch.trapezoid(p, g, dim=1), g)) == pytest.approx(1, abs=1e-6)
    deep = p[g > 0][:, g > 0]
    h = float(g[1] - g[0])
    assert float(deep.sum()) * h * h == pytest.approx(target.deep_weight**2, abs=2e-3)
