"""Neal's funnel (Beyond-ELBOs' funnel10): the density against its definition, log Z by
quadrature, the analytic score, exact samples' moments, the stored spec, and bad parameters."""

import math

import numpy as np
import pytest
import torch

from tests.conftest import assert_score_is_minus_grad_energy
from wgf.targets import TargetError, build_target, load_target, save_target
from wgf.targets.funnel import Funnel, funnel10


def _normal_log_pdf(x: float, var: float) -> float:
    return -0.5 * x * x / var - 0.5 * math.log(2 * math.pi * var)


def test_density_is_the_beyond_elbos_definition():
    """``log p = log N(v; 0, 9) + Σ_i log N(x_i; 0, eᵛ)`` with ``v`` first, coordinate by
    coordinate against ``−E − log Z``."""
    target = funnel10()
    assert target.dim == 10 and target.name == "funnel10"
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(5, 10, generator=gen, dtype=torch.float64) * 2
    got = -target.energy(x) - target.log_z
    for row, value in zip(x.tolist(), got.tolist(), strict=True):
        v, rest = row[0], row[1:]
        want = _normal_log_pdf(v, 9.0) + sum(_normal_log_pdf(r, math.exp(v)) for r in rest)
        assert value == pytest.approx(want, abs=1e-10)


def test_log_z_by_quadrature_in_two_dimensions():
    """d = 2: ``∫∫ e^{−E} dv dx`` on a grid (the x integral in units of e^{v/2}) equals
    ``exp(log Z)``; the trapezoidal rule is accurate to ~1e-10 for these Gaussian tails."""
    target = Funnel(2, 3.0)
    v = np.linspace(-30, 30, 3001)
    u = np.linspace(-12, 12, 2401)  # x = e^{v/2} u, dx = e^{v/2} du
    vv, uu = np.meshgrid(v, u, indexing="ij")
    x = torch.from_numpy(np.stack([vv.ravel(), (np.exp(vv / 2) * uu).ravel()], axis=1))
    f = np.exp(-target.energy(x).numpy().reshape(vv.shape)) * np.exp(vv / 2)
    integral = np.trapezoid(np.trapezoid(f, u, axis=1), v)
    assert math.log(integral) == pytest.approx(target.log_z, abs=1e-8)


def test_score_is_the_gradient_of_minus_the_energy():
    target = funnel10()
    x = torch.randn(64, 10, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert_score_is_minus_grad_energy(target, x, 1e-10, 1e-10, log_p_rtol=1e-5, log_p_atol=1e-10)


def test_exact_samples_have_the_funnels_moments():
    """n = 200 000: mean(v) = 0 and var(v) = 9 within 5 standard errors; E[x_i²] = E[eᵛ] =
    e^{9/2} is heavy-tailed, so check instead E[x_i² e^{−v}] = 1 (a χ²₁ mean, SE √(2/n))."""
    n = 200_000
    x = funnel10().sample(n, torch.Generator().manual_seed(2)).double()
    assert x.shape == (n, 10) and x.dtype == torch.float64
    v = x[:, 0]
    assert abs(float(v.mean())) < 5 * 3 / math.sqrt(n)
    assert abs(float(v.var()) - 9) < 5 * 9 * math.sqrt(2 / n)
    whitened = (x[:, 1:].square() * torch.exp(-v)[:, None]).mean(0)
    assert (whitened - 1).abs().max() < 5 * math.sqrt(2 / n)
    assert abs(float((v < -3).double().mean()) - 0.158655) < 5 * math.sqrt(0.16 * 0.84 / n)


def test_registry_and_stored_spec(tmp_path):
    target = build_target("funnel10")
    assert isinstance(target, Funnel) and target.dim == 10 and target.v_std == 3.0
    wide = build_target("f5", {"kind": "funnel", "params": {"dim": 5, "v_std": 1.5}})
    assert (wide.dim, wide.v_std, wide.name) == (5, 1.5, "f5")
    samples = wide.sample(10, torch.Generator().manual_seed(0))
    save_target(tmp_path / "t.json", tmp_path / "t.npy", wide, samples)
    back = load_target(tmp_path / "t.json")
    assert (back.dim, back.v_std, back.name, back.log_z) == (5, 1.5, "f5", wide.log_z)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"dim": 1}, "dim"),
        ({"dim": 2.5}, "dim"),
        ({"v_std": 0}, "v_std"),
        ({"v_std": "x"}, "bad params"),
    ],
)
def test_bad_parameters(params, message):
    with pytest.raises(TargetError, match=message):
        build_target("f", {"kind": "funnel", "params": params})


def test_the_figures_pair_marginal_is_the_exact_normalised_density():
    """(x₁, v): integrating x₁ out (on a grid scaled by e^{v/2}) leaves N(v; 0, 9), and the
    whole marginal integrates to 1 (trapezoid error ≪ 1e-6 at these grids)."""
    target = Funnel()
    assert target.plot_pair == (1, 0) and target.coordinate_label(0) == "$v$"
    v = torch.linspace(-20, 20, 2001, dtype=torch.float64)
    t = torch.linspace(-12, 12, 2401, dtype=torch.float64)
    scale = torch.exp(v / 2)
    x1 = scale[:, None] * t[None, :]
    pts = torch.stack([x1.ravel(), v.repeat_interleave(len(t))], 1)
    p = target.pair_log_prob(pts).exp().reshape(x1.shape)
    p_v = torch.trapezoid(p, t, dim=1) * scale
    exact_v = torch.exp(-0.5 * (v / 3) ** 2) / (3 * math.sqrt(2 * math.pi))
    torch.testing.assert_close(p_v, exact_v, rtol=1e-6, atol=1e-12)
    assert float(torch.trapezoid(p_v, v)) == pytest.approx(1.0, abs=1e-6)
