"""Figures: generated samples against the target, and training curves per divergence.

Every figure uses one colour per divergence (a fixed mapping for the registry names, a fallback
cycle for anything else), is laid out tightly and is saved to every requested path (PNG at
150 dpi). Drawing leaves matplotlib's global state alone: it runs inside ``rc_context`` on
figures that pyplot does not track.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.colors import ListedColormap, to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from wgf.divergences import UnknownDivergence, get_divergence  # noqa: E402
from wgf.targets import GaussianMixture, Target  # noqa: E402

__all__ = [
    "DIVERGENCE_COLORS",
    "color_for",
    "label_for",
    "plot_lv_reference",
    "plot_mala_cost",
    "plot_samples",
    "plot_training",
]

# Okabe–Ito palette: distinguishable in colour-blind vision and in greyscale print.
DIVERGENCE_COLORS: dict[str, str] = {
    "reverse_kl": "#0072B2",
    "forward_kl": "#D55E00",
    "js": "#009E73",
    "hellinger": "#CC79A7",
    "pearson": "#E69F00",
    "neyman": "#222222",
    "lv": "#882255",
    "lv_surrogate": "#56B4E9",
    "lv_q": "#999933",
    "lv_flow": "#332288",
    "lv_mixture": "#882255",
}
_FALLBACK_COLORS = ("#7B3294", "#8C564B", "#222222", "#A50026", "#808000")
_REFERENCE_COLOR = "#8C8C8C"
_PNG_DPI = 150
_PANEL_IN = 3.2
_MAX_COLS = 5
_GRID = 220
_LOG_P_SPAN = 12.0
_N_LEVELS = 10
_N_BINS = 80
_CONTOUR_CMAP = ListedColormap(plt.get_cmap("Greys")(np.linspace(0.04, 0.42, 256)))
# Candidate anchors for the metrics box, in axes fractions: (x, y, ha, va).
_CORNERS = {
    "upper left": (0.03, 0.97, "left", "top"),
    "upper right": (0.97, 0.97, "right", "top"),
    "lower left": (0.03, 0.03, "left", "bottom"),
    "lower right": (0.97, 0.03, "right", "bottom"),
    "upper center": (0.5, 0.97, "center", "top"),
}

_BOX_STYLE = {"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#BBBBBB", "lw": 0.5, "alpha": 0.85}
_STYLE: dict[str, Any] = {
    "font.size": 8.5,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.7,
    "figure.dpi": 100,
    "savefig.dpi": _PNG_DPI,
    "pdf.fonttype": 42,
}

_METRIC_LABELS = {
    "mmd_median": "MMD (median bandwidth)",
    "mmd_multi": "MMD (multi-scale)",
    "w2": r"$W_2$ to exact samples",
    "sinkhorn": "Sinkhorn divergence",
    "mode_weight_max_error": "max mode-weight error",
    "mode_weight_tv": "mode-weight TV",
    "loss": "loss",
}


def label_for(name: str) -> str:
    """Pretty label: the divergence's label if ``name`` is one, else ``name`` itself."""
    try:
        return get_divergence(name).label
    except UnknownDivergence:
        return name


def color_for(name: str, fallback_index: int | None = None) -> str:
    """Fixed colour of a registry divergence; another name takes slot ``fallback_index`` of a
    fallback cycle, by default a stable hash of the name (so it keeps its colour across figures).
    """
    if name in DIVERGENCE_COLORS:
        return DIVERGENCE_COLORS[name]
    if fallback_index is None:
        fallback_index = zlib.crc32(name.encode())
    return _FALLBACK_COLORS[fallback_index % len(_FALLBACK_COLORS)]


def _colors(names: Sequence[str]) -> dict[str, str]:
    """One colour per name: registry names fixed, others hashed into the fallback cycle, moving
    on to the next free slot when one would share a colour with another name in the figure (and
    to a wider palette once the cycle is used up)."""
    out = {k: DIVERGENCE_COLORS[k] for k in names if k in DIVERGENCE_COLORS}
    used = set(out.values())
    for name in names:
        if name in out:
            continue
        start = zlib.crc32(name.encode())
        for i in range(len(_FALLBACK_COLORS)):
            color = color_for(name, start + i)
            if color not in used:
                break
        else:  # more names than fallback slots: the first free colour of a wider palette
            wider = (to_hex(c) for c in matplotlib.colormaps["tab20"].colors)
            color = next((c for c in wider if c not in used), color_for(name, start))
        out[name] = color
        used.add(color)
    return out


def _to_numpy(a: Any, name: str, dim: int | None = None) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty (n, d) array, got shape {arr.shape}")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(f"{name} has dimension {arr.shape[1]} but the target has {dim}")
    arr = arr[np.isfinite(arr).all(axis=1)]
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has no finite rows")
    return arr


def _subsample(x: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    if x.shape[0] <= n:
        return x
    idx = np.random.default_rng(seed).choice(x.shape[0], size=n, replace=False)
    return x[idx]


def _save(fig: Figure, paths: Sequence[str | Path]) -> None:
    for p in paths:
        path = Path(p)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=_PNG_DPI, bbox_inches="tight", pad_inches=0.04)


def _as_float(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


# --------------------------------------------------------------------------- samples


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
    target: Target, box: tuple[float, float, float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    gx = np.linspace(box[0], box[1], _GRID)
    gy = np.linspace(box[2], box[3], _GRID)
    xx, yy = np.meshgrid(gx, gy)
    pts = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], axis=1))
    with torch.no_grad():
        try:
            logp = -target.energy(pts)
        except RuntimeError:  # a user energy that only accepts float32
            logp = -target.energy(pts.float())
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
    vals = {k: _as_float(v) for k, v in m.items()}
    lines: list[str] = []

    def add(key: str, fmt: str) -> None:
        v = vals.get(key, math.nan)
        if math.isfinite(v):
            lines.append(fmt.format(v))

    add("mmd_median", "MMD {:.2g}")
    add("w2", "$W_2$ {:.2g}")
    weights = target.weights.numpy() if isinstance(target, GaussianMixture) else None
    if weights is not None and weights.size == 2:
        light = int(np.argmin(weights))
        add(f"mode_weight_{light}", "light mode {:.2f}" + f" (true {weights[light]:.2f})")
    add("mode_weight_max_error", "max |Δw| {:.2f}")
    return lines[:3]


def _annotate(ax: Axes, lines: list[str], loc: str = "upper left") -> None:
    if not lines:
        return
    x, y, ha, va = _CORNERS[loc]
    ax.text(
        x,
        y,
        "\n".join(lines),
        transform=ax.transAxes,
        ha=ha,
        va=va,
        multialignment="left",
        fontsize=7,
        linespacing=1.3,
        zorder=10,
        bbox=_BOX_STYLE,
    )


def _region(loc: str, w: float = 0.44, h: float = 0.22) -> tuple[float, float, float, float]:
    """Axes-fraction rectangle (x0, x1, y0, y1) a metrics box anchored at ``loc`` covers."""
    x, y, ha, va = _CORNERS[loc]
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
    reference: np.ndarray | None = None,
    metrics: dict[str, dict[str, float]] | None = None,
    max_points: int = 5000,
) -> None:
    """One panel per entry of ``samples`` (in order) against the target; saved to every path.

    2-D targets: scatter over contours of ``log p``. Higher-dimensional Gaussian mixtures:
    histogram of the projection on the axis joining the first two means against the exact
    projected density (and ``reference``'s histogram). Other targets: scatter of the first two
    coordinates. ``metrics[name]`` (if given) is summarised in a small box on the panel.
    """
    if not samples:
        raise ValueError("plot_samples: `samples` is empty; pass at least one {name: array}")
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if not paths:
        raise ValueError("plot_samples: `paths` is empty; nowhere to save the figure")
    names = list(samples)
    data = {k: _to_numpy(v, f"samples[{k!r}]", target.dim) for k, v in samples.items()}
    ref = None if reference is None else _to_numpy(reference, "reference", target.dim)
    colors = _colors(names)
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

    with plt.rc_context(_STYLE):
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
            notes = _plot_pairs(names, data, ref, flat, colors, max_points)

        for i, (name, ax) in enumerate(zip(names, flat, strict=False)):
            ax.set_title(label_for(name), color=colors[name], fontweight="bold")
            loc, extra = notes[name]
            lines = _metric_lines(metrics[name], target) if name in metrics else []
            _annotate(ax, lines + extra, loc)
            if i % ncols:
                ax.set_ylabel("")
        fig.suptitle(f"{target.name}: samples (d = {target.dim})", fontsize=11)
        if legend:
            handles = _legend_handles(mode, ref is not None)
            fig.legend(
                handles=handles, loc="outside lower center", ncol=len(handles), frameon=False
            )
        _save(fig, paths)


Notes = dict[str, tuple[str, list[str]]]


def _pm(mean: float, std: float, fmt: str) -> str:
    return format(mean, fmt) + ("" if math.isnan(std) else " ± " + format(std, fmt))


def _seed_summary(target: Target, runs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Mean ± std over seeds of what a reference changes: the light-mode weight of a two-mode
    mixture, the worst mode-weight error and the coverage of a many-mode one."""

    def stat(key: str) -> tuple[float, float] | None:
        vals = [_as_float(m[key]) for m in runs if key in m]
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
    references: Mapping[str, np.ndarray] | None = None,
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
    references, labels = references or {}, labels or {}
    ncols = max(len(samples) for _, samples, _ in panels)
    heights = [0.8 * _PANEL_IN if t.dim != 2 else _PANEL_IN for t, _, _ in panels]
    with plt.rc_context(_STYLE):
        fig = Figure(figsize=(_PANEL_IN * ncols, sum(heights) + 0.7), layout="constrained")
        rows = fig.subfigures(len(panels), 1, height_ratios=heights, squeeze=False)[:, 0]
        for sub, (target, samples, metrics) in zip(rows, panels, strict=True):
            names = list(samples)
            data = {k: _to_numpy(v, f"samples[{k!r}]", target.dim) for k, v in samples.items()}
            axes = list(sub.subplots(1, ncols, squeeze=False)[0])
            for ax in axes[len(names) :]:
                ax.set_visible(False)
            colors = _colors(names)
            if target.dim == 2:
                notes = _plot_2d(target, names, data, axes, colors, 4000)
            elif isinstance(target, GaussianMixture):
                ref = references.get(target.name)
                ref = None if ref is None or not len(ref) else _to_numpy(ref, "reference")
                notes = _plot_projection(target, names, data, ref, axes, colors, ncols)
                handles = _legend_handles("projection", ref is not None)
                sub.legend(handles=handles, loc="outside lower center", ncol=len(handles))
            else:
                notes = _plot_pairs(names, data, None, axes, colors, 4000)
            for i, (name, ax) in enumerate(zip(names, axes, strict=False)):
                title = labels.get(target.name, {}).get(name, label_for(name))
                ax.set_title(title, color=colors[name], fontweight="bold", fontsize=9)
                loc, extra = notes[name]
                _annotate(ax, _seed_summary(target, metrics.get(name, [])) + extra, loc)
                if i:
                    ax.set_ylabel("")
            sub.suptitle(f"{target.name} (d = {target.dim})", fontsize=10)
        fig.suptitle(
            "What the LV reference ν repairs: samples of one seed; boxes: mean ± std over seeds",
            fontsize=11,
        )
        _save(fig, paths)


def _legend_handles(mode: str, with_reference: bool) -> list[Artist]:
    """Colour-neutral legend entries (each panel draws its samples in its own colour)."""
    if mode == "projection":
        handles: list[Artist] = [
            Patch(facecolor="#C8C8C8", edgecolor="#6E6E6E", lw=0.8, label="samples"),
        ]
        if with_reference:
            handles.append(Line2D([], [], color=_REFERENCE_COLOR, lw=0.9, label="exact samples"))
        handles.append(Line2D([], [], color="black", lw=1.1, label="target density"))
        return handles
    handles = [Line2D([], [], ls="", marker="o", ms=4, color="#6E6E6E", label="samples")]
    if with_reference:
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
    xx, yy, z = _log_density_grid(target, box)
    width, height = box[1] - box[0], box[3] - box[2]
    gmass = np.exp(z)
    gmass = gmass / gmass.sum()
    gx, gy = (xx - box[0]) / width, (yy - box[2]) / height
    notes: Notes = {}
    for name, ax in zip(names, axes, strict=False):
        x = data[name]
        _draw_contours(ax, xx, yy, z)
        pts = _subsample(x, max_points)
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
                color=_REFERENCE_COLOR,
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
    names: list[str],
    data: dict[str, np.ndarray],
    ref: np.ndarray | None,
    axes: list[Axes],
    colors: dict[str, str],
    max_points: int,
) -> Notes:
    pooled = np.concatenate([*data.values(), *([] if ref is None else [ref])])
    lo, hi = np.percentile(pooled[:, :2], 0.5, axis=0), np.percentile(pooled[:, :2], 99.5, axis=0)
    box = _square(lo, hi, pad=0.1)
    width, height = box[1] - box[0], box[3] - box[2]
    notes: Notes = {}
    for name, ax in zip(names, axes, strict=False):
        if ref is not None:
            r = _subsample(ref, max_points, seed=1)
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
        pts = _subsample(data[name], max_points)
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
        _plane_axes(ax, box)
        fx, fy = (pts[:, 0] - box[0]) / width, (pts[:, 1] - box[2]) / height
        empty = np.zeros(1)
        notes[name] = (_emptiest_corner_2d(fx, fy, empty, empty, empty), [])
    return notes


# --------------------------------------------------------------------------- training


def _plain_log_labels(ax: Axes) -> None:
    """Log axis labelled 0.01, 0.02, 0.05, ... (minor ticks too when it spans ≤ 2 decades)."""
    lo, hi = ax.get_ylim()
    decades = math.log10(hi / lo) if lo > 0 else math.inf
    keep = (2, 5) if decades <= 2 else ()

    def fmt(v: float, _pos: int | None = None) -> str:
        mant = round(v / 10 ** math.floor(math.log10(v)), 6) if v > 0 else 0
        return f"{v:g}" if mant == 1 or mant in keep else ""

    ax.yaxis.set_major_formatter(FuncFormatter(fmt))
    ax.yaxis.set_minor_formatter(FuncFormatter(fmt))


def _seed_curve(rows: Sequence[Mapping[str, Any]], metric: str) -> dict[float, float]:
    out: dict[float, float] = {}
    for row in rows:
        step, value = _as_float(row.get("step")), _as_float(row.get(metric))
        if math.isfinite(step) and math.isfinite(value):
            out[step] = value
    return out


def _aggregate(
    runs: Sequence[Sequence[Mapping[str, Any]]], metric: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Steps and mean / min / max over seeds of ``metric`` at each logged step."""
    per_step: dict[float, list[float]] = {}
    for rows in runs:
        for s, v in _seed_curve(rows, metric).items():
            per_step.setdefault(s, []).append(v)
    steps = np.array(sorted(per_step))
    vals = [np.array(per_step[s]) for s in steps]
    mean = np.array([v.mean() for v in vals])
    return steps, mean, np.array([v.min() for v in vals]), np.array([v.max() for v in vals])


def _normalise_histories(
    histories: Mapping[str, Sequence[Any]],
) -> dict[str, list[list[Mapping[str, Any]]]]:
    out: dict[str, list[list[Mapping[str, Any]]]] = {}
    for name, h in histories.items():
        h = list(h)
        if h and isinstance(h[0], Mapping):
            out[name] = [h]
        else:
            out[name] = [list(rows) for rows in h]
    return out


def plot_training(
    histories: Mapping[str, Sequence[Any]],
    path_pdf: str | Path,
    metric: str = "mmd_median",
    path_png: str | Path | None = None,
    title: str = "",
) -> None:
    """Training curves of ``metric`` per divergence: mean over seeds with a min–max band.

    ``histories`` maps a name to one history (a list of row dicts with a ``step`` key) or to a
    list of histories, one per seed; values may be strings, as read from a CSV. A second panel
    shows ``mode_weight_max_error`` when every history has that column.
    """
    runs = _normalise_histories(histories)
    if not runs or not any(rows for seeds in runs.values() for rows in seeds):
        raise ValueError("plot_training: `histories` is empty; nothing to plot")
    names = list(runs)
    colors = _colors(names)
    panels = [metric]
    second = "mode_weight_max_error"
    if metric != second and all(
        any(second in row for row in rows) for seeds in runs.values() for rows in seeds
    ):
        panels.append(second)

    curves = {p: {k: _aggregate(runs[k], p) for k in names} for p in panels}
    if not any(c[0].size for c in curves[metric].values()):
        raise ValueError(f"plot_training: no history has numeric values of {metric!r}")

    with plt.rc_context(_STYLE):
        side_legend = len(names) > 3  # many curves: the legend beside the panels, not over them
        width = 4.6 * len(panels) + (1.9 if side_legend else 0.0)
        fig = Figure(figsize=(width, 3.4), layout="constrained")
        axes = fig.subplots(1, len(panels), squeeze=False)
        for ax, p in zip(axes[0], panels, strict=True):
            positive = True
            for name in names:
                steps, mean, lo, hi = curves[p][name]
                if steps.size == 0:
                    continue
                positive &= bool((lo > 0).all())
                n_seeds = len(runs[name])
                label = label_for(name) + (f" ({n_seeds} seeds)" if n_seeds > 1 else "")
                ax.plot(
                    steps,
                    mean,
                    color=colors[name],
                    lw=1.5,
                    label=label,
                    marker="o" if steps.size < 12 else None,
                    ms=3,
                )
                if n_seeds > 1:
                    ax.fill_between(steps, lo, hi, color=colors[name], alpha=0.18, lw=0)
            if positive and p != second:
                ax.set_yscale("log")
                _plain_log_labels(ax)
            ax.set_xlabel("training step")
            ax.set_ylabel(_METRIC_LABELS.get(p, p))
            ax.grid(True, which="major", color="#E5E5E5", lw=0.6)
            ax.set_axisbelow(True)
        if side_legend:
            handles, labels = axes[0][0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="outside right upper", frameon=False)
        else:
            axes[0][0].legend(frameon=False, loc="best")
        if title:
            fig.suptitle(title, fontsize=11)
        _save(fig, [path_pdf, *([] if path_png is None else [path_png])])


# --------------------------------------------------------------------------- theory diagnostics

__all__ += ["plot_fields", "plot_regional_response", "plot_undercoverage"]


def _regional_names(result: Any) -> list[str]:
    names = list(result.measured)
    if not names:
        raise ValueError("plot_regional_response: the result has no divergence")
    return names


def plot_regional_response(
    result: Any, path_pdf: str | Path, path_png: str | Path | None = None
) -> None:
    """Inflow into ``A_κ`` against κ (``wgf.theory.RegionalResponse``): measured vs predicted.

    Left: ``d/dt q(A_κ)`` on a log axis; markers are the grid measurement ``−∫_{A_κ}∇·(qV)``,
    lines the prediction ``w(e^κ) Φ_κ`` (``log Φ`` interpolated linearly between the computed κ,
    ``w`` exact), dotted verticals each divergence's repair threshold ``w(e^κ*) = 1`` where it
    lies inside the κ range. Right: relative error of the measurement in % (symlog), and, if the
    result carries ``one_step``, that of one explicit step of size ``info["one_step_dt"]``.
    """
    names = _regional_names(result)
    kappas = np.asarray(result.kappas, dtype=float)
    phi = np.asarray(result.phi, dtype=float)
    colors = _colors(names)
    fine = np.linspace(kappas.min(), kappas.max(), 200)
    ok = phi > 0
    log_phi = np.full_like(fine, -np.inf)
    if ok.any():
        log_phi = np.interp(fine, kappas[ok], np.log(phi[ok]))
    one_step = getattr(result, "one_step", None) or {}
    dt = result.info.get("one_step_dt") if hasattr(result, "info") else None

    with plt.rc_context(_STYLE):
        fig = Figure(figsize=(9.6, 3.8), layout="constrained")
        ax, ax_err = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.35, 1]})
        ax.plot(fine, np.exp(log_phi), color="#555555", lw=0.9, ls="--", zorder=1)
        for name in names:
            div = get_divergence(name)
            w = div.weight(torch.from_numpy(fine)).numpy()
            ax.plot(fine, w * np.exp(log_phi), color=colors[name], lw=1.4, zorder=2)
            meas = np.asarray(result.measured[name], dtype=float)
            pos = meas > 0
            ax.plot(
                kappas[pos],
                meas[pos],
                ls="",
                marker="o",
                ms=4,
                mfc=colors[name],
                mec="white",
                mew=0.5,
                color=colors[name],
                zorder=3,
            )
        lo_k, hi_k = float(kappas.min()), float(kappas.max())
        pad = 0.03 * (hi_k - lo_k if hi_k > lo_k else 1.0)
        ax.set_xlim(lo_k - pad, hi_k + pad)
        ax.set_yscale("log")
        thresholds = getattr(result, "thresholds", {}) or {}
        for name in names:
            k_star = thresholds.get(name)
            if k_star is not None and lo_k - 1e-9 <= k_star <= hi_k + 1e-9:
                ax.axvline(k_star, color=colors[name], ls=":", lw=1.2, zorder=0)
                ax.annotate(
                    f"$\\kappa^*$={k_star:.2f}",
                    xy=(k_star, 0.0),
                    xycoords=("data", "axes fraction"),
                    xytext=(2, 3),
                    textcoords="offset points",
                    ha="left",
                    va="bottom",
                    fontsize=6.5,
                    color=colors[name],
                    rotation=90,
                )
        ax.set_xlabel(r"depth $\kappa$ of the under-covered region $A_\kappa=\{\log r>\kappa\}$")
        ax.set_ylabel(r"inflow $\frac{d}{dt}\,q(A_\kappa)$")
        ax.grid(True, which="major", color="#E5E5E5", lw=0.6)
        ax.set_axisbelow(True)
        handles: list[Artist] = [
            Line2D([], [], color=colors[n], lw=1.4, marker="o", ms=4, label=label_for(n))
            for n in names
        ]
        handles += [
            Line2D([], [], color="#555555", lw=0.9, ls="--", label=r"$\Phi_\kappa$ ($w\equiv 1$)"),
            Line2D([], [], color="#555555", ls="", marker="o", ms=4, label="measured (grid)"),
            Line2D([], [], color="#555555", lw=1.4, label=r"predicted $w(e^\kappa)\Phi_\kappa$"),
            Line2D([], [], color="#555555", lw=1.2, ls=":", label=r"repair threshold $w=1$"),
        ]
        fig.legend(
            handles=handles,
            frameon=False,
            fontsize=7.5,
            loc="outside lower center",
            ncol=min(len(handles), 5),
        )

        for name in names:
            err = 100 * np.asarray(result.rel_error(name), dtype=float)
            ax_err.plot(kappas, err, color=colors[name], marker="o", ms=3, lw=1.0)
            if name in one_step:
                pred = np.asarray(result.predicted[name], dtype=float)
                e1 = 100 * (np.asarray(one_step[name], dtype=float) - pred) / np.abs(pred)
                ax_err.plot(kappas, e1, color=colors[name], ls="--", lw=1.0, marker="x", ms=3)
        tiny = np.asarray(getattr(result, "tiny", np.zeros(kappas.size, bool)), dtype=bool)
        for k in kappas[tiny]:
            ax_err.axvspan(k - pad, k + pad, color="#EEEEEE", lw=0, zorder=0)
        ax_err.axhspan(-5, 5, color="#DDF0DD", lw=0, zorder=0)
        ax_err.set_yscale("symlog", linthresh=1.0)
        ax_err.axhline(0, color="#888888", lw=0.6)
        ax_err.set_xlim(lo_k - pad, hi_k + pad)
        ax_err.set_xlabel(r"$\kappa$")
        ax_err.set_ylabel("relative error of the inflow (%)")
        err_handles: list[Artist] = [
            Line2D([], [], color="#555555", marker="o", ms=3, lw=1.0, label="grid measurement"),
            Patch(facecolor="#DDF0DD", label="±5 %"),
        ]
        if one_step and dt is not None:
            err_handles.insert(
                1,
                Line2D(
                    [], [], color="#555555", ls="--", marker="x", ms=3, label=f"one step, dt={dt:g}"
                ),
            )
        ax_err.legend(handles=err_handles, frameon=False, fontsize=7, loc="best")
        ax_err.grid(True, which="major", color="#E5E5E5", lw=0.6)
        ax_err.set_axisbelow(True)
        fig.suptitle("Regional response: inflow into under-covered regions", fontsize=11)
        _save(fig, [path_pdf, *([] if path_png is None else [path_png])])


def plot_undercoverage(
    histories: Mapping[str, Sequence[Any]],
    path_pdf: str | Path,
    path_png: str | Path | None = None,
    title: str = "",
) -> None:
    """Soft under-coverage ``U_s`` against training step per divergence (mean and min–max band).

    ``histories[div]`` is a list of histories (one per seed) of rows with ``step`` and
    ``undercoverage`` (strings from a CSV are fine). Left: linear axis (the transient repair);
    right: log axis (the common end point).
    """
    runs = _normalise_histories(histories)
    metric = "undercoverage"
    curves = {k: _aggregate(v, metric) for k, v in runs.items()}
    if not curves or not any(c[0].size for c in curves.values()):
        raise ValueError(
            "plot_undercoverage: no history has numeric values of 'undercoverage' "
            "(hook wgf.theory.undercoverage_monitor into the trainer's monitor)"
        )
    names = list(runs)
    colors = _colors(names)
    with plt.rc_context(_STYLE):
        fig = Figure(figsize=(9.2, 3.4), layout="constrained")
        axes = fig.subplots(1, 2)
        for i, ax in enumerate(axes):
            positive = True
            for name in names:
                steps, mean, lo, hi = curves[name]
                if steps.size == 0:
                    continue
                positive &= bool((lo > 0).all())
                n_seeds = len(runs[name])
                label = label_for(name) + (f" ({n_seeds} seeds)" if n_seeds > 1 else "")
                ax.plot(steps, mean, color=colors[name], lw=1.5, label=label)
                if n_seeds > 1:
                    ax.fill_between(steps, lo, hi, color=colors[name], alpha=0.18, lw=0)
            if i == 1 and positive:
                ax.set_yscale("log")
            elif i == 1:
                ax.set_yscale("symlog", linthresh=1e-3)
            else:
                ax.set_ylim(bottom=0)
            ax.set_xlabel("training step")
            ax.set_ylabel(r"soft under-coverage $U_s$" + (" (log)" if i else ""))
            ax.grid(True, which="major", color="#E5E5E5", lw=0.6)
            ax.set_axisbelow(True)
        axes[0].legend(frameon=False, loc="best")
        fig.suptitle(
            (f"{title}: " if title else "")
            + r"$U_s=\mathbb{E}_p[\sigma((\log r-\kappa)/s)]$ during training",
            fontsize=11,
        )
        _save(fig, [path_pdf, *([] if path_png is None else [path_png])])


_FIELD_TITLES = {
    "score_p": r"$\nabla\log p$ (analytic)",
    "score_q": r"$\nabla\log\hat q_\tau$ (KDE)",
    "beta": r"$\beta=\nabla\log p-\nabla\log\hat q_\tau$",
}
_LOG_R_SPAN = 6.0
_N_ARROWS = 20


def _arrows(v: np.ndarray, cell: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Arrow components with length ``0.9 cell · min(1, (|v| / v₉₀)^½)``: direction exact,
    magnitude compressed against the panel's 90th percentile so that weights spanning many
    decades stay readable (the ½ power keeps the ordering of magnitudes)."""
    m = np.linalg.norm(v, axis=-1)
    finite = np.isfinite(m)
    ref = float(np.quantile(m[finite], 0.9)) if finite.any() else 1.0
    ref = ref if ref > 0 else 1.0
    scale = 0.9 * cell * np.minimum(1.0, np.sqrt(np.where(finite, m, 0.0) / ref))
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = np.where(m[..., None] > 0, v / m[..., None], 0.0)
    unit = np.where(finite[..., None], unit, 0.0)
    return unit[..., 0] * scale, unit[..., 1] * scale, ref


def plot_fields(
    fields: Mapping[str, Any], path_pdf: str | Path, path_png: str | Path | None = None
) -> None:
    """One panel per field (``score_p``, ``score_q``, ``beta``, then every ``drift_<name>``).

    Background: ``log r = log p − log q̂`` (red: p > q̂, under-covered; blue: q̂ > p), clipped to
    ±6; thin grey contours of ``log p``. Arrows on a 20 × 20 sub-grid: exact directions, lengths
    compressed per panel (see :func:`_arrows`); the panel's 90th-percentile magnitude is printed.
    """
    x = np.asarray(fields["x"], dtype=float)
    y = np.asarray(fields["y"], dtype=float)
    log_r = np.asarray(fields["log_r"], dtype=float)
    keys = [k for k in _FIELD_TITLES if k in fields]
    drifts = [k for k in fields if str(k).startswith("drift_")]
    keys += drifts
    if not keys:
        raise ValueError("plot_fields: no vector field (score_p, score_q, beta, drift_*) given")
    names = [k[len("drift_") :] for k in drifts]
    colors = _colors(names)
    n = len(keys)
    ncols = min(n, 4)
    nrows = math.ceil(n / ncols)
    stride = max(1, round(x.size / _N_ARROWS))
    sub = slice(stride // 2, None, stride)
    cell = float(np.mean(np.diff(x))) * stride
    tau = float(fields["tau"]) if "tau" in fields else None
    log_p = np.asarray(fields["log_p"], dtype=float) if "log_p" in fields else None

    with plt.rc_context(_STYLE):
        fig = Figure(figsize=(3.0 * ncols + 0.8, 3.0 * nrows + 0.5), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False)
        flat = list(axes.ravel())
        for ax in flat[n:]:
            ax.set_visible(False)
        mesh = None
        for ax, key in zip(flat, keys, strict=False):
            mesh = ax.pcolormesh(
                x,
                y,
                np.clip(log_r, -_LOG_R_SPAN, _LOG_R_SPAN),
                cmap="RdBu_r",
                vmin=-_LOG_R_SPAN,
                vmax=_LOG_R_SPAN,
                shading="auto",
                rasterized=True,
            )
            if log_p is not None:
                levels = np.max(log_p) - np.array([8.0, 4.0, 1.0])
                ax.contour(x, y, log_p, levels=levels, colors="#555555", linewidths=0.4)
            v = np.asarray(fields[key], dtype=float)[sub, sub]
            u, w, ref = _arrows(v, cell)
            gx, gy = np.meshgrid(x[sub], y[sub])
            ax.quiver(
                gx,
                gy,
                u,
                w,
                angles="xy",
                scale_units="xy",
                scale=1.0,
                width=0.006,
                headwidth=3.5,
                headlength=4,
                headaxislength=3.5,
                color="#111111",
                zorder=3,
            )
            if key.startswith("drift_"):
                name = key[len("drift_") :]
                ax.set_title(f"$w(r)\\beta$: {label_for(name)}", color=colors[name])
            else:
                title = _FIELD_TITLES[key]
                if key == "score_q" and tau is not None:
                    title += f", τ={tau:g}"
                ax.set_title(title)
            ax.text(
                0.03,
                0.03,
                f"$|v|_{{90\\%}}$ = {ref:.3g}",
                transform=ax.transAxes,
                fontsize=6.5,
                bbox=_BOX_STYLE,
                zorder=10,
            )
            ax.set_xlim(x[0], x[-1])
            ax.set_ylim(y[0], y[-1])
            ax.set_aspect("equal")
            ax.locator_params(nbins=5)
        for i, ax in enumerate(flat[:n]):
            if i % ncols == 0:
                ax.set_ylabel("$x_2$")
            if i >= n - ncols:
                ax.set_xlabel("$x_1$")
        if mesh is not None:
            cb = fig.colorbar(mesh, ax=flat[:n], shrink=0.8, pad=0.01)
            cb.set_label(r"$\log r=\log p-\log\hat q_\tau$ (clipped)")
        fig.suptitle(
            "Drift fields: shared direction β, divergence-specific weight w(r)", fontsize=11
        )
        _save(fig, [path_pdf, *([] if path_png is None else [path_png])])


def plot_mala_cost(
    target: str,
    curves: Mapping[str, Sequence[Mapping[str, float]]],
    levels: Mapping[str, float],
    best: Mapping[str, Any] | None,
    paths: Sequence[str | Path],
    metric: str = "mmd_median",
) -> None:
    """Quality against target evaluations per sample: one line per chain method (mean over
    seeds of its budget curve), a horizontal line per one-step method at its mean quality (it
    costs zero evaluations per sample once trained), and the best one's training cost and
    break-even in a box."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    names = list(curves) + list(levels)
    colors = _colors(names)
    with plt.rc_context(_STYLE):
        fig = Figure(figsize=(7.6, 3.6), layout="constrained")
        ax = fig.subplots()
        for name, curve in curves.items():
            x = [row["target_evaluations_per_sample"] for row in curve]
            y = [row[metric] for row in curve]
            ax.plot(x, y, marker="o", ms=3.5, lw=1.3, color=colors[name], label=name)
        for name, level in levels.items():
            ax.axhline(level, ls="--", lw=0.9, color=colors[name], label=f"{name} (one-step)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("target evaluations per sample")
        ax.set_ylabel(_METRIC_LABELS.get(metric, metric))
        ax.set_title(f"{target}: MALA cost against one-step generators")
        if best is not None and metric in best:
            m = best[metric]
            reach = f"{m['mala_steps']} steps" if m["reached"] else "not reached"
            lines = [
                f"best one-step: {best['best_method']} ({best['best_divergence']})",
                f"training: {best['train_evaluations']:.3g} evals, {best['train_wall_s']:.3g} s",
                f"MALA to its level: {reach}",
                f"break-even n*: {m['break_even_evaluations']:.3g} (evals), "
                f"{m['break_even_wall']:.3g} (wall)",
            ]
            ax.text(
                1.03,
                0.0,
                "\n".join(lines),
                transform=ax.transAxes,
                ha="left",
                va="bottom",
                fontsize=7,
                linespacing=1.3,
                bbox=_BOX_STYLE,
            )
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=7)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        _save(fig, paths)
