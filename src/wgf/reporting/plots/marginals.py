"""Every coordinate's marginal against the exact or reference sample, one panel per method: the
view of a d > 2 posterior that a marginal pair cannot give (e.g. ``logreg_cancer``, d = 31)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ...targets import Target
from .style import STYLE, label_for, palette, save_figure

__all__ = ["marginal_summary", "plot_marginals"]

_REF_COLOR = "#8C8C8C"
_CLIP = 6.0  # |z| drawn; a quantile beyond is a triangle on the edge
_WIDE = (0.05, 0.95)
_INNER = (0.25, 0.75)


def marginal_summary(x: np.ndarray, reference: np.ndarray) -> dict[str, np.ndarray]:
    """Per coordinate, standardised by the reference (``z = (x − m_ref)/s_ref``): the quantiles
    5/25/50/75/95 % of ``z`` (rows), the mean error ``mean(z)`` and the sd ratio
    ``std(x)/s_ref``."""
    m, s = reference.mean(0), reference.std(0)
    s = np.where(s > 0, s, 1.0)
    z = (x - m) / s
    return {
        "quantiles": np.quantile(z, [_WIDE[0], _INNER[0], 0.5, _INNER[1], _WIDE[1]], axis=0),
        "mean_error": z.mean(0),
        "std_ratio": z.std(0),
    }


def plot_marginals(
    target: Target,
    samples: Mapping[str, np.ndarray | torch.Tensor],
    reference: np.ndarray,
    paths: Sequence[str | Path],
    reference_label: str = "exact",
) -> None:
    """One row per entry of ``samples``: each coordinate's 5–95 % (thin) and 25–75 % (thick)
    quantile bars and median, standardised by ``reference``, over the reference's own bars in
    grey. A method whose marginals are right lies on the grey; the title names the worst mean
    error and std ratio and the coordinate they are at."""
    if not samples:
        raise ValueError("plot_marginals: `samples` is empty; pass at least one {name: array}")
    ref = np.asarray(reference, dtype=np.float64)
    if ref.ndim != 2 or ref.shape[1] != target.dim or len(ref) < 2:
        raise ValueError(
            f"plot_marginals: `reference` must be (n ≥ 2, {target.dim}), got {ref.shape}"
        )
    data = {k: torch.as_tensor(v).double().cpu().numpy() for k, v in samples.items()}
    for k, v in data.items():
        if v.ndim != 2 or v.shape[1] != target.dim:
            raise ValueError(
                f"plot_marginals: samples[{k!r}] must be (n, {target.dim}), got {v.shape}"
            )
    names = list(data)
    colors = palette(names)
    d = target.dim
    k = np.arange(d)
    ref_q = marginal_summary(ref, ref)["quantiles"]
    with plt.rc_context(STYLE):
        fig = Figure(
            figsize=(max(6.0, 0.26 * d + 1.6), 1.75 * len(names) + 0.9), layout="constrained"
        )
        axes = fig.subplots(len(names), 1, squeeze=False, sharex=True)[:, 0]
        for name, ax in zip(names, axes, strict=True):
            summary = marginal_summary(data[name], ref)
            q = summary["quantiles"]
            ax.axhline(0.0, color="#DDDDDD", lw=0.6, zorder=0)
            ax.vlines(k - 0.17, ref_q[0], ref_q[4], color=_REF_COLOR, lw=1.0, zorder=1)
            ax.vlines(k - 0.17, ref_q[1], ref_q[3], color=_REF_COLOR, lw=3.2, zorder=1)
            clipped = np.clip(q, -_CLIP, _CLIP)
            ax.vlines(k + 0.17, clipped[0], clipped[4], color=colors[name], lw=1.0, zorder=2)
            ax.vlines(k + 0.17, clipped[1], clipped[3], color=colors[name], lw=3.2, zorder=2)
            inside = np.abs(q[2]) <= _CLIP
            ax.plot(
                k[inside] + 0.17,
                q[2][inside],
                "o",
                ms=2.6,
                color="white",
                mec=colors[name],
                mew=0.8,
                zorder=3,
            )
            for sign, marker in ((1, "^"), (-1, "v")):
                out = sign * q[2] > _CLIP
                ax.plot(
                    k[out] + 0.17,
                    np.full(out.sum(), sign * (_CLIP - 0.25)),
                    marker,
                    ms=4,
                    color=colors[name],
                    zorder=3,
                )
            ax.set_ylim(-_CLIP - 0.5, _CLIP + 0.5)
            ax.set_ylabel("(x − mean) / sd")
            ax.set_title(label_for(name), color=colors[name], fontweight="bold", loc="left")
            worst = int(np.argmax(np.abs(summary["mean_error"])))
            spread = int(np.argmax(np.abs(np.log(np.maximum(summary["std_ratio"], 1e-12)))))
            ax.set_title(
                f"max |mean error| {abs(summary['mean_error'][worst]):.2g} sd at "
                f"{target.coordinate_label(worst)};  sd ratio {summary['std_ratio'][spread]:.2g} "
                f"at {target.coordinate_label(spread)}",
                loc="right",
                fontsize=7.5,
            )
        axes[-1].set_xticks(k, [target.coordinate_label(i) for i in k], rotation=90, fontsize=7)
        axes[-1].set_xlim(-0.7, d - 0.3)
        handles = [
            Patch(color=_REF_COLOR, label=f"{reference_label} sample: 25–75 % (thick), 5–95 %"),
            Line2D(
                [], [], marker="o", ls="", color="white", mec="#444444", label="method's median"
            ),
            Line2D(
                [], [], marker="^", ls="", color="#444444", label=f"median beyond ±{_CLIP:g} sd"
            ),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False)
        fig.suptitle(
            f"{target.name}: every coordinate's marginal against the {reference_label} sample "
            f"(d = {d}), standardised by its mean and sd",
            fontsize=10,
        )
        save_figure(fig, paths)
