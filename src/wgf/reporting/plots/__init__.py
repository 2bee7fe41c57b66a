"""Figures, one module per family: ``samples`` (samples over the target, the LV references),
``marginals`` (every coordinate against the reference), ``energy`` (energy histograms),
``training`` (monitored metrics and under-coverage per step), ``theory`` (regional response,
vector fields) and ``cost`` (MALA's cost against the one-step levels), in the shared ``style``.
"""

import matplotlib

matplotlib.use("Agg")  # before any figure module imports pyplot: no display needed

from .cost import plot_mala_cost  # noqa: E402
from .energy import plot_energy  # noqa: E402
from .marginals import plot_marginals  # noqa: E402
from .samples import plot_lv_reference, plot_samples  # noqa: E402
from .style import DIVERGENCE_COLORS, color_for, label_for  # noqa: E402
from .theory import plot_fields, plot_regional_response  # noqa: E402
from .training import plot_training, plot_undercoverage  # noqa: E402

__all__ = [
    "DIVERGENCE_COLORS",
    "color_for",
    "label_for",
    "plot_energy",
    "plot_fields",
    "plot_lv_reference",
    "plot_mala_cost",
    "plot_marginals",
    "plot_regional_response",
    "plot_samples",
    "plot_training",
    "plot_undercoverage",
]
