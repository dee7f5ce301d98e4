"""An interpreted reference sample of carbon trends on the simulated site (issue 17, point 2).

Areas of the trend classes counted on a map carry the map's errors; good practice estimates
them from a reference sample (Olofsson et al. 2014). Where nobody re-measures plots every year,
the reference is *interpreted*: an analyst looks at each sample point's image time series and
very-high-resolution snapshots and says whether its forest clearly gained, clearly lost or
held its carbon over the period (the TimeSync protocol, Cohen et al. 2010, *Remote Sensing of
Environment* 114: 2911–2924).

The simulated provider delivers such a sample: points on a systematic grid with a random start
over the monitoring extent. A point whose pixel was never forest is labelled *none*; the
others from the truth's forest-carbon series (0 t C/ha outside the pixel's forest years): the
mean of its last three years against its first three, *increase* or *decrease* where they
differ by more than ``CLEAR_T_PER_HA`` and ``CLEAR_SHARE`` of the larger, else *stable*. An
interpreter errs: ``MISLABEL`` of the forest labels are replaced by a neighbouring label.

The provider checks its work as good practice asks (Olofsson et al. 2014, §5.1.4): a random
``CHECK_SHARE`` of the points is interpreted again, independently, and disagreements are
resolved by a senior interpreter. The checked label errs less but still errs
(``CHECK_MISLABEL``, again to a neighbouring label). Columns ``sample_id, trend``
(``increase``, ``stable``, ``decrease``, ``none``), ``trend_checked`` (the checked label,
blank on the points not checked), ``first_year, last_year``, the geometry.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio

from minecarbon.demo.spec import SiteSpec, Size

#: Grid spacing of the sample, in pixels, by site size (≈ 1 000–2 000 points).
SPACING_PX = {Size.SMALL: 5, Size.MEDIUM: 20, Size.LARGE: 40}
#: A change is clear beyond this many t C/ha …
CLEAR_T_PER_HA = 5.0
#: … and this share of the larger of the two levels.
CLEAR_SHARE = 0.15
#: Share of labels an interpreter gets wrong (to a neighbouring label).
MISLABEL = 0.03
#: Share of the points interpreted again and adjudicated (a random subsample).
CHECK_SHARE = 0.2
#: Share of the checked forest labels that are still wrong (to a neighbouring label).
CHECK_MISLABEL = 0.005
#: The labels, in the order of the trend (decrease → increase), then never forest.
LABELS = ("decrease", "stable", "increase", "none")


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        data: np.ndarray = src.read(1)
        return data


def interpret(series: np.ndarray) -> np.ndarray:
    """Labels (0 decrease, 1 stable, 2 increase) of forest-carbon series (points, years)."""
    k = min(3, series.shape[1])
    first = np.nanmean(series[:, :k], axis=1)
    last = np.nanmean(series[:, -k:], axis=1)
    diff = last - first
    clear = np.abs(diff) > np.maximum(CLEAR_T_PER_HA, CLEAR_SHARE * np.maximum(first, last))
    return np.where(clear, np.where(diff > 0, 2, 0), 1)


def _checked_labels(truth: np.ndarray, forest: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
    """The adjudicated labels of a random ``CHECK_SHARE`` of the points; −1 where unchecked.

    Drawn from their own random stream, so the first interpretation is the same with or
    without the check.
    """
    chosen = rng.random(truth.size) < CHECK_SHARE
    return np.where(chosen, _mislabel(truth, forest, CHECK_MISLABEL, rng), -1)


def _mislabel(labels: np.ndarray, forest: np.ndarray, share: float,
              rng: np.random.Generator) -> np.ndarray:
    """``share`` of the forest labels moved one step (decrease ↔ stable ↔ increase)."""
    n = labels.size
    wrong = forest & (rng.random(n) < share)
    shift = np.where(labels == 0, 1, np.where(labels == 2, -1, rng.choice([-1, 1], n)))
    return np.where(wrong, labels + shift, labels)


def draw_trend_reference(spec: SiteSpec, root: Path, in_extent: np.ndarray) -> gpd.GeoDataFrame:
    """The interpreted trend sample of the site staged under ``root`` (truth read there)."""
    rng = np.random.default_rng([spec.seed, 5151])
    grid = spec.grid
    step = SPACING_PX[spec.size]
    r0, c0 = rng.integers(0, step, 2)
    mesh = np.meshgrid(np.arange(r0, grid.height, step), np.arange(c0, grid.width, step),
                       indexing="ij")
    rows, cols = mesh[0].ravel(), mesh[1].ravel()
    rows, cols = rows[in_extent[rows, cols]], cols[in_extent[rows, cols]]
    values = np.stack([_read(root / "truth" / f"agc_{y}.tif")[rows, cols].astype("float64")
                       for y in spec.years], axis=1)
    forest = np.isfinite(values)
    ever = forest.any(axis=1)
    seen_before = np.cumsum(forest, axis=1) > 0
    seen_after = np.cumsum(forest[:, ::-1], axis=1)[:, ::-1] > 0
    series = np.where(forest, values, np.where(seen_before & seen_after, np.nan, 0.0))
    labels = np.full(rows.size, 3)
    labels[ever] = interpret(series[ever])
    checked = _checked_labels(labels, ever, np.random.default_rng([spec.seed, 5152]))
    labels = _mislabel(labels, ever, MISLABEL, rng)
    jitter = rng.uniform(-0.45, 0.45, (2, rows.size)) * grid.pixel_size_m
    x = grid.x_min_m + (cols + 0.5) * grid.pixel_size_m + jitter[0]
    y = grid.y_max_m - (rows + 0.5) * grid.pixel_size_m + jitter[1]
    frame = pd.DataFrame({"sample_id": [f"R{i + 1:05d}" for i in range(rows.size)],
                          "trend": [LABELS[v] for v in labels],
                          "trend_checked": [LABELS[v] if v >= 0 else None for v in checked],
                          "first_year": spec.first_year, "last_year": spec.last_year})
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs=grid.crs)
