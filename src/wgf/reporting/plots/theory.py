"""Figures of the theory diagnostics: the regional response per divergence and the vector fields
of the drift on a 2-D grid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ...divergences import get_divergence
from .style import (
    BOX_STYLE,
    STYLE,
    label_for,
    palette,
    save_figure,
)

__all__ = ["plot_fields", "plot_regional_response"]


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
    colors = palette(names)
    fine = np.linspace(kappas.min(), kappas.max(), 200)
    ok = phi > 0
    log_phi = np.full_like(fine, -np.inf)
    if ok.any():
        log_phi = np.interp(fine, kappas[ok], np.log(phi[ok]))
    one_step = getattr(result, "one_step", None) or {}
    dt = result.info.get("one_step_dt") if hasattr(result, "info") else None

    with plt.rc_context(STYLE):
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
        save_figure(fig, [path_pdf, *([] if path_png is None else [path_png])])


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
    colors = palette(names)
    n = len(keys)
    ncols = min(n, 4)
    nrows = math.ceil(n / ncols)
    stride = max(1, round(x.size / _N_ARROWS))
    sub = slice(stride // 2, None, stride)
    cell = float(np.mean(np.diff(x))) * stride
    tau = float(fields["tau"]) if "tau" in fields else None
    log_p = np.asarray(fields["log_p"], dtype=float) if "log_p" in fields else None

    with plt.rc_context(STYLE):
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
                bbox=BOX_STYLE,
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
        save_figure(fig, [path_pdf, *([] if path_png is None else [path_png])])
