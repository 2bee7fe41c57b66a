"""Markdown and CSV tables of the long results table: mean ± std over seeds per target.

``main.md`` (the headline metrics of every run), ``comparison.md`` (every method with its cost
columns), ``reference.md`` (each reference flow's ``log Ẑ`` and ESS) and the published-protocol
table; all are built from the rows of :mod:`wgf.reporting.rows` by :func:`summarise`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ..evaluation.target_metrics import ENERGY_BINS
from .rows import FLOOR_METHOD, kind_of

__all__ = [
    "COMPARISON_COST",
    "COMPARISON_QUALITY",
    "HEADLINE",
    "QUALITY",
    "REFERENCE_COLUMNS",
    "SUMMARY_COLUMNS",
    "comparison_markdown",
    "energy_markdown",
    "fmt",
    "main_markdown",
    "published_markdown",
    "reference_markdown",
    "reference_sample_note",
    "reference_table_rows",
    "summarise",
]

SUMMARY_COLUMNS = ("target", "method", "divergence", "metric", "mean", "std", "n")
FLOOR_NOTE = (
    f"`{FLOOR_METHOD}`: the floor, independent exact samples in place of a sampler's, scored "
    "the same way (mean ± std over `evaluation.floor_draws` draws): no sampler beats it on "
    "average."
)
KSD_NOTE = (
    "`ksd`: kernel Stein discrepancy of the first `evaluation.ksd_samples` samples from the "
    "target's score alone (IMQ kernel, c = 1, √ of the U-statistic clipped at 0): the one "
    "quality number of a target without exact samples."
)
QUALITY = (
    "mmd_median",
    "mmd_multi",
    "w2",
    "sinkhorn",
    "ksd",
    "mean_error_max",
    "std_error_max",
    "energy_tv",
    "neck_w1",
    "neck_fraction",
    "well_weight_error_max",
    "mode_weight_max_error",
    "mode_weight_tv",
    "mode_coverage",
    "emc",
)
# main.md: quality and training time; comparison.md: quality (and the mean energy, all that
# targets without exact samples have) beside the cost columns.
HEADLINE = (*QUALITY, "train_wall_s", "time_per_step_s")
COMPARISON_QUALITY = (*QUALITY, "mean_energy")
COMPARISON_COST = (
    "train_steps",
    "train_wall_s",
    "target_evaluations",
    "samples_per_s",
    "target_evaluations_per_sample",
)


def summarise(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and (sample) standard deviation over seeds of a long table's rows."""
    groups: dict[tuple[str, str, str, str], list[float]] = {}
    for row in rows:
        key = (row["target"], row["method"], row["divergence"], row["metric"])
        groups.setdefault(key, []).append(float(row["value"]))
    out = []
    for (target, method, divergence, metric), values in groups.items():
        arr = np.asarray(values)
        out.append(
            {
                "target": target,
                "method": method,
                "divergence": divergence,
                "metric": metric,
                "mean": float(arr.mean()),
                "std": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
                "n": int(arr.size),
            }
        )
    return out


def fmt(s: dict[str, Any] | None) -> str:
    """``mean ± std`` of a summary entry, ``–`` for none."""
    if s is None:
        return "–"
    mean, std = s["mean"], s["std"]
    if math.isinf(mean) or math.isnan(mean):
        return str(mean)
    return f"{mean:.3g} ± {std:.2g}"


Lead = Callable[[str, str, list[dict[str, Any]]], list[str]]


def _per_target(
    stats: list[dict[str, Any]],
    quality: Sequence[str],
    cost: Sequence[str],
    lead: Sequence[str],
    lead_cells: Lead,
    preface: Callable[[list[dict[str, Any]]], list[str]] = lambda sub: [],
) -> list[str]:
    """One table per target: a row per (method, divergence), the ``lead`` columns first, then
    the ``quality`` and ``cost`` columns present (the light mode's weight first for a two-mode
    target: per-mode weights otherwise stay in the CSV)."""
    lines: list[str] = []
    for target in dict.fromkeys(s["target"] for s in stats):
        sub = [s for s in stats if s["target"] == target]
        present = {s["metric"] for s in sub}
        cols = [c for c in quality if c in present]
        if "mode_weight_1" in present and "mode_weight_2" not in present:
            cols.insert(0, "mode_weight_1")
        cols += [c for c in cost if c in present]
        lines += [f"## {target}", "", *preface(sub)]
        lines.append("| " + " | ".join([*lead, *cols]) + " |")
        lines.append("|" + "---|" * (len(lead) + len(cols)))
        table = {(s["method"], s["divergence"], s["metric"]): s for s in sub}
        for method, div in dict.fromkeys((s["method"], s["divergence"]) for s in sub):
            cells = lead_cells(method, div, sub) + [fmt(table.get((method, div, c))) for c in cols]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _seeds(sub: list[dict[str, Any]]) -> int:
    """The runs' seeds in a target's summary (the floor counts draws, not seeds)."""
    return max((s["n"] for s in sub if s["method"] != FLOOR_METHOD), default=0)


def reference_sample_note(info: dict[str, Any]) -> str:
    """The line above a target's rows when it is scored against long chains (``info``: the
    chains' record in its floor file)."""
    return (
        f"No exact sampler: every metric is against a reference sample of "
        f"{info['n_chains']:.0f} long MALA chains ({info['burn_in']} burn-in steps, thinned by "
        f"{info['thin']}; split-R̂ max {info['rhat_max']:.4f}, bulk ESS min "
        f"{info['ess_bulk_min']:.0f}), and `{FLOOR_METHOD}` is reference against reference "
        "(disjoint chains)."
    )


def _notes(notes: dict[str, str] | None) -> Callable[[list[dict[str, Any]]], list[str]]:
    """A target's note (if any) as the preface of its table."""
    notes = notes or {}
    return lambda sub: [notes[sub[0]["target"]], ""] if sub and sub[0]["target"] in notes else []


def main_markdown(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str] = HEADLINE,
    notes: dict[str, str] | None = None,
) -> str:
    """``main.md``: the headline metrics of every run, one table per target (``notes``: a line
    above a target's table)."""
    lines = ["# Main results", "", "Mean ± standard deviation over seeds. " + FLOOR_NOTE]
    lines += [KSD_NOTE, ""]
    lines += _per_target(
        summarise(rows),
        columns,
        (),
        ("method", "divergence"),
        lambda method, div, sub: [method, div],
        lambda sub: [f"{_seeds(sub)} seed(s).", "", *_notes(notes)(sub)],
    )
    return "\n".join(lines)


def comparison_markdown(rows: Sequence[dict[str, Any]], notes: dict[str, str] | None = None) -> str:
    """``comparison.md``: every method × metric with the cost columns, one table per target
    (``notes`` as for :func:`main_markdown`)."""

    def lead(method: str, div: str, sub: list[dict[str, Any]]) -> list[str]:
        n = max(s["n"] for s in sub if s["method"] == method and s["divergence"] == div)
        return [method, kind_of(method), div, str(n)]

    lines = [
        "# Comparison: one-step generators and baselines",
        "",
        "Mean ± standard deviation over seeds. " + FLOOR_NOTE,
        "`reference_flow`: the reference flow ν (divergence: its fit method), a one-step sampler",
        "whose fit is its training cost. `generator_*`: the main grid (one generator per",
        "divergence). Baselines: `mala`/`ula` (parallel chains, the sample is each chain's final",
        "state), `svgd` (particles), `flow_reverse_kl` (normalizing flow, reverse KL),",
        "`drifting` (Laplace mean shift, reverse-KL weight), `score_net` (DSM score network,",
        "reverse KL; Luo et al. 2023). Cost columns: `train_steps`, `train_wall_s` and",
        "`target_evaluations` (energy and score calls, each counted once per point) spent in",
        "training; `samples_per_s` (one-step methods: one batched draw of `throughput_samples`;",
        "chains/particles: final samples over their sampling wall time) and",
        "`target_evaluations_per_sample` (0 for a trained one-step sampler). Quality metrics of",
        "samplers use their `n` final states (SVGD: the particle count, fewer than the",
        "generators' samples, which biases its MMD upward). Generator-kind baselines train with",
        "the target's training settings but `baselines.generator.steps` steps (column",
        "`train_steps`; the default, 750, is half the main grid's). Per-mode weights:",
        "comparison.csv. " + KSD_NOTE,
        "",
    ]
    lines += _per_target(
        summarise(rows),
        COMPARISON_QUALITY,
        COMPARISON_COST,
        ("method", "kind", "divergence", "n seeds"),
        lead,
        _notes(notes),
    )
    return "\n".join(lines)


def published_markdown(rows: Sequence[dict[str, Any]], target: str, n: int = 1000) -> str:
    """Mean ± std over seeds of the published-protocol metrics."""
    stats = summarise(rows)
    table = {(s["method"], s["divergence"], s["metric"]): s for s in stats}
    lines = [
        f"# {target} in the published (DEM/iDEM) protocol",
        "",
        f"{n} generated samples against {n} exact samples (a fresh draw per seed); x-W2 by exact",
        "optimal transport on squared Euclidean costs (POT `ot.emd2`, then the square root); TV of",
        "the mode weights (nearest-component assignment). Mean ± std over seeds; `n`: samples",
        "used (SVGD has as many as particles). " + FLOOR_NOTE,
        "",
        "| method | divergence | x-W2 | mode-weight TV | n | seeds |",
        "|---|---|---|---|---|---|",
    ]
    for method, div in dict.fromkeys((s["method"], s["divergence"]) for s in stats):
        w2 = table.get((method, div, "x_w2"))
        tv = table.get((method, div, "mode_tv"))
        count = table.get((method, div, "n"))
        lines.append(
            f"| {method} | {div} | {fmt(w2)} | {fmt(tv)} | {count['mean']:.0f} | {count['n']} |"
            if count
            else f"| {method} | {div} | {fmt(w2)} | {fmt(tv)} | – | – |"
        )
    lines.append("")
    return "\n".join(lines)


REFERENCE_COLUMNS = (
    "target",
    "method",
    "architecture",
    "log_z_hat",
    "log_z_true",
    "log_z_error",
    "ess",
    "n_log_z",
    "fit_wall_s",
    "fit_cpu_s",
    "steps",
)


def energy_markdown(target: str, rows: Sequence[dict[str, Any]], note: str = "") -> str:
    """One target's energy-histogram TV per method (rows of
    :func:`wgf.evaluation.target_metrics.energy_comparison`; the first, ``X vs X``, its floor)."""
    tv = any("energy_tv" in r for r in rows)
    lines = [f"# Energy histograms: {target}", ""]
    if tv:
        lines += [
            f"Total variation of the energy histograms ({ENERGY_BINS} equal bins over the "
            "reference's range, as DiKL reports), every set cut to half the reference's size "
            "and scored against its even draws; the first row is the floor, the odd draws "
            "against the even ones.",
            "",
        ]
    if note:
        lines += [note, ""]
    head = "| method | n | energy TV | mean E |" if tv else "| method | n | mean E |"
    lines += [head, "|---|---|---|---|" if tv else "|---|---|---|"]
    for r in rows:
        cells = [str(r["method"]), str(r["n"])]
        if tv:
            cells.append(format(r["energy_tv"], ".3f"))
        cells.append(format(r["mean_energy"], ".4g"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def reference_table_rows(infos: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per target's reference fit (the ``log_z.json`` written by rule reference_flow)."""
    rows = []
    for info in infos:
        row = {k: info.get(k) for k in REFERENCE_COLUMNS}
        row["architecture"] = info["config"]["architecture"]
        rows.append(row)
    return rows


def reference_markdown(infos: Sequence[dict[str, Any]]) -> str:
    """``log Ẑ − log Z`` and the ESS fraction of every target's reference flow."""
    lines = [
        "# Reference flows",
        "",
        "log Ẑ by importance sampling with the fitted flow ν as proposal, over `n` samples of ν;",
        "ESS is the effective-sample-size fraction of those weights. `log Z` is exact for the",
        "benchmark mixtures (– where unknown).",
        "",
        "| target | method | flow | log Ẑ | log Z | log Ẑ − log Z | ESS | n | fit wall (s) "
        "| fit CPU (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in reference_table_rows(infos):

        def num(key: str, fmt: str, row: dict[str, Any] = row) -> str:
            value = row.get(key)
            return "–" if value is None else format(value, fmt)

        lines.append(
            f"| {row['target']} | {row['method']} | {row['architecture']} "
            f"| {num('log_z_hat', '.4f')} | {num('log_z_true', '.4f')} "
            f"| {num('log_z_error', '+.4f')} | {num('ess', '.3f')} | {row['n_log_z']} "
            f"| {num('fit_wall_s', '.1f')} | {num('fit_cpu_s', '.1f')} |"
        )
    lines.append("")
    return "\n".join(lines)
