"""Error-adjusted areas of the carbon-trend classes from an interpreted reference sample.

Nobody observes a pixel's Mann–Kendall class on the ground, but an analyst can say, from a
point's image time series, whether its forest *clearly gained*, *clearly lost* or *held* its
carbon over the period (TimeSync, Cohen et al. 2010). The trend map's five classes are put in
those three categories — significant decrease → decrease; slight decrease, stable, slight
increase → stable; significant increase → increase — and a fourth holds the extent's pixels
without a forest-carbon series (never forest: no trend mapped; *none* in the reference), so
that forest the map missed and forest it invented are both counted. The areas of the
categories are estimated from the map and the reference points with Olofsson et al.'s (2014)
estimator (:func:`minecarbon.assessment.area_estimation.estimate_areas`; a systematic or
simple random sample over the extent is post-stratified by the map's category). Where a random
subsample of the points was interpreted again and its labels checked (column
``trend_checked``), the interpreter's errors are corrected by the two-phase difference
estimator (:func:`checked_trend_areas`, :mod:`minecarbon.assessment.reference_check`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd

from minecarbon.assessment.area_estimation import AreaEstimate, estimate_areas
from minecarbon.assessment.reference_check import CheckedEstimate, two_phase_areas
from minecarbon.assessment.trend import TrendClass
from minecarbon.errors import InputDataError

#: Column of the checked labels (blank where a point was not checked).
CHECKED_COLUMN = "trend_checked"
#: Fewer checked points than this in the extent correct nothing (the labels are taken as right).
MIN_CHECKED = 20
#: Category code of the extent's pixels that were never forest.
NONE = 9
#: The categories' codes, in the order of :data:`TREND_REFERENCE`.
CODES = (-1, 0, 1, NONE)
#: Reference labels of the categories: (English, Chinese).
TREND_REFERENCE = (("decrease", "减少"), ("stable", "稳定"), ("increase", "增加"),
                   ("none", "非森林"))
#: Category codes and their names (Chinese, English) in the tables.
CATEGORY_NAMES = {-1: ("碳储量明显减少", "clear decrease"), 0: ("无明显变化", "no clear change"),
                  1: ("碳储量明显增加", "clear increase"), NONE: ("非森林", "never forest")}


#: Every accepted spelling of a label → its category code.
_LOOKUP = {name: code for code, pair in zip(CODES, TREND_REFERENCE, strict=True)
           for name in pair}
_FIX = ", ".join(f"{en} or {zh}" for en, zh in TREND_REFERENCE)


def _codes(values: list[object], rows: list[int], where: str, column: str,
           fix: str) -> npt.NDArray[np.int64]:
    """Category codes of labels; a bad one is named by its table row (``rows``, 0-based)."""
    texts = [str(v).strip().lower() for v in values]
    bad = [k for k, text in enumerate(texts) if text not in _LOOKUP]
    if bad:
        raise InputDataError(
            f"reference sample {where}: row {rows[bad[0]] + 1} has {column} {texts[bad[0]]!r}"
            + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""), fix=fix)
    return np.array([_LOOKUP[text] for text in texts], dtype=np.int64)


def reference_labels(labels: Iterable[object], where: str) -> npt.NDArray[np.int64]:
    """Codes −1 / 0 / 1 / 9 of interpreted labels (English or Chinese, any case)."""
    values = list(labels)
    return _codes(values, list(range(len(values))), where, "trend",
                  fix="label every point " + _FIX)


def map_category(trend_class: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Category −1 / 0 / 1 of trend-class codes; any other code or NaN gives 9 (never forest)."""
    codes = np.asarray(trend_class, dtype=np.float64)
    out = np.full(codes.shape, NONE, dtype=np.int64)
    out[np.isin(codes, [TrendClass.SLIGHT_DECREASE, TrendClass.STABLE,
                        TrendClass.SLIGHT_INCREASE])] = 0
    out[codes == TrendClass.SIGNIFICANT_DECREASE] = -1
    out[codes == TrendClass.SIGNIFICANT_INCREASE] = 1
    return out


def trend_areas(mapped_at_points: npt.ArrayLike, reference: npt.ArrayLike,
                mapped_area: dict[int, float]) -> AreaEstimate:
    """Areas of the four categories from points' map and reference categories.

    Parameters
    ----------
    mapped_at_points
        The map's category (:data:`CODES`) at every reference point; −128 (outside the
        extent) leaves the point out.
    reference
        The interpreted category of every point.
    mapped_area
        Mapped area (ha) of every category.

    """
    m = np.asarray(mapped_at_points, dtype=np.int64)
    r = np.asarray(reference, dtype=np.int64)
    keep = m != -128
    codes = list(CODES)
    counts = pd.crosstab(pd.Categorical(m[keep], categories=codes),
                         pd.Categorical(r[keep], categories=codes), dropna=False)
    return estimate_areas(counts.to_numpy(), [mapped_area.get(c, 0.0) for c in codes],
                          classes=codes)


def _missing(value: object) -> bool:
    """None, NaN, pandas' NA or NaT (a missing cell however the table was read)."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # an array-like cell is not missing
        return False


def checked_labels(values: Iterable[object], where: str
                   ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Codes of the checked labels and where there is one (blank, None or NaN: not checked)."""
    items = list(values)
    present = np.array([not _missing(v) and str(v).strip() != "" for v in items], dtype=bool)
    codes = np.full(len(items), NONE, dtype=np.int64)
    rows = [int(i) for i in np.flatnonzero(present)]
    if rows:
        codes[rows] = _codes([items[i] for i in rows], rows, where, CHECKED_COLUMN,
                             fix=f"give checked points one of {_FIX}, and leave the others "
                                 "blank")
    return codes, present


#: How :func:`checked_method` states the check (read back by the report).
CHECKED_METHOD = re.compile(r"corrected from (?P<n>\d+) checked points \((?P<d>\d+) disagreed")


def checked_method(check: CheckedEstimate) -> str:
    """The words the area table's ``method`` adds for a check (matched by CHECKED_METHOD)."""
    text = (f", the interpreter's errors corrected from {check.checked} checked points "
            f"({check.disagreements} disagreed; two-phase difference estimator, Cochran 1977, "
            "ch. 12)")
    if check.uncorrected:
        text += f"; map categories {check.uncorrected} had no checked point and are not corrected"
    return text


def checked_trend_areas(mapped_at_points: npt.ArrayLike, reference: npt.ArrayLike,
                        checked: npt.ArrayLike, is_checked: npt.ArrayLike,
                        mapped_area: dict[int, float]) -> CheckedEstimate:
    """:func:`trend_areas` with the interpreter's errors corrected by the checked points.

    ``checked`` holds the checked category where ``is_checked``; the rest as
    :func:`trend_areas` (−128: outside the extent, left out).
    """
    m = np.asarray(mapped_at_points, dtype=np.int64)
    keep = m != -128
    return two_phase_areas(m[keep], np.asarray(reference, dtype=np.int64)[keep],
                           np.asarray(checked, dtype=np.int64)[keep],
                           np.asarray(is_checked, dtype=bool)[keep],
                           [mapped_area.get(c, 0.0) for c in CODES], list(CODES))
