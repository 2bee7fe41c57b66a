"""MALA, ULA and SVGD on Gaussian targets, with tolerances from the Monte-Carlo error."""

import math

import pytest
import torch

from wgf.baselines.chains import mala, svgd, svgd_direction, ula
from wgf.targets import GaussianMixture

MU = torch.tensor([1.0, -2.0])
VAR = torch.tensor([0.5, 2.0])


def gaussian() -> GaussianMixture:
    return GaussianMixture(MU[None], VAR[None], [1.0], name="gauss")


def test_mala_leaves_a_gaussian_invariant():
    """Chains started at exact samples stay N(μ, Σ): mean and variance within 5 MC sigmas.

    Each chain's final state is an exact sample if MALA is correct, and the chains are
    independent, so the standard errors are those of n i.i.d. draws."""
    target, n = gaussian(), 20_000
    x0 = target.sample(n, torch.Generator().manual_seed(0))
    result = mala(
        target, x0, steps=200, step_size=0.5, burn_in=50, generator=torch.Generator().manual_seed(1)
    )
    x = result.samples.double()
    assert 0.45 < result.acceptance < 0.7
    mean_se = (VAR / n).sqrt()
    var_se = VAR * math.sqrt(2 / (n - 1))
    assert ((x.mean(0) - MU).abs() < 5 * mean_se).all(), (x.mean(0), MU)
    assert ((x.var(0) - VAR).abs() < 5 * var_se).all(), (x.var(0), VAR)
    assert result.target_evaluations == 2 * n * 201


def test_mala_detects_a_wrong_target_stationary_law():
    """The same check fails for chains that start from a wider law and barely move: the
    invariance test above can fail."""
    target, n = gaussian(), 20_000
    x0 = 1.5 * target.sample(n, torch.Generator().manual_seed(0))
    result = mala(target, x0, steps=1, step_size=1e-4, generator=torch.Generator().manual_seed(1))
    var_se = VAR * math.sqrt(2 / (n - 1))
    assert ((result.samples.double().var(0) - VAR).abs() > 5 * var_se).any()


def test_mala_adapts_toward_the_target_acceptance():
    target = gaussian()
    x0 = target.sample(4000, torch.Generator().manual_seed(0))
    for start in (1e-3, 10.0):
        result = mala(
            target,
            x0,
            400,
            step_size=start,
            burn_in=200,
            generator=torch.Generator().manual_seed(2),
        )
        assert abs(result.acceptance - 0.574) < 0.08, (start, result.acceptance)


def test_ula_bias_matches_theory():
    """ULA on N(μ, σ²) is AR(1) with stationary variance σ² / (1 − h / (2σ²)): larger than σ²."""
    target, n, h = gaussian(), 20_000, 0.4
    x0 = target.sample(n, torch.Generator().manual_seed(0))
    result = ula(target, x0, steps=100, step_size=h, generator=torch.Generator().manual_seed(3))
    expected = VAR / (1 - h / (2 * VAR))
    var_se = expected * math.sqrt(2 / (n - 1))
    var = result.samples.double().var(0)
    assert ((var - expected).abs() < 5 * var_se).all(), (var, expected)
    assert (var - VAR > 5 * VAR * math.sqrt(2 / (n - 1))).any()


def test_svgd_matches_gaussian_moments():
    """500 particles from a wrong start converge to the Gaussian's mean and variance."""
    target, n = gaussian(), 500
    x0 = 3.0 * torch.randn(n, 2, generator=torch.Generator().manual_seed(0))
    x = svgd(target, x0, steps=1000, step_size=0.05).samples.double()
    assert ((x.mean(0) - MU).abs() < 4 * (VAR / n).sqrt()).all(), x.mean(0)
    # SVGD particles are not i.i.d. (they under-disperse slightly in finite n): 10% on variance.
    assert ((x.var(0) / VAR - 1).abs() < 0.1).all(), x.var(0)


def test_svgd_direction_is_the_score_for_one_particle():
    x = torch.tensor([[0.3, -0.2]])
    score = torch.tensor([[1.0, 2.0]])
    assert torch.allclose(svgd_direction(x, score), score)


@pytest.mark.parametrize("fn", [mala, ula])
def test_chains_are_seeded(fn):
    target = gaussian()
    x0 = torch.zeros(100, 2)
    a = fn(target, x0, 20, generator=torch.Generator().manual_seed(5)).samples
    b = fn(target, x0, 20, generator=torch.Generator().manual_seed(5)).samples
    assert torch.equal(a, b)
