"""Energy histograms, one panel per method over the reference's (exact, long-chain, or MALA's
for a user energy): the one distribution-level picture a target without samples allows."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .style import STYLE, annotate, label_for, palette, save_figure

__all__ = ["plot_energy"]

_REF_COLOR = "#B0B0B0"
_BINS = 80
_MAX_COLS = 4
_PANEL_IN = 2.9


def plot_energy(
    target_name: str,
    drawn: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    paths: Sequence[str | Path],
) -> None:
    """``drawn`` as :func:`wgf.jobs.energy_histograms` returns it: each method's energies as a
    density histogram (of all its samples: mass out of view is not rescaled in), the
    reference's filled beneath, and the method's TV from ``rows`` in its panel."""
    own = {k: np.asarray(v, dtype=np.float64) for k, v in drawn["energies"].items()}
    ref, ref_name = drawn.get("reference"), drawn.get("reference_name")
    names = [k for k in own if k != ref_name]
    if not names:
        raise ValueError("plot_energy: no method's energies to draw besides the reference")
    # the reference's central 99 % and every method's middle half: each bulk in view (a
    # minority of stuck chains, far out, would squash the rest; the panel says what is out)
    ranges = [np.percentile(own[k], [25, 75]) for k in names]
    if ref is not None:
        ranges.append(np.percentile(ref, [0.5, 99.5]))
    lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
    pad = 0.1 * max(hi - lo, 1e-9)
    edges = np.linspace(lo - pad, hi + pad, _BINS + 1)
    tv = {r["method"]: r.get("energy_tv") for r in rows}
    colors = palette(names)
    ncols = min(len(names), _MAX_COLS)
    nrows = math.ceil(len(names) / ncols)
    with plt.rc_context(STYLE):
        fig = Figure(
            figsize=(_PANEL_IN * ncols, 0.8 * _PANEL_IN * nrows + 0.6), layout="constrained"
        )
        axes = list(fig.subplots(nrows, ncols, squeeze=False, sharex=True).ravel())
        for ax in axes[len(names) :]:
            ax.set_visible(False)
        for i, (name, ax) in enumerate(zip(names, axes, strict=False)):
            if ref is not None:
                ax.hist(ref, edges, density=True, color=_REF_COLOR, alpha=0.7, lw=0)
            e = own[name]
            inside = e[(e >= edges[0]) & (e <= edges[-1])]
            # heights as a share of all of the method's samples: mass out of view is not rescaled in
            ax.hist(
                inside,
                edges,
                weights=np.full(len(inside), 1.0 / (len(e) * np.diff(edges)[0])),
                histtype="step",
                color=colors[name],
                lw=1.3,
            )
            ax.set_title(label_for(name), color=colors[name], fontweight="bold")
            outside = float(np.mean((e < edges[0]) | (e > edges[-1])))
            lines = [] if tv.get(name) is None else [f"TV {tv[name]:.2f}"]
            if outside >= 0.005:
                lines.append(f"{100 * outside:.0f}% outside view")
            annotate(ax, lines, "upper right")
            ax.set_yticks([])
            if i // ncols == nrows - 1 or i + ncols >= len(names):
                ax.set_xlabel("energy $E(x)$")
        against = f" against {ref_name} (grey)" if ref_name else " (no reference to compare)"
        fig.suptitle(f"{target_name}: energy histograms{against}", fontsize=11)
        save_figure(fig, paths)
