"""The figures' shared style: one colour per divergence or method (a fixed mapping for the
registry names, a fallback cycle for anything else), sizes, labels, and saving.

Every figure is laid out tightly and saved to every requested path (PNG at 150 dpi). Drawing
leaves matplotlib's global state alone: it runs inside ``rc_context`` on figures that pyplot
does not track.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from ...divergences import UnknownDivergence, get_divergence

__all__ = ["DIVERGENCE_COLORS", "color_for", "label_for"]


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
_PNG_DPI = 150

BOX_STYLE = {"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#BBBBBB", "lw": 0.5, "alpha": 0.85}
STYLE: dict[str, Any] = {
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

METRIC_LABELS = {
    "mmd_median": "MMD (median bandwidth)",
    "mmd_multi": "MMD (multi-scale)",
    "w2": r"$W_2$ to exact samples",
    "sinkhorn": "Sinkhorn divergence",
    "mode_weight_max_error": "max mode-weight error",
    "mode_weight_tv": "mode-weight TV",
    "loss": "loss",
    "ksd": "kernel Stein discrepancy (IMQ)",
    "mean_energy": "mean energy",
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


def palette(names: Sequence[str]) -> dict[str, str]:
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


def save_figure(fig: Figure, paths: Sequence[str | Path]) -> None:
    for p in paths:
        path = Path(p)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=_PNG_DPI, bbox_inches="tight", pad_inches=0.04)


def as_float(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


# Candidate anchors for the metrics box, in axes fractions: (x, y, ha, va).
CORNERS = {
    "upper left": (0.03, 0.97, "left", "top"),
    "upper right": (0.97, 0.97, "right", "top"),
    "lower left": (0.03, 0.03, "left", "bottom"),
    "lower right": (0.97, 0.03, "right", "bottom"),
    "upper center": (0.5, 0.97, "center", "top"),
}


def annotate(ax: Axes, lines: list[str], loc: str = "upper left") -> None:
    """``lines`` in a small box at the axes corner ``loc`` (a key of :data:`CORNERS`)."""
    if not lines:
        return
    x, y, ha, va = CORNERS[loc]
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
        bbox=BOX_STYLE,
    )
