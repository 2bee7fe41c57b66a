"""The theory of SCIENCE.md §1–§4 made executable, on analytic densities, with its diagnostics.

``identities`` (first variation, universal drift, the compression–elasticity identity, the
log-variance drift), ``regional`` (the regional response of every divergence), ``undercoverage``
(the soft under-coverage functional and its training monitor) and ``fields`` (the drift's vector
fields on a 2-D grid). ``docs/theory.md`` puts each statement next to its test.
"""

from .fields import vector_fields
from .identities import (
    dlogq_dt_autograd,
    dlogq_dt_identity,
    drift_from_first_variation,
    exact_lv_drift,
    first_variation,
    identity_terms,
    log_ratio,
    lv_first_variation,
    universal_drift,
)
from .regional import (
    RegionalResponse,
    finite_step_inflow,
    flux_coarea,
    particle_inflow,
    regional_response,
    repair_threshold,
    undercovering_q,
)
from .undercoverage import (
    default_undercoverage_tau,
    smoothed_mixture,
    soft_undercoverage,
    undercoverage_after_step,
    undercoverage_monitor,
    undercoverage_rate,
)

__all__ = [
    "RegionalResponse",
    "default_undercoverage_tau",
    "dlogq_dt_autograd",
    "dlogq_dt_identity",
    "drift_from_first_variation",
    "exact_lv_drift",
    "finite_step_inflow",
    "first_variation",
    "flux_coarea",
    "identity_terms",
    "log_ratio",
    "lv_first_variation",
    "particle_inflow",
    "regional_response",
    "repair_threshold",
    "smoothed_mixture",
    "soft_undercoverage",
    "undercoverage_after_step",
    "undercoverage_monitor",
    "undercoverage_rate",
    "undercovering_q",
    "universal_drift",
    "vector_fields",
]
