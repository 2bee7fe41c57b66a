"""Smoke tests of the figures: files are written, non-trivial and not blank."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.helpers import assert_figure, gmm8_fields, gmm8_response, undercovered_gmm8
from wgf.reporting import plots
from wgf.reporting.plots import samples as sample_plots
from wgf.reporting.plots import style
from wgf.targets import EnergyTarget, GaussianMixture, Target, build_target


def _quadratic(x: torch.Tensor) -> torch.Tensor:
    """A user energy: an anisotropic Gaussian, for the ``EnergyTarget`` path."""
    scale = torch.linspace(1.0, 2.0, x.shape[-1], dtype=x.dtype)
    return 0.5 * (x * scale).pow(2).sum(-1)


def _energy_target(dim: int) -> EnergyTarget:
    return EnergyTarget(f"{__name__}:_quadratic", dim, name=f"quadratic{dim}")


def _samples(target: Target, n: int = 600, seed: int = 0) -> np.ndarray:
    if target.exact:
        return target.sample(n, generator=torch.Generator().manual_seed(seed)).numpy()
    return np.random.default_rng(seed).standard_normal((n, target.dim)) * 0.7


def _histories(with_modes: bool) -> dict[str, list[list[dict[str, str]]] | list[dict[str, str]]]:
    rng = np.random.default_rng(0)

    def run() -> list[dict[str, str]]:
        rows = []
        for step in range(0, 1001, 100):
            row = {"step": str(step), "mmd_median": f"{0.5 * np.exp(-step / 400) + 0.01:.5f}"}
            if with_modes:
                row["mode_weight_max_error"] = f"{0.3 * rng.random():.4f}"
            rows.append(row)
        rows.append({"step": "1001", "mmd_median": ""})  # a CSV cell left empty
        return rows

    return {"reverse_kl": [run(), run(), run()], "alpha_0.5": [run()], "my_method": run()}


TARGETS = {
    "gmm8": lambda: build_target("gmm8"),
    "gmm2hard16": lambda: build_target("gmm2hard16"),
    "energy2": lambda: _energy_target(2),
    "energy3": lambda: _energy_target(3),
    "funnel10": lambda: build_target("funnel10"),  # the (x₁, v) pair over its exact contours
    "manywell32": lambda: build_target("manywell32"),  # (x₁, x₃)
}


@pytest.mark.parametrize("name", list(TARGETS))
def test_samples_and_training_figures(name: str, tmp_path: Path) -> None:
    target = TARGETS[name]()
    samples = {
        "reverse_kl": _samples(target, seed=1),
        "forward_kl": torch.as_tensor(_samples(target, seed=2)),
        "baseline": _samples(target, seed=3) * 1.3,
    }
    metrics = {
        "reverse_kl": {"mmd_median": 0.012, "w2": "0.4", "mode_weight_1": 0.29},
        "baseline": {"mode_weight_max_error": 0.1},
    }
    pdf, png = tmp_path / "s.pdf", tmp_path / "sub" / "s.png"
    plots.plot_samples(
        target, samples, [pdf, str(png)], exact=_samples(target, seed=4), metrics=metrics
    )
    assert_figure(pdf, 3_000)
    assert_figure(png, 10_000)

    exact = isinstance(target, GaussianMixture)
    tpdf, tpng = tmp_path / "t.pdf", tmp_path / "t.png"
    plots.plot_training(_histories(exact), tpdf, path_png=tpng, title=f"{name}: training")
    assert_figure(tpdf, 3_000)
    assert_figure(tpng, 10_000)
    floors = {"mmd_median": (0.01, 0.002)}
    apdf = tmp_path / "a.pdf"
    plots.plot_training(_histories(exact), apdf, panels=["mmd_median"], floors=floors)
    assert_figure(apdf, 3_000)


def test_metric_box_names_the_light_mode() -> None:
    target = build_target("gmm2hard16")
    lines = sample_plots._metric_lines(
        {"mmd_median": "0.0123", "w2": 0.5, "mode_weight_1": 0.31, "extra": 1.0}, target
    )
    assert lines == ["MMD 0.012", "$W_2$ 0.5", "light mode 0.31 (true 0.33)"]
    assert sample_plots._metric_lines({"mode_weight_max_error": float("nan")}, target) == []


def test_empty_samples_raise(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="`samples` is empty"):
        plots.plot_samples(build_target("gmm8"), {}, [tmp_path / "x.png"])
    assert not (tmp_path / "x.png").exists()


def test_wrong_dimension_raises(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="dimension 3 but the target has 2"):
        plots.plot_samples(build_target("gmm8"), {"js": np.zeros((10, 3))}, [tmp_path / "x.png"])


def test_training_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="empty"):
        plots.plot_training({}, tmp_path / "t.pdf")
    with pytest.raises(ValueError, match="no history has numeric values of 'w2'"):
        plots.plot_training({"js": [{"step": 0, "mmd_median": 1.0}]}, tmp_path / "t.pdf", "w2")


def test_colours_and_labels() -> None:
    assert plots.label_for("pearson") == "Pearson χ²"
    assert plots.label_for("my_method") == "my_method"
    assert plots.color_for("reverse_kl") == plots.DIVERGENCE_COLORS["reverse_kl"]
    assert plots.color_for("reverse_kl", 3) == plots.color_for("reverse_kl")
    fallback = style.palette(["js", "alpha_0.5", "alpha_2", "js_other", "a", "b"])
    assert len(set(fallback.values())) == 6
    assert fallback["js"] == plots.DIVERGENCE_COLORS["js"]
    # A name outside the registry never takes a registry name's colour in the same figure.
    fixed = ["neyman", "reverse_kl"]
    mixed = style.palette([*fixed, *(f"method_{i}" for i in range(4))])
    assert len(set(mixed.values())) == 6
    assert [mixed[k] for k in fixed] == [plots.DIVERGENCE_COLORS[k] for k in fixed]
    many = style.palette([*fixed, *(f"method_{i}" for i in range(12))])  # a comparison figure
    assert len(set(many.values())) == 14


def test_non_finite_samples_raise(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no finite rows"):
        plots.plot_samples(
            build_target("gmm8"), {"js": np.full((5, 2), np.nan)}, [tmp_path / "x.png"]
        )


def test_lv_reference_figure_and_seed_summary(tmp_path: Path) -> None:
    gmm8, hard = build_target("gmm8"), build_target("gmm2hard16")
    names = ["reverse_kl", "lv_q", "lv"]
    runs = [{"mode_weight_1": w, "mmd_median": 0.1} for w in (0.2, 0.3)]
    panels = [
        (gmm8, {n: _samples(gmm8, seed=i) for i, n in enumerate(names)}, {}),
        (hard, {n: _samples(hard, seed=i) for i, n in enumerate(names)}, {"lv": runs}),
    ]
    paths = [tmp_path / "lv.pdf", tmp_path / "lv.png"]
    plots.plot_lv_reference(
        panels,
        paths,
        exact={"gmm2hard16": _samples(hard, 300, 9)},
        labels={"gmm2hard16": {"lv": "LV, mixture"}},
    )
    assert_figure(paths[0], 10_000)
    assert_figure(paths[1], 10_000)
    # mean ± population std over seeds of the light mode (index 1, weight 1/3)
    lines = sample_plots._seed_summary(hard, runs)
    assert lines[0] == "light mode 0.25 ± 0.05 (true 0.33)"
    assert lines[-1] == "2 seed(s)"
    with pytest.raises(ValueError, match="no targets"):
        plots.plot_lv_reference([], paths)


# --------------------------------------------------------------------------- theory diagnostics


@pytest.fixture(scope="module")
def response():
    return gmm8_response(*undercovered_gmm8())


@pytest.fixture(scope="module")
def fields():
    return gmm8_fields(build_target("gmm8"))


def test_plot_regional_response(tmp_path, response):
    plots.plot_regional_response(response, tmp_path / "rr.pdf", tmp_path / "rr.png")
    assert_figure(tmp_path / "rr.pdf", 5_000)
    assert_figure(tmp_path / "rr.png")


def test_plot_undercoverage(tmp_path):
    def run(rate):
        return [
            {"step": str(s), "undercoverage": f"{0.25 * math.exp(-s / rate):.6f}"}
            for s in range(0, 501, 50)
        ]

    hist = {"reverse_kl": [run(300), run(250)], "forward_kl": [run(60)]}
    plots.plot_undercoverage(hist, tmp_path / "u.pdf", tmp_path / "u.png", title="gmm8")
    assert_figure(tmp_path / "u.png")
    with pytest.raises(ValueError, match="undercoverage"):
        plots.plot_undercoverage({"reverse_kl": [[{"step": "0", "loss": "1"}]]}, tmp_path / "x.pdf")


def test_plot_fields(tmp_path, fields):
    plots.plot_fields(fields, tmp_path / "f.pdf", tmp_path / "f.png")
    assert_figure(tmp_path / "f.pdf")
    assert_figure(tmp_path / "f.png")
    with pytest.raises(ValueError, match="no vector field"):
        plots.plot_fields({k: fields[k] for k in ("x", "y", "log_r")}, tmp_path / "x.pdf")


# --------------------------------------------------------------------------- MALA's cost


def test_mala_cost_figure(tmp_path):
    curve = [
        {"target_evaluations_per_sample": e, "mmd_median": m} for e, m in ((8, 0.1), (62, 0.02))
    ]
    best = {
        "best_method": "generator_kde",
        "best_divergence": "reverse_kl",
        "train_evaluations": 3e6,
        "train_wall_s": 30.0,
        "mmd_median": {
            "reached": True,
            "mala_steps": 30,
            "break_even_evaluations": 5e4,
            "break_even_wall": 1e6,
        },
    }
    path = tmp_path / "cost.pdf"
    plots.plot_mala_cost("gmm8", {"mala": curve}, {"generator_kde reverse_kl": 0.03}, best, [path])
    assert path.stat().st_size > 5_000


def test_marginal_summary_is_standardised_by_the_reference() -> None:
    rng = np.random.default_rng(0)
    ref = rng.normal(3.0, 2.0, size=(20_000, 3))
    own = plots.marginals.marginal_summary(ref, ref)
    np.testing.assert_allclose(own["mean_error"], 0.0, atol=1e-12)
    np.testing.assert_allclose(own["std_ratio"], 1.0, rtol=1e-12)
    # a N(0, 1) reference's quantiles 5/25/50/75/95 %: the sample's within a few MC errors
    # (sd of a quantile ≈ sqrt(p(1-p)/n)/φ(z_p) ≤ 0.015 at n = 20 000)
    z = np.array([-1.6449, -0.6745, 0.0, 0.6745, 1.6449])
    np.testing.assert_allclose(own["quantiles"], np.repeat(z[:, None], 3, 1), atol=0.06)
    moved = ref * np.array([1.0, 0.5, 1.0]) + np.array(
        [4.0, 0.0, 0.0]
    )  # +2 sd; half the sd (and mean)
    other = plots.marginals.marginal_summary(moved, ref)
    np.testing.assert_allclose(other["mean_error"], [2.0, -0.75, 0.0], atol=0.05)
    np.testing.assert_allclose(other["std_ratio"], [1.0, 0.5, 1.0], rtol=0.03)


def test_marginals_figure(tmp_path: Path) -> None:
    target = build_target("logreg_cancer")
    rng = np.random.default_rng(1)
    ref = rng.standard_normal((2000, target.dim)) * 3.0
    samples = {"generator forward_kl": ref[:1000] + 30.0, "mala": ref[1000:]}  # one off-range
    paths = [tmp_path / "m.pdf", tmp_path / "m.png"]
    plots.plot_marginals(target, samples, ref, paths, reference_label="long-chain reference")
    assert_figure(paths[1])
    assert paths[0].stat().st_size > 1000
    with pytest.raises(ValueError, match="reference"):
        plots.plot_marginals(target, samples, ref[:, :3], paths)
    with pytest.raises(ValueError, match="samples\\['mala'\\]"):
        plots.plot_marginals(target, {"mala": ref[:, :3]}, ref, paths)
    with pytest.raises(ValueError, match="empty"):
        plots.plot_marginals(target, {}, ref, paths)


def test_energy_figure_against_exact_mala_or_nothing(tmp_path: Path) -> None:
    from wgf import jobs

    target = build_target("manywell32")
    exact = _samples(target, 2000, seed=0)
    samples = {"generator forward_kl": _samples(target, 2000, seed=1), "mala": exact + 0.3}
    for reference, against in ((exact, "exact vs exact"), (exact[:0], "mala vs mala")):
        drawn, rows, md = jobs.energy_histograms(target, samples, reference, "exact")
        assert rows[0]["method"] == against and f"| {against} | 1000 |" in md
        assert ("not an exact sample" in md) == (against == "mala vs mala")
        path = tmp_path / f"{against[:4]}.png"
        plots.plot_energy(target.name, drawn, rows, [path])
        assert_figure(path)
    drawn, rows, md = jobs.energy_histograms(target, {"g": exact}, exact[:0], "exact")
    assert drawn["reference"] is None and "energies only" in md and "energy_tv" not in rows[0]
    plots.plot_energy(target.name, drawn, rows, [tmp_path / "none.png"])
    assert_figure(tmp_path / "none.png")
