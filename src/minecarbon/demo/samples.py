"""Training samples of the simulated site, as an interpreter and a field crew would deliver them.

Land-cover, leaf-habit and species classifiers (requirements C1–C3) learn from labelled points.
The simulated provider delivers one GeoPackage of points: in every ``LANDCOVER_EVERY``-th year
and in the phenology years, a stratified random draw of pixels of the monitoring extent per
land-cover class (an interpreter labels land cover on several dates, so that the classifier
learns the differences between years); in the phenology years (the years with a monthly image
series, so that species can be told by their phenology) also, within forest, a draw per
species group among pixels of at least ``PURE_COVER`` canopy cover (clear stands). Labels
come from the simulator's truth of that year, so they are right; a point lies at a random
position inside its pixel. Columns: ``sample_id, year, landcover, leaf_habit, species``
(species-group key, empty outside forest), ``cover``, ``design`` (``random``: the per-class
random draw, a probability sample of each class; ``purposive``: the clear stands picked for
the species, which are not) and the geometry.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio

from minecarbon.demo.spec import SiteSpec, Size
from minecarbon.standard.species import by_code
from minecarbon.types import LeafHabit

PURE_COVER = 0.3
#: Land-cover samples every this many years (from the first year), besides the phenology years.
LANDCOVER_EVERY = 5
#: Samples per land-cover class and per species group, by site size.
PER_CLASS = {Size.SMALL: 60, Size.MEDIUM: 150, Size.LARGE: 300}
PER_SPECIES = {Size.SMALL: 40, Size.MEDIUM: 100, Size.LARGE: 200}


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return np.asarray(src.read(1))


def _pick(rng: np.random.Generator, where: np.ndarray, n: int) -> np.ndarray:
    flat = np.flatnonzero(where)
    if flat.size == 0:
        return flat
    return rng.choice(flat, size=min(n, flat.size), replace=False)


def draw_samples(spec: SiteSpec, root: Path, in_extent: np.ndarray) -> gpd.GeoDataFrame:
    """Labelled points of the sample years, from the staged truth under ``root``.

    ``in_extent`` is the monitoring extent as a boolean grid: samples are drawn inside it.
    """
    rng = np.random.default_rng([spec.seed, 4242])
    grid = spec.grid
    rows: list[dict[str, object]] = []
    years = sorted(set(spec.phenology_years)
                   | set(range(spec.first_year, spec.last_year + 1, LANDCOVER_EVERY)))
    for year in years:
        landcover = _read(root / "landcover" / f"landcover_{year}.tif")
        species = _read(root / "truth" / f"species_{year}.tif")
        cover = _read(root / "truth" / f"cover_{year}.tif")
        inside = in_extent
        chosen: list[np.ndarray] = []
        for code in np.unique(landcover[inside & (landcover > 0)]):
            chosen.append(_pick(rng, inside & (landcover == code), PER_CLASS[spec.size]))
        random_draw = np.concatenate(chosen) if chosen else np.zeros(0, np.int64)
        forest = inside & (landcover == 1) & (cover >= PURE_COVER)
        if year not in spec.phenology_years:
            forest = np.zeros_like(forest)
        for code in np.unique(species[forest & (species > 0)]):
            chosen.append(_pick(rng, forest & (species == code), PER_SPECIES[spec.size]))
        flat = np.unique(np.concatenate(chosen))
        design = np.where(np.isin(flat, random_draw), "random", "purposive")
        r, c = np.unravel_index(flat, landcover.shape)
        jitter = rng.uniform(-0.45, 0.45, (2, flat.size)) * grid.pixel_size_m
        x = grid.x_min_m + (c + 0.5) * grid.pixel_size_m + jitter[0]
        y = grid.y_max_m - (r + 0.5) * grid.pixel_size_m + jitter[1]
        for i in range(flat.size):
            lc, sp = int(landcover[r[i], c[i]]), int(species[r[i], c[i]])
            group = by_code(sp) if lc == 1 and sp > 0 else None
            habit = (LeafHabit.EVERGREEN if group.leaf_habit == "evergreen"
                     else LeafHabit.DECIDUOUS) if group is not None else None
            rows.append({"year": year, "landcover": lc,
                         "leaf_habit": int(habit) if habit is not None else 0,
                         "species": group.key if group is not None else "",
                         "cover": round(float(cover[r[i], c[i]]), 3),
                         "design": str(design[i]), "x": x[i], "y": y[i]})
    frame = pd.DataFrame(rows)
    frame.insert(0, "sample_id", [f"S{i + 1:05d}" for i in range(len(frame))])
    points = gpd.points_from_xy(frame.pop("x"), frame.pop("y"))
    return gpd.GeoDataFrame(frame, geometry=points, crs=grid.crs)
