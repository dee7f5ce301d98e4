"""Assessment of the annual AGC maps (A1–A5).

The public API users script against (inputs are xarray objects on the project grid, numpy- or
dask-backed; outputs likewise)::

    change(stack, y1, y2) -> Dataset(change, change_degree)
    sen_mk(stack, dim="year", alpha=0.05) -> Dataset(slope, intercept, s, var_s, z, p, tau,
                                                     trend_class)
    cumulative_effect(stack, climate, base_years, period) -> Dataset(actual, ideal, effect)
    jenks_breaks(values, k=5) -> numpy array of k + 1 edges (min … max)
    zonal_stats(layers, zones) -> DataFrame
    gi_star(da, distance_m) -> Dataset(z, p, bin)
    estimate_areas(counts, mapped_area) -> AreaEstimate (error-adjusted class areas and
                                                         accuracies, Olofsson et al. 2014)

The modules of the same names hold the details (``from minecarbon.assessment.trend import
TrendClass``); importing this package binds ``change`` to the function, not the module.
"""

from __future__ import annotations

from minecarbon.assessment.area_estimation import AreaEstimate, estimate_areas
from minecarbon.assessment.change import change, undefined_degree_count
from minecarbon.assessment.cumulative import cumulative_effect
from minecarbon.assessment.grading import (
    EffectGrade,
    JenksResult,
    grade,
    grade_cumulative_effect,
    jenks_breaks,
    natural_breaks,
)
from minecarbon.assessment.hotspots import gi_star, gi_star_points, gi_star_weights
from minecarbon.assessment.trend import TREND_LABELS, TrendClass, sen_mk
from minecarbon.assessment.zonal import zonal_stats

__all__ = [
    "TREND_LABELS",
    "AreaEstimate",
    "EffectGrade",
    "JenksResult",
    "TrendClass",
    "change",
    "cumulative_effect",
    "estimate_areas",
    "gi_star",
    "gi_star_points",
    "gi_star_weights",
    "grade",
    "grade_cumulative_effect",
    "jenks_breaks",
    "natural_breaks",
    "sen_mk",
    "undefined_degree_count",
    "zonal_stats",
]
