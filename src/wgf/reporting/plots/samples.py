"""Figures of samples: one panel per method over the target density (2-D), the projection on
the axis joining the first two modes, or pairwise scatter plots; and the LV-reference figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ...evaluation.metrics import as_samples, subsample
from ...evaluation.target_metrics import energies
from ...targets import GaussianMixture, Target
from .style import (
    CORNERS,
    STYLE,
    annotate,
    as_float,
    label_for,
    palette,
    save_figure,
)

__all__ = ["plot_lv_reference", "plot_samples"]

_EXACT_COLOR = "#8C8C8C"
_PANEL_IN = 3.2
_MAX_COLS = 5
_GRID = 220
_LOG_P_SPAN = 12.0
_N_LEVELS = 10
_N_BINS = 80
_CONTOUR_CMAP = ListedColormap(plt.get_cmap("Greys")(np.linspace(0.04, 0.42, 256)))


def _samples(a, name: str, dim: int | None = None) -> np.ndarray:
    """A sample set to draw: float64 ``(n, d)``, its non-finite rows dropped."""
    return as_samples(a, name, dim, drop_non_finite=True)


def _mixture_box(target: GaussianMixture) -> tuple[float, float, float, float]:
    """Square (x0, x1, y0, y1) covering every component to ± 4 std, padded by 5 %."""
    means = target.means.numpy()[:, :2]
    stds = np.sqrt(np.diagonal(target.covs.numpy(), axis1=1, axis2=2)[:, :2])
    lo = (means - 4 * stds).min(axis=0)
    hi = (means + 4 * stds).max(axis=0)
    return _square(lo, hi)


def _square(lo: np.ndarray, hi: np.ndarray, pad: float = 0.05) -> tuple[float, float, float, float]:
    centre = 0.5 * (lo + hi)
    half = 0.5 * float(np.max(hi - lo)) * (1 + 2 * pad)
    half = half if half > 0 else 1.0
    return centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half


def _log_density_grid(
    log_density: Callable[[torch.Tensor], torch.Tensor | None],
    box: tuple[float, float, float, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """A ``_GRID²`` mesh over ``box`` and ``log_density`` on it, shifted to a maximum of 0
    (``None`` where ``log_density`` returns None: no closed form to draw)."""
    gx = np.linspace(box[0], box[1], _GRID)
    gy = np.linspace(box[2], box[3], _GRID)
    xx, yy = np.meshgrid(gx, gy)
    pts = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], axis=1))
    with torch.no_grad():
        logp = log_density(pts)
    if logp is None:
        return xx, yy, None
    z = logp.detach().double().cpu().numpy().reshape(xx.shape)
    z = np.where(np.isfinite(z), z, -np.inf)
    return xx, yy, z - np.max(z)


def _draw_contours(ax: Axes, xx: np.ndarray, yy: np.ndarray, z: np.ndarray) -> None:
    levels = np.linspace(-_LOG_P_SPAN, 0.0, _N_LEVELS + 1)
    zc = np.maximum(z, -10 * _LOG_P_SPAN)  # keep -inf out of the contouring
    filled = ax.contourf(xx, yy, zc, levels=levels, cmap=_CONTOUR_CMAP, zorder=0)
    lines = ax.contour(
        xx,
        yy,
        zc,
        levels=levels[1:],
        colors="#9A9A9A",
        linewidths=0.3,
        linestyles="solid",
        zorder=1,
    )
    filled.set_rasterized(True)
    lines.set_rasterized(True)


def _projection(target: GaussianMixture) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unit axis ``u``, origin ``m0``, and the projected component means and stds."""
    means = target.means.numpy()
    covs = target.covs.numpy()
    m0 = means[0]
    if means.shape[0] >= 2 and np.linalg.norm(means[1] - m0) > 0:
        u = (means[1] - m0) / np.linalg.norm(means[1] - m0)
    else:
        u = np.zeros(target.dim)
        u[0] = 1.0
    mu = (means - m0) @ u
    sd = np.sqrt(np.einsum("i,kij,j->k", u, covs, u))
    return u, m0, mu, sd


def _mixture_pdf_1d(t: np.ndarray, w: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    z = (t[:, None] - mu[None]) / sd[None]
    return (w[None] * np.exp(-0.5 * z**2) / (sd[None] * math.sqrt(2 * math.pi))).sum(axis=1)


def _metric_lines(m: Mapping[str, Any], target: Target) -> list[str]:
    vals = {k: as_float(v) for k, v in m.items()}
    lines: list[str] = []

    def add(key: str, fmt: str) -> None:
        v = vals.get(key, math.nan)
        if math.isfinite(v):
            lines.append(fmt.format(v))

    add("mmd_median", "MMD {:.2g}")
    add("w2", "$W_2$ {:.2g}")
    if "mmd_median" not in vals:
        add("ksd", "KSD {:.2g}")
        add("mean_energy", "mean E {:.3g}")
    weights = target.weights.numpy() if isinstance(target, GaussianMixture) else None
    if weights is not None and weights.size == 2:
        light = int(np.argmin(weights))
        add(f"mode_weight_{light}", "light mode {:.2f}" + f" (true {weights[light]:.2f})")
    add("mode_weight_max_error", "max |Δw| {:.2f}")
    add("neck_fraction", "share v < −3: {:.3f}")
    add("well_weight_error_max", "max well |Δw| {:.2f}")
    return lines[:3]


def _region(loc: str, w: float = 0.44, h: float = 0.22) -> tuple[float, float, float, float]:
    """Axes-fraction rectangle (x0, x1, y0, y1) a metrics box anchored at ``loc`` covers."""
    x, y, ha, va = CORNERS[loc]
    x0 = {"left": x, "right": x - w, "center": x - w / 2}[ha]
    y0 = y - h if va == "top" else y
    return x0, x0 + w, y0, y0 + h


def _plane_axes(ax: Any, box: Sequence[float]) -> None:
    """Square 2-D panel over ``box = (x0, x1, y0, y1)`` with x₁/x₂ labels."""
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.locator_params(nbins=5)


def _emptiest_corner_2d(
    fx: np.ndarray, fy: np.ndarray, gx: np.ndarray, gy: np.ndarray, gmass: np.ndarray
) -> str:
    """Corner whose box would hide the fewest samples plus the least target mass."""
    best, best_score = "upper left", math.inf
    for loc in ("upper left", "upper right", "lower left", "lower right"):
        x0, x1, y0, y1 = _region(loc)
        pin = np.mean((fx >= x0) & (fx <= x1) & (fy >= y0) & (fy <= y1)) if fx.size else 0.0
        gin = gmass[(gx >= x0) & (gx <= x1) & (gy >= y0) & (gy <= y1)].sum()
        score = float(pin + gin)
        if score < best_score - 1e-3:
            best, best_score = loc, score
    return best


def plot_samples(
    target: Target,
    samples: Mapping[str, np.ndarray | torch.Tensor],
    paths: Sequence[str | Path],
    exact: np.ndarray | None = None,
    metrics: dict[str, dict[str, float]] | None = None,
    max_points: int = 5000,
) -> None:
    """One panel per entry of ``samples`` (in order) against the target; saved to every path.

    2-D targets: scatter over contours of ``log p``. Higher-dimensional Gaussian mixtures:
    histogram of the projection on the axis joining the first two means against the exact
    projected density (and ``exact``'s histogram). Other targets: scatter of the target's
    ``plot_pair`` over that marginal's exact contours where it has them. ``metrics[name]`` (if
    given) is summarised in a small box on the panel.
    """
    if not samples:
        raise ValueError("plot_samples: `samples` is empty; pass at least one {name: array}")
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if not paths:
        raise ValueError("plot_samples: `paths` is empty; nowhere to save the figure")
    names = list(samples)
    data = {k: _samples(v, f"samples[{k!r}]", target.dim) for k, v in samples.items()}
    ref = None if exact is None or not len(exact) else _samples(exact, "exact", target.dim)
    colors = palette(names)
    metrics = metrics or {}

    n = len(names)
    ncols = min(n, _MAX_COLS)
    nrows = math.ceil(n / ncols)
    if target.dim == 2:
        mode = "contour"
    elif isinstance(target, GaussianMixture):
        mode = "projection"
    else:
        mode = "scatter"

    with plt.rc_context(STYLE):
        height = 0.78 * _PANEL_IN if mode == "projection" else _PANEL_IN
        legend = mode != "contour"
        fig_h = height * nrows + 0.4 + (0.3 if legend else 0.0)
        # A bare Figure (not registered with pyplot): nothing to close, nothing leaks on error.
        fig = Figure(figsize=(_PANEL_IN * ncols, fig_h), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False, sharex=mode == "projection")
        fig.get_layout_engine().set(h_pad=0.06, w_pad=0.05, hspace=0.04)
        flat = list(axes.ravel())
        for ax in flat[n:]:
            ax.set_visible(False)

        if mode == "contour":
            notes = _plot_2d(target, names, data, flat, colors, max_points)
        elif mode == "projection":
            assert isinstance(target, GaussianMixture)
            notes = _plot_projection(target, names, data, ref, flat, colors, ncols)
        else:
            notes = _plot_pairs(target, names, data, ref, flat, colors, max_points)

        for i, (name, ax) in enumerate(zip(names, flat, strict=False)):
            ax.set_title(label_for(name), color=colors[name], fontweight="bold")
            loc, extra = notes[name]
            lines = _metric_lines(metrics[name], target) if name in metrics else []
            annotate(ax, lines + extra, loc)
            if i % ncols:
                ax.set_ylabel("")
        note = "" if ref is not None else ", no exact samples: scored by KSD"
        fig.suptitle(f"{target.name}: samples (d = {target.dim}{note})", fontsize=11)
        if legend:
            handles = _legend_handles(mode, ref is not None)
            fig.legend(
                handles=handles, loc="outside lower center", ncol=len(handles), frameon=False
            )
        save_figure(fig, paths)


Notes = dict[str, tuple[str, list[str]]]


def _pm(mean: float, std: float, fmt: str) -> str:
    return format(mean, fmt) + ("" if math.isnan(std) else " ± " + format(std, fmt))


def _seed_summary(target: Target, runs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Mean ± std over seeds of what a reference changes: the light-mode weight of a two-mode
    mixture, the worst mode-weight error and the coverage of a many-mode one."""

    def stat(key: str) -> tuple[float, float] | None:
        vals = [as_float(m[key]) for m in runs if key in m]
        vals = [v for v in vals if math.isfinite(v)]
        if not vals:
            return None
        return float(np.mean(vals)), float(np.std(vals)) if len(vals) > 1 else math.nan

    lines = []
    weights = target.weights.numpy() if isinstance(target, GaussianMixture) else None
    if weights is not None and weights.size == 2:
        light = int(np.argmin(weights))
        s = stat(f"mode_weight_{light}")
        if s:
            lines.append(f"light mode {_pm(*s, '.2f')} (true {weights[light]:.2f})")
    else:
        for key, label, fmt in (
            ("mode_weight_max_error", "max |Δw|", ".3f"),
            ("mode_coverage", "coverage", ".2f"),
        ):
            s = stat(key)
            if s:
                lines.append(f"{label} {_pm(*s, fmt)}")
    s = stat("mmd_median")
    if s:
        lines.append(f"MMD {_pm(*s, '.2g')}")
    lines.append(f"{len(runs)} seed(s)")
    return lines


def plot_lv_reference(
    panels: Sequence[tuple[Target, Mapping[str, np.ndarray], Mapping[str, Sequence[Mapping]]]],
    paths: Sequence[str | Path],
    exact: Mapping[str, np.ndarray] | None = None,
    labels: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """One row per target, one column per divergence (reverse KL, then LV with each reference ν).

    ``panels`` holds ``(target, samples[name], metrics[name] = [one dict per seed])``; each panel
    shows the samples of one seed and a box with the mean ± std over seeds of the number that a
    reference changes (light-mode weight, worst mode-weight error, coverage). ``labels[target]
    [name]`` overrides a panel's title.
    """
    if not panels:
        raise ValueError("plot_lv_reference: no targets to draw")
    if isinstance(paths, (str, Path)):
        paths = [paths]
    exact, labels = exact or {}, labels or {}
    ncols = max(len(samples) for _, samples, _ in panels)
    heights = [0.8 * _PANEL_IN if t.dim != 2 else _PANEL_IN for t, _, _ in panels]
    with plt.rc_context(STYLE):
        fig = Figure(figsize=(_PANEL_IN * ncols, sum(heights) + 0.7), layout="constrained")
        rows = fig.subfigures(len(panels), 1, height_ratios=heights, squeeze=False)[:, 0]
        for sub, (target, samples, metrics) in zip(rows, panels, strict=True):
            names = list(samples)
            data = {k: _samples(v, f"samples[{k!r}]", target.dim) for k, v in samples.items()}
            axes = list(sub.subplots(1, ncols, squeeze=False)[0])
            for ax in axes[len(names) :]:
                ax.set_visible(False)
            colors = palette(names)
            if target.dim == 2:
                notes = _plot_2d(target, names, data, axes, colors, 4000)
            elif isinstance(target, GaussianMixture):
                ref = exact.get(target.name)
                ref = None if ref is None or not len(ref) else _samples(ref, "exact")
                notes = _plot_projection(target, names, data, ref, axes, colors, ncols)
                handles = _legend_handles("projection", ref is not None)
                sub.legend(handles=handles, loc="outside lower center", ncol=len(handles))
            else:
                notes = _plot_pairs(target, names, data, None, axes, colors, 4000)
            for i, (name, ax) in enumerate(zip(names, axes, strict=False)):
                title = labels.get(target.name, {}).get(name, label_for(name))
                ax.set_title(title, color=colors[name], fontweight="bold", fontsize=9)
                loc, extra = notes[name]
                annotate(ax, _seed_summary(target, metrics.get(name, [])) + extra, loc)
                if i:
                    ax.set_ylabel("")
            sub.suptitle(f"{target.name} (d = {target.dim})", fontsize=10)
        fig.suptitle(
            "What the LV reference ν repairs: samples of one seed; boxes: mean ± std over seeds",
            fontsize=11,
        )
        save_figure(fig, paths)


def _legend_handles(mode: str, with_exact: bool) -> list[Artist]:
    """Colour-neutral legend entries (each panel draws its samples in its own colour)."""
    if mode == "projection":
        handles: list[Artist] = [
            Patch(facecolor="#C8C8C8", edgecolor="#6E6E6E", lw=0.8, label="samples"),
        ]
        if with_exact:
            handles.append(Line2D([], [], color=_EXACT_COLOR, lw=0.9, label="exact samples"))
        handles.append(Line2D([], [], color="black", lw=1.1, label="target density"))
        return handles
    handles = [Line2D([], [], ls="", marker="o", ms=4, color="#6E6E6E", label="samples")]
    if with_exact:
        handles.append(
            Line2D([], [], ls="", marker="o", ms=4, color="#C8C8C8", label="exact samples")
        )
    return handles


def _plot_2d(
    target: Target,
    names: list[str],
    data: dict[str, np.ndarray],
    axes: list[Axes],
    colors: dict[str, str],
    max_points: int,
) -> Notes:
    if isinstance(target, GaussianMixture):
        box = _mixture_box(target)
    else:
        allx = np.concatenate(list(data.values()))
        lo, hi = np.percentile(allx, 0.5, axis=0), np.percentile(allx, 99.5, axis=0)
        box = _square(lo, hi, pad=0.15)
    xx, yy, z = _log_density_grid(lambda pts: -torch.from_numpy(energies(target, pts)), box)
    width, height = box[1] - box[0], box[3] - box[2]
    gmass = np.exp(z)
    gmass = gmass / gmass.sum()
    gx, gy = (xx - box[0]) / width, (yy - box[2]) / height
    notes: Notes = {}
    for name, ax in zip(names, axes, strict=False):
        x = data[name]
        _draw_contours(ax, xx, yy, z)
        pts = subsample(x, max_points, np.random.default_rng(0))
        ax.scatter(
            pts[:, 0],
            pts[:, 1],
            s=1.5 if pts.shape[0] > 2000 else 3.0,
            c=colors[name],
            alpha=0.5,
            linewidths=0,
            rasterized=True,
            zorder=2,
        )
        _plane_axes(ax, box)
        fx, fy = (x[:, 0] - box[0]) / width, (x[:, 1] - box[2]) / height
        outside = float(np.mean((fx < 0) | (fx > 1) | (fy < 0) | (fy > 1)))
        extra = [f"{100 * outside:.1f}% outside view"] if outside >= 0.005 else []
        notes[name] = (_emptiest_corner_2d(fx, fy, gx, gy, gmass), extra)
    return notes


def _plot_projection(
    target: GaussianMixture,
    names: list[str],
    data: dict[str, np.ndarray],
    ref: np.ndarray | None,
    axes: list[Axes],
    colors: dict[str, str],
    ncols: int,
) -> Notes:
    u, m0, mu, sd = _projection(target)
    w = target.weights.numpy()
    proj = {k: (x - m0) @ u for k, x in data.items()}
    lo, hi = float((mu - 5 * sd).min()), float((mu + 5 * sd).max())
    for t in proj.values():  # widen to show samples that missed the target, within reason
        lo = min(lo, float(np.percentile(t, 0.5)))
        hi = max(hi, float(np.percentile(t, 99.5)))
    pad = 0.03 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    edges = np.linspace(lo, hi, _N_BINS + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
    grid = np.linspace(lo, hi, 600)
    pdf = _mixture_pdf_1d(grid, w, mu, sd)
    t_ref = None if ref is None else (ref - m0) @ u
    n = len(names)
    notes: Notes = {}
    for i, (name, ax) in enumerate(zip(names, axes, strict=False)):
        dens = _density(proj[name], edges)
        ax.stairs(dens, edges, fill=True, color=colors[name], alpha=0.4, lw=0, label="samples")
        ax.stairs(dens, edges, color=colors[name], lw=0.8)
        if t_ref is not None:
            ax.stairs(
                _density(t_ref, edges),
                edges,
                color=_EXACT_COLOR,
                lw=0.8,
                alpha=0.9,
                label="exact samples",
            )
        ax.plot(grid, pdf, color="black", lw=1.1, label="target density")
        top = 1.12 * max(float(dens.max()), float(pdf.max()))
        ax.set_xlim(lo, hi)
        ax.set_ylim(0, top)
        ax.set_ylabel("density")
        if i >= n - ncols:
            ax.set_xlabel("projection on the axis joining the modes")
        ax.tick_params(labelbottom=True)
        # metrics box where the curves are lowest
        height = np.maximum(np.interp(centres, grid, pdf), dens) / top
        best, best_score = "upper left", math.inf
        for loc in ("upper left", "upper center", "upper right"):
            x0, x1, _, _ = _region(loc)
            sel = (centres - lo) / (hi - lo)
            score = float(height[(sel >= x0) & (sel <= x1)].max(initial=0.0))
            if score < best_score - 0.02:
                best, best_score = loc, score
        notes[name] = (best, [])
    return notes


def _density(t: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Histogram as a density of *all* points: mass outside ``edges`` is not renormalised in."""
    counts, _ = np.histogram(t, bins=edges)
    return counts / (max(t.size, 1) * np.diff(edges))


def _plot_pairs(
    target: Target,
    names: list[str],
    data: dict[str, np.ndarray],
    ref: np.ndarray | None,
    axes: list[Axes],
    colors: dict[str, str],
    max_points: int,
) -> Notes:
    """Scatter of the target's ``plot_pair`` over the exact contours of that 2-D marginal where
    the target has them; the view spans the exact (or reference) sample where there is one."""
    i, j = target.plot_pair
    pairs = {k: v[:, [i, j]] for k, v in data.items()}
    ref_pair = None if ref is None else ref[:, [i, j]]
    view = ref_pair if ref_pair is not None else np.concatenate(list(pairs.values()))
    lo, hi = np.percentile(view, 0.5, axis=0), np.percentile(view, 99.5, axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-9)
    box = (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])
    width, height = box[1] - box[0], box[3] - box[2]
    xx, yy, z = _log_density_grid(target.pair_log_prob, box)
    notes: Notes = {}
    for name, ax in zip(names, axes, strict=False):
        if z is not None:
            _draw_contours(ax, xx, yy, z)
        if ref_pair is not None:
            r = subsample(ref_pair, max_points, np.random.default_rng(1))
            ax.scatter(
                r[:, 0],
                r[:, 1],
                s=2,
                c="#B0B0B0",
                alpha=0.4,
                linewidths=0,
                rasterized=True,
                zorder=1,
                label="exact samples",
            )
        pts = subsample(pairs[name], max_points, np.random.default_rng(0))
        ax.scatter(
            pts[:, 0],
            pts[:, 1],
            s=2.5,
            c=colors[name],
            alpha=0.5,
            linewidths=0,
            rasterized=True,
            zorder=2,
            label="samples",
        )
        ax.set_xlim(box[0], box[1])
        ax.set_ylim(box[2], box[3])
        ax.set_xlabel(target.coordinate_label(i))
        ax.set_ylabel(target.coordinate_label(j))
        ax.locator_params(nbins=5)
        x = pairs[name]
        fx, fy = (x[:, 0] - box[0]) / width, (x[:, 1] - box[2]) / height
        outside = float(np.mean((fx < 0) | (fx > 1) | (fy < 0) | (fy > 1))) if len(x) else 0.0
        extra = [f"{100 * outside:.1f}% outside view"] if outside >= 0.005 else []
        empty = np.zeros(1)
        notes[name] = (_emptiest_corner_2d(fx, fy, empty, empty, empty), extra)
    return notes
