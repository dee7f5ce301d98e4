"""The classify step's forest-area calibration and the final series' own error matrix.

:func:`forest_area_weight` finds the forest weight under which the temporally consistent
series maps as much forest as its own error matrix at the held-out random samples says there
is (inverse calibration; :mod:`minecarbon.classify.area_calibration`,
``classify.forest_area_calibration``).

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
from minecarbon.classify.area_calibration import balance_weight, decode
from minecarbon.classify.holdout import LOCATION
from minecarbon.errors import MinecarbonError
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import read_on_grid
from minecarbon.types import LandCover

#: Pixels of the regular sample on which the weight is found (every year of each).
SAMPLE_PIXELS = 60_000
#: Sample designs (the samples' ``design`` column) that make a probability sample of a class.
PROBABILITY_DESIGNS = ("random", "systematic")


def probability_sample(samples: pd.DataFrame) -> pd.Series:
    """True for the samples that may estimate areas: all, unless ``design`` says otherwise.

    A sample whose ``design`` is not one of :data:`PROBABILITY_DESIGNS` (e.g. ``purposive``:
    clear stands picked for the species) trains the models but does not estimate areas.
    """
    if "design" not in samples.columns:
        return pd.Series(True, index=samples.index)
    return samples["design"].astype(str).str.strip().str.lower().isin(PROBABILITY_DESIGNS)


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


def held_out_pixels(held_out: pd.DataFrame, grid: AnalysisGrid,
                    years: list[int]) -> pd.DataFrame:
    """The random held-out samples' ``row, col, year_index, landcover`` on the grid.

    ``held_out`` carries each sample's pixel (:data:`~minecarbon.classify.holdout.LOCATION`,
    from :func:`minecarbon.features.extract.sample_points`). Samples in a year without
    probabilities are left out; so are those that are not a probability sample
    (:func:`probability_sample`).
    """
    held_out = held_out[probability_sample(held_out)]
    index = {year: i for i, year in enumerate(years)}
    year_index = np.array([index.get(int(v), -1) for v in held_out["year"]], dtype=int)
    keep = year_index >= 0
    row, col = np.divmod(held_out[LOCATION].to_numpy(dtype=np.int64)[keep], grid.width)
    return pd.DataFrame({"row": row, "col": col, "year_index": year_index[keep],
                         "landcover": held_out["landcover"].astype(int).to_numpy()[keep]})


def forest_area_weight(cube: xr.DataArray, classes: list[int], free: xr.DataArray | None,
                       held: pd.DataFrame | None, cfg: Any) -> tuple[float, dict[str, Any]]:
    """The forest weight of the land-cover series, and what was found (for ``accuracy.json``).

    ``cube`` (year, class, y, x) probabilities with subclasses merged (NaN: no observation),
    ``classes`` their codes, ``held`` the random held-out samples from
    :func:`held_out_pixels`. The weight is where the decoded series' forest share (over the
    pixel-years of a regular sample) equals the share estimated from the same decoded
    series' error matrix at the held-out samples (inverse calibration): the published map's
    estimated omission and commission of forest then balance. Returns weight 1 with the
    reason when the calibration is off or cannot be made.
    """
    forest = int(LandCover.FOREST)
    if not cfg.forest_area_calibration:
        return 1.0, {"forest_area_calibration": "off"}
    if held is None or held.empty or forest not in classes or \
            int((held["landcover"] == forest).sum()) < 2:
        return 1.0, {"forest_area_calibration": "not made: no held-out random forest samples"}
    fi = classes.index(forest)
    p, f = _sample(cube, free)
    rows = xr.DataArray(held["row"].to_numpy(), dims="sample")
    cols = xr.DataArray(held["col"].to_numpy(), dims="sample")
    hp = np.asarray(cube.isel(y=rows, x=cols).values, dtype=np.float64)  # (year, class, n)
    hf = None if free is None else np.asarray(free.isel(y=rows, x=cols).values, dtype=bool)
    at = held["year_index"].to_numpy()
    reference = held["landcover"].to_numpy()
    codes = np.asarray(classes)
    kw = {"stay": cfg.temporal_stay_probability, "mixing": cfg.temporal_mixing}
    found: dict[float, dict[str, float]] = {}

    def excess(w: float) -> float:
        path = decode(p, fi, w, f, **kw)
        mapped = np.bincount(path[path >= 0], minlength=len(classes)).astype(float)
        hpath = decode(hp, fi, w, hf, **kw)[np.arange(len(at)), at]
        ok = hpath >= 0
        predicted = codes[hpath[ok]]
        labels = sorted(set(reference[ok].tolist()) | set(predicted.tolist()))
        confusion = accuracy_report(reference[ok], predicted, labels=labels).confusion.to_numpy()
        area = np.array([mapped[classes.index(c)] if c in classes else 0.0 for c in labels])
        try:
            est = estimate_areas_by_reference(confusion, area, labels)
        except MinecarbonError:  # a mapped class without two reference samples
            return float("nan")
        row = est[est["class"] == forest].iloc[0]
        total = float(area.sum())
        found[w] = {"mapped": float(mapped[fi]) / total, "estimated": float(row["area"]) / total,
                    "se": float(row["area_se"]) / total}
        return found[w]["mapped"] - found[w]["estimated"]

    w, _, after = balance_weight(excess, tol=0.002)
    if not np.isfinite(after) or w not in found:
        return 1.0, {"forest_area_calibration": "not made: the held-out samples do not give "
                     "an area for every mapped class"}
    info = {"forest_area_calibration": "made", "forest_weight": round(w, 4),
            "forest_share_series_unweighted": round(found[1.0]["mapped"], 5),
            "forest_share_estimated_unweighted": round(found[1.0]["estimated"], 5),
            "forest_share_series": round(found[w]["mapped"], 5),
            "forest_share_estimated": round(found[w]["estimated"], 5),
            "forest_share_estimated_se": round(found[w]["se"], 5),
            "sample_pixels": int(p.shape[2]), "held_out_samples": len(held)}
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


def series_confusion(held: pd.DataFrame, maps: dict[int, Path], years: list[int],
                     grid: AnalysisGrid, chunk: int) -> dict[str, Any] | None:
    """Error matrix of the final land-cover series at the held-out samples (rows = map).

    ``held`` the random held-out samples on the grid (:func:`held_out_pixels`, with
    ``year_index`` into ``years``), ``maps`` year → final land-cover file. None when no
    held-out sample falls in a mapped year and class.
    """
    if held.empty:
        return None
    mapped = np.zeros(len(held), dtype=int)
    at = held["year_index"].to_numpy()
    for i, year in enumerate(years):
        here = at == i
        if not here.any() or year not in maps:
            continue
        band = read_on_grid(maps[year], grid, chunks=chunk, masked=False)
        rows = xr.DataArray(held["row"].to_numpy()[here], dims="sample")
        cols = xr.DataArray(held["col"].to_numpy()[here], dims="sample")
        mapped[here] = np.asarray(band.isel(y=rows, x=cols).values, dtype=int)
    ok = mapped > 0  # an unclassified pixel-year is not a class
    if not ok.any():
        return None
    truth = held["landcover"].to_numpy()[ok]
    labels = sorted(set(truth.tolist()) | set(mapped[ok].tolist()))
    report = accuracy_report(truth, mapped[ok], labels=labels).to_dict()
    return {k: report[k] for k in ("layout", "labels", "confusion", "n", "overall_accuracy",
                                   "kappa", "per_class") if k in report}
