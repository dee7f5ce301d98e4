"""Areas of the cumulative-effect grades from re-measured plots (issue 17 point 2, A3).

The cumulative effect of a pixel over a period ``(s, e)`` is its actual carbon gain minus the
gain climate alone would have given, ``E = A − I`` (:mod:`minecarbon.assessment.cumulative`).
Nobody can look at a point and see ``E``; but a plot measured in both ``s`` and ``e`` measures
the actual gain ``A_obs`` on the ground. With the pixel's climate-only gain ``I`` from the same
model as the map (``I = A_map − E_map``), the plot's reference effect is

    E_ref = A_obs − I = E_map + (A_obs − A_map),

graded with the map's own breaks. What differs between the map's grade and the reference's is
then the maps' error in the actual gain — exactly what the map's grade areas inherit.

The plots are a stratified sample whose strata (the level-2 assessment units they were laid out
in) are not the map's grades, so the areas are estimated as Stehman (2014, *International
Journal of Remote Sensing* 35: 4923–4939) does for strata that differ from the map classes,
here in its model-assisted form, the difference estimator (Särndal, Swensson & Wretman 1992,
§6.3): for grade ``k``, with ``N_h`` graded pixels in stratum ``h``, ``n_h`` sampled plots there
and ``d = 1[reference = k] − 1[map = k]`` at each plot,

    Â_k = a (M_k + Σ_h N_h d̄_hk),   V(Â_k) = a² Σ_h N_h² (1 − n_h / N_h) s²_hk / n_h,

``M_k`` the map's pixels of grade ``k`` and ``a`` the pixel area. A stratum with one plot takes
the pooled within-stratum variance of the others (collapsed strata, Cochran 1977 §5A.12); a
stratum without plots keeps its mapped areas (the difference there is taken as 0, and the
result says how many graded pixels that leaves unsampled).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from minecarbon.assessment.area_estimation import Z95
from minecarbon.errors import InputDataError


@dataclass(frozen=True)
class GradeAreas:
    """Mapped and estimated areas (ha) of each class, with standard errors and 95 % intervals."""

    table: pd.DataFrame
    """``class, mapped_area_ha, area_ha, area_se_ha, area_ha_ci_low, area_ha_ci_high``."""
    n_plots: int
    n_strata_sampled: int
    unsampled_share: float
    """Share of the graded pixels in strata without a plot (their areas stand as mapped)."""


def reference_effects(effect_map: npt.ArrayLike, observed_gain: npt.ArrayLike,
                      mapped_gain: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``E_ref = E_map + (A_obs − A_map)`` per plot (t C/ha; NaN where any input is NaN)."""
    e = np.asarray(effect_map, dtype=np.float64)
    o = np.asarray(observed_gain, dtype=np.float64)
    m = np.asarray(mapped_gain, dtype=np.float64)
    if not (e.shape == o.shape == m.shape):
        raise InputDataError(f"effect {e.shape}, observed {o.shape} and mapped {m.shape} gains "
                             "differ in shape", fix="give one value of each per plot")
    return np.asarray(e + (o - m), dtype=np.float64)


def difference_areas(stratum: Sequence[object] | npt.ArrayLike, mapped: npt.ArrayLike,
                     reference: npt.ArrayLike, stratum_pixels: Mapping[Any, int],
                     mapped_pixels: Mapping[int, int], classes: Sequence[int],
                     pixel_area_ha: float, *, z: float = Z95) -> GradeAreas:
    """Stratified difference estimates of class areas (module docstring).

    Parameters
    ----------
    stratum, mapped, reference
        Per sampled plot: its design stratum, the map's class and the reference class there.
    stratum_pixels
        ``N_h``: the population's pixels (of the mapped domain) in every stratum, sampled or not.
    mapped_pixels
        ``M_k``: the map's pixels of each class.
    classes
        The classes to estimate.
    pixel_area_ha
        ``a``.
    z
        The interval's quantile.

    Raises
    ------
    InputDataError
        Arrays of different lengths, a plot in a stratum without pixels, or no plot.

    """
    strata = np.asarray(stratum, dtype=object)
    m = np.asarray(mapped, dtype=np.int64)
    r = np.asarray(reference, dtype=np.int64)
    if not (strata.shape == m.shape == r.shape) or m.ndim != 1:
        raise InputDataError("stratum, mapped and reference differ in length",
                             fix="give one of each per plot")
    if m.size == 0:
        raise InputDataError("no sampled plot", fix="give at least one plot per stratum")
    unknown = sorted({str(h) for h in strata if int(stratum_pixels.get(h, 0)) <= 0})
    if unknown:
        raise InputDataError(f"plots in strata without pixels: {', '.join(unknown)}",
                             fix="count every stratum's pixels in stratum_pixels")
    frame = pd.DataFrame({"h": strata, "m": m, "r": r})
    groups = {h: g for h, g in frame.groupby("h", sort=True)}
    n_total = float(sum(stratum_pixels.values()))
    unsampled = sum(v for h, v in stratum_pixels.items() if h not in groups)
    rows = []
    for k in classes:
        d = (frame["r"] == k).astype(float) - (frame["m"] == k).astype(float)
        within = [(len(g), float(d[g.index].var(ddof=1))) for g in groups.values() if len(g) > 1]
        pooled = (sum((n - 1) * v for n, v in within) / sum(n - 1 for n, _ in within)
                  if within else 0.0)
        total, var = float(mapped_pixels.get(k, 0)), 0.0
        for h, g in groups.items():
            big_n, n = float(stratum_pixels[h]), len(g)
            dh = d[g.index]
            total += big_n * float(dh.mean())
            s2 = float(dh.var(ddof=1)) if n > 1 else pooled
            var += big_n ** 2 * max(0.0, 1.0 - n / big_n) * s2 / n
        area, se = total * pixel_area_ha, float(np.sqrt(var)) * pixel_area_ha
        rows.append({"class": int(k),
                     "mapped_area_ha": float(mapped_pixels.get(k, 0)) * pixel_area_ha,
                     "area_ha": area, "area_se_ha": se,
                     "area_ha_ci_low": max(0.0, area - z * se),
                     "area_ha_ci_high": area + z * se})
    return GradeAreas(pd.DataFrame(rows), int(m.size), len(groups),
                      float(unsampled / n_total) if n_total else 0.0)
