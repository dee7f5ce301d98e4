"""The classify step's forest-area calibration and the final series' own error matrix.

:func:`forest_area_weight` estimates the true forest share of the observed pixel-years from
the held-out reference samples (inverse calibration of the per-year classifier's error
matrix) and finds the forest weight under which the temporally consistent series maps that
share (:mod:`minecarbon.classify.area_calibration`, ``classify.forest_area_calibration``).

:func:`series_confusion` checks the *final* series against the same held-out samples: the
error matrix of the map that is published, which the assessment's area estimates use (the
per-year classifier's matrix describes a map nobody reads once the series is decoded and
calibrated).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from minecarbon.assessment.area_estimation import estimate_areas_by_reference
from minecarbon.classify.accuracy import accuracy_report
from minecarbon.classify.area_calibration import forest_weight
from minecarbon.errors import MinecarbonError
from minecarbon.features.extract import sample_points
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import read_on_grid
from minecarbon.types import LandCover

#: Pixels of the regular sample on which the weight is found (every year of each).
SAMPLE_PIXELS = 60_000


def _sample(cube: xr.DataArray, free: xr.DataArray | None
            ) -> tuple[np.ndarray, np.ndarray | None]:
    """(year, class, pixel) probabilities and (year, pixel) free changes of a regular sample."""
    n_years, _, ny, nx = cube.shape
    stride = max(1, int(np.ceil(np.sqrt(ny * nx / SAMPLE_PIXELS))))
    cut = {"y": slice(None, None, stride), "x": slice(None, None, stride)}
    p = np.asarray(cube.isel(cut).values, dtype=np.float64)
    p = p.reshape(n_years, p.shape[1], -1)
    seen = np.isfinite(p).all(axis=1).any(axis=0)  # pixels with any observation
    f = None
    if free is not None:
        f = np.asarray(free.isel(cut).values, dtype=bool).reshape(n_years, -1)[:, seen]
    return p[:, :, seen], f


def forest_area_weight(cube: xr.DataArray, classes: list[int], free: xr.DataArray | None,
                       reference: dict[str, Any] | None, cfg: Any) -> tuple[float, dict[str, Any]]:
    """The forest weight of the land-cover series, and what was found (for ``accuracy.json``).

    ``cube`` (year, class, y, x) probabilities with subclasses merged (NaN: no observation),
    ``classes`` their codes, ``reference`` the land-cover section of ``accuracy.json`` (its
    ``confusion``, rows = map, and ``labels``; those of its ``probability_sample`` where the
    samples record their design). Returns weight 1 with the reason when the
    calibration is off or cannot be made.
    """
    forest = int(LandCover.FOREST)
    if not cfg.forest_area_calibration:
        return 1.0, {"forest_area_calibration": "off"}
    if not reference or forest not in classes:
        return 1.0, {"forest_area_calibration": "no reference samples or no forest class"}
    matrix = reference.get("probability_sample", reference)
    labels = [int(c) for c in matrix["labels"]]
    counts = np.asarray(matrix["confusion"], dtype=np.float64)
    p, f = _sample(cube, free)
    observed = np.isfinite(p).all(axis=1)
    best = np.where(observed, np.nan_to_num(p, nan=-1.0).argmax(axis=1), -1)
    mapped = np.array([np.count_nonzero(best == classes.index(c)) if c in classes else 0
                       for c in labels], dtype=np.float64)
    unknown = [c for c in classes if c not in labels and np.any(best == classes.index(c))]
    if unknown or forest not in labels or mapped.sum() == 0:
        return 1.0, {"forest_area_calibration": f"classes {unknown} mapped without held-out "
                     "samples" if unknown else "no forest among the held-out samples"}
    try:
        est = estimate_areas_by_reference(counts, mapped, labels)
    except MinecarbonError as err:  # too few reference samples of a class
        return 1.0, {"forest_area_calibration": f"not made: {err}"}
    row = est[est["class"] == forest].iloc[0]
    target = float(np.clip(row["area"] / mapped.sum(), 0.0, 1.0))
    w, before, after = forest_weight(p, classes.index(forest), target, free=f,
                                     stay=cfg.temporal_stay_probability,
                                     mixing=cfg.temporal_mixing)
    info = {"forest_area_calibration": "made", "forest_weight": round(w, 4),
            "forest_share_per_year_maps": round(float(mapped[labels.index(forest)]
                                                      / mapped.sum()), 5),
            "forest_share_estimated": round(target, 5),
            "forest_share_estimated_se": round(float(row["area_se"] / mapped.sum()), 5),
            "forest_share_series_unweighted": round(before, 5),
            "forest_share_series": round(after, 5), "sample_pixels": int(p.shape[2])}
    return w, info


def apply_forest_weight(cube: xr.DataArray, weight: float) -> xr.DataArray:
    """``cube`` (…, class, …) with forest's probability × ``weight``, renormalised."""
    if weight == 1.0:
        return cube
    factor = xr.DataArray(np.where(cube["class"].values == int(LandCover.FOREST), weight, 1.0),
                          dims="class", coords={"class": cube["class"]})
    weighted = cube * factor
    out: xr.DataArray = weighted / weighted.sum("class", skipna=False)
    return out


def series_confusion(held_out: pd.DataFrame, samples: pd.DataFrame, maps: dict[int, Path],
                     grid: AnalysisGrid, chunk: int) -> dict[str, Any] | None:
    """Error matrix of the final land-cover series at the held-out samples (rows = map).

    ``held_out`` (``sample_id, year, landcover``, optional ``design``: only ``random``
    samples are used) from the training split, ``samples`` the sample points with their
    geometry, ``maps`` year → final land-cover file. None when no
    held-out sample falls in a mapped year and class.
    """
    if "design" in held_out.columns:  # the probability sample alone estimates areas
        held_out = held_out[held_out["design"].astype(str) == "random"]
    if held_out.empty:
        return None
    points = samples[samples["sample_id"].isin(held_out["sample_id"])]
    rows = []
    for year, part in points.groupby("year"):
        if int(year) not in maps:
            continue
        stack = xr.Dataset({"landcover": read_on_grid(maps[int(year)], grid, chunks=chunk,
                                                      masked=False)})
        rows.append(sample_points(stack, part, grid).assign(year=int(year)))
    if not rows:
        return None
    mapped = pd.concat(rows, ignore_index=True).merge(
        held_out[["sample_id", "year", "landcover"]], on=["sample_id", "year"])
    mapped = mapped[mapped["landcover_x"] > 0]  # an unclassified pixel-year is not a class
    if mapped.empty:
        return None
    truth = mapped["landcover_y"].astype(int).to_numpy()
    predicted = mapped["landcover_x"].astype(int).to_numpy()
    labels = sorted(set(truth) | set(predicted))
    report = accuracy_report(truth, predicted, labels=labels).to_dict()
    return {k: report[k] for k in ("layout", "labels", "confusion", "n", "overall_accuracy",
                                   "kappa", "per_class") if k in report}
