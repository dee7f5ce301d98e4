"""Level-1 and level-2 monitoring and assessment units per pixel and year (requirement S3).

Inputs: annual forest masks ``forest`` (year, y, x), the monitoring extent (y, x) and the
rasterised mining events (:func:`rasterize_events`): per pixel the year and damage form of the
mining damage (损毁), planned mining (拟开采) and reclamation (复垦) polygons covering its centre.
Where polygons of one layer overlap, the earliest year wins and the form comes from that
polygon (ties: the lowest form code). ``NONE_YEAR`` (32767) marks "no polygon", form 0 "none".

Let y0 be the first year of ``forest`` (years need not be consecutive). A pixel is an *object* at
year t when it lies in the extent and is forest in at least one year y0..t; other pixels get 0.
For an object the first rule that holds gives its level-1 unit (一级监测评估单元):

1. reclaimed forest 已复垦森林 (4): reclamation_year ≤ t and forest in some year in
   [reclamation_year, t];
2. damaged forest 已损毁森林 (3): damage_year ≤ t and forest in some year in
   [y0, damage_year − 1] (when damage_year ≤ y0: forest at y0);
3. to-be-damaged forest 拟损毁森林 (2): forest at t and inside a planned-mining polygon (any
   planned year), or inside a damage polygon whose year is still to come (damage_year > t);
4. persistent forest 持续森林 (1): forest in every year y0..t;
5. other disturbance 其他扰动 (5): every other object — forest lost or gained outside the mining
   units (fire, roads, spontaneous regrowth…).

Level 2 (二级) splits the mining units by damage form (挖损 excavation 1, 塌陷 subsidence 2,
压占 occupation 3): ``l2 = l1 × 10 + form``, with the form of the damage polygon for damaged
forest; of the plan polygon for to-be-damaged forest (of the damage polygon when there is no plan
polygon); of the damage polygon under reclaimed forest, else the reclamation polygon's own form
(0 if neither has one). Persistent forest is 10, other disturbance 50, non-objects 0. So
``l1 = l2 // 10``. The same rules, with examples, are in ``docs/assessment-units.md``.

The tables read from the unit maps (names, areas, the plots' units) are in
:mod:`minecarbon.scope.unit_tables` and re-exported here.

Everything is vectorised NumPy inside, run block by block over spatial chunks by dask (the year
axis in one chunk): cumulative sums of the forest mask over the years answer every "forest in
some / every year of a period" question with two look-ups, without a loop over pixels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr
from pyproj import CRS

from minecarbon.errors import GridMismatchError, InputDataError, MissingCRSError
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import to_grid_dataarray
from minecarbon.scope.events import LAYERS, YEAR_RANGE
from minecarbon.scope.extent import Chunks, rasterize_polygons
from minecarbon.scope.unit_tables import plot_units, unit_areas, unit_names
from minecarbon.types import AssessmentUnit, DamageForm

__all__ = ["EVENT_VARIABLES", "NONE_YEAR", "UNIT_LAYERS", "assessment_units", "plot_units",
           "rasterize_events", "unit_areas", "unit_names"]

#: Year value of pixels covered by no polygon of a layer.
NONE_YEAR = 32767

#: The layers that define units, in the order of :func:`rasterize_events`' variables.
UNIT_LAYERS = ("damage", "plan", "reclamation")

#: The variables of :func:`rasterize_events`' Dataset.
EVENT_VARIABLES = tuple(f"{layer}_{part}" for layer in UNIT_LAYERS for part in ("year", "form"))

_KEY_BASE = 8  # a burnt key is year * 8 + form: one pass keeps both
_NO_KEY = -1


# ------------------------------------------------------------------------------ rasterising
def _layer_keys(gdf: Any, layer: str, grid: AnalysisGrid) -> tuple[np.ndarray, np.ndarray]:
    """Geometries and burn keys of one cleaned layer, ordered so that the earliest wins."""
    what = f"the {layer} layer"
    if gdf.crs is None:
        raise MissingCRSError(f"{what} has no CRS", fix="clean it with clean_events first")
    if CRS.from_user_input(gdf.crs) != CRS.from_user_input(grid.crs):
        raise GridMismatchError(
            f"{what} is in {CRS.from_user_input(gdf.crs).to_string()}, the grid in {grid.crs}",
            fix="clean it with clean_events(…, crs=grid.crs), which reprojects it",
        )
    if "year" not in gdf.columns:
        raise InputDataError(f"{what} has no 'year' column", fix="clean it with clean_events")
    if "form" not in gdf.columns and layer != "reclamation":
        raise InputDataError(f"{what} has no 'form' column", fix="clean it with clean_events")
    years = np.asarray(gdf["year"], dtype=np.int64)
    if "form" in gdf.columns:
        forms = np.asarray(gdf["form"], dtype=np.int64)
    else:
        forms = np.zeros(len(gdf), dtype=np.int64)
    low, high = YEAR_RANGE
    if len(years) and (years.min() < low or years.max() > high):
        raise InputDataError(
            f"{what} holds years outside {low}–{high}", fix="clean it with clean_events"
        )
    valid_forms = {0} | {int(f) for f in DamageForm}
    if not set(np.unique(forms).tolist()) <= valid_forms:
        raise InputDataError(
            f"{what} holds form codes other than {sorted(valid_forms)}",
            fix="clean it with clean_events",
        )
    # burnt in this order, later polygons overwrite earlier ones: latest year first, and within
    # a year the highest form first, so the earliest year and then the lowest form win
    order = np.lexsort((-forms, -years))
    geoms = np.asarray(gdf.geometry, dtype=object)[order]
    return geoms, (years * _KEY_BASE + forms)[order]


def rasterize_events(
    events: Mapping[str, Any], grid: AnalysisGrid, chunks: Chunks = 1024
) -> xr.Dataset:
    """Rasterise the cleaned event layers onto ``grid`` by the pixel-centre rule.

    Parameters
    ----------
    events
        Layer name → GeoDataFrame as returned by
        :func:`~minecarbon.scope.events.clean_events`, in the grid's CRS. Keys among
        ``damage``, ``plan``, ``reclamation`` (a missing layer means "no polygons") and
        ``disturbance`` (recorded only; not rasterised).
    grid
        The analysis grid.
    chunks
        Chunk size in pixels; each chunk burns only the polygons meeting its window.

    Returns
    -------
    A lazy Dataset of int16 (y, x) variables ``damage_year``, ``damage_form``, ``plan_year``,
    ``plan_form``, ``reclamation_year``, ``reclamation_form``: :data:`NONE_YEAR` and form 0
    where no polygon covers the pixel centre. Where polygons overlap, the earliest year wins
    and the form comes from that polygon (ties: the lowest form code).

    """
    unknown = sorted(set(events) - set(LAYERS))
    if unknown:
        raise InputDataError(
            f"unknown event layer(s) {', '.join(map(repr, unknown))}",
            fix=f"name the layers {', '.join(LAYERS)}",
        )
    variables: dict[str, xr.DataArray] = {}
    for layer in UNIT_LAYERS:
        gdf = events.get(layer)
        if gdf is None or len(gdf) == 0:
            geoms, keys = np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
        else:
            geoms, keys = _layer_keys(gdf, layer, grid)
        burnt = rasterize_polygons(geoms, keys, grid, fill=_NO_KEY, dtype="int16", chunks=chunks)
        none = burnt == _NO_KEY
        year = da.where(none, NONE_YEAR, burnt // _KEY_BASE).astype(np.int16)
        form = da.where(none, 0, burnt % _KEY_BASE).astype(np.int16)
        variables[f"{layer}_year"] = to_grid_dataarray(year, grid, f"{layer}_year")
        variables[f"{layer}_form"] = to_grid_dataarray(form, grid, f"{layer}_form")
    ds = xr.Dataset(variables)
    out: xr.Dataset = ds.rio.write_crs(grid.crs)
    return out


# ------------------------------------------------------------------------------ the rules
def _truthy(values: np.ndarray) -> np.ndarray:
    """A boolean mask from a bool, integer or float array (NaN and 0 are false)."""
    arr = np.asarray(values)
    if arr.dtype == bool:
        return arr
    with np.errstate(invalid="ignore"):
        return np.asarray(arr > 0)


def _l2_block(
    forest: np.ndarray,
    extent: np.ndarray,
    damage_year: np.ndarray,
    damage_form: np.ndarray,
    plan_year: np.ndarray,
    plan_form: np.ndarray,
    reclamation_year: np.ndarray,
    reclamation_form: np.ndarray,
    *,
    years: np.ndarray,
) -> np.ndarray:
    """Level-2 codes (year, y, x) of one spatial block; see the module docstring for the rules."""
    f = _truthy(forest)
    inside = _truthy(extent)
    n_years = f.shape[0]
    # counts[k] = number of forest years among the first k years (counts[0] = 0)
    count_type = np.int16 if n_years < 2**15 else np.int32
    counts = np.zeros((n_years + 1, *f.shape[1:]), dtype=count_type)
    np.cumsum(f, axis=0, out=counts[1:])
    through = counts[1:]  # forest years in y0..t
    t = years.reshape(-1, 1, 1)

    def forest_years_before(year: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(number of years < year, forest years among them) per pixel."""
        n = np.searchsorted(years, year, side="left")
        return n, np.take_along_axis(counts, n[np.newaxis], axis=0)[0]

    ry = np.asarray(reclamation_year)
    dy = np.asarray(damage_year)
    py = np.asarray(plan_year)
    has_r, has_d, has_p = ry != NONE_YEAR, dy != NONE_YEAR, py != NONE_YEAR

    _, before_r = forest_years_before(ry)
    reclaimed = (has_r & (ry <= t)) & (through - before_r > 0)
    n_d, before_d = forest_years_before(dy)
    forest_before_damage = np.where(n_d == 0, f[0], before_d > 0)
    damaged = has_d & (dy <= t) & forest_before_damage
    to_be_damaged = f & (has_p | (has_d & (dy > t)))
    persistent = through == np.arange(1, n_years + 1).reshape(-1, 1, 1)
    is_object = inside & (through > 0)

    # later assignments take precedence: written from the last rule to the first
    l1 = np.full(f.shape, int(AssessmentUnit.OTHER_DISTURBANCE), dtype=np.uint8)
    l1[persistent] = AssessmentUnit.PERSISTENT
    l1[to_be_damaged] = AssessmentUnit.TO_BE_DAMAGED
    l1[damaged] = AssessmentUnit.DAMAGED
    l1[reclaimed] = AssessmentUnit.RECLAIMED
    l1[~is_object] = 0

    df = np.clip(np.asarray(damage_form), 0, 9).astype(np.uint8)
    pf = np.clip(np.asarray(plan_form), 0, 9).astype(np.uint8)
    rf = np.clip(np.asarray(reclamation_form), 0, 9).astype(np.uint8)
    l2 = l1 * np.uint8(10)
    for unit, form in (
        (AssessmentUnit.TO_BE_DAMAGED, np.where(has_p, pf, df)),
        (AssessmentUnit.DAMAGED, df),
        (AssessmentUnit.RECLAIMED, np.where(df != 0, df, rf)),
    ):
        l2 += np.where(l1 == unit, form, np.uint8(0))
    return l2


def _check_same_grid(a: xr.DataArray, b: xr.DataArray, what: str) -> None:
    if (a.sizes.get("y"), a.sizes.get("x")) != (b.sizes.get("y"), b.sizes.get("x")):
        raise GridMismatchError(
            f"{what} has shape {b.sizes.get('y')} × {b.sizes.get('x')}, the forest masks "
            f"{a.sizes.get('y')} × {a.sizes.get('x')}",
            fix="put every input on the project grid",
        )
    for dim in ("y", "x"):
        if dim in a.coords and dim in b.coords and not np.allclose(
            a[dim].values, b[dim].values, rtol=0.0, atol=1e-6 * max(1.0, _spacing(a, dim))
        ):
            raise GridMismatchError(
                f"{what} is offset from the forest masks along {dim}",
                fix="put every input on the project grid",
            )


def _spacing(a: xr.DataArray, dim: str) -> float:
    values = np.asarray(a[dim].values, dtype=float)
    return float(abs(values[1] - values[0])) if values.size > 1 else 1.0


def assessment_units(forest: xr.DataArray, events: xr.Dataset, extent: xr.DataArray) -> xr.Dataset:
    """Level-1 and level-2 assessment units of every pixel and year.

    Parameters
    ----------
    forest
        Annual forest masks, dims (year, y, x); bool (or 0/1, NaN = not forest). The ``year``
        coordinate holds increasing integer years, not necessarily consecutive.
    events
        The output of :func:`rasterize_events` on the same grid.
    extent
        The monitoring extent mask (y, x), e.g. from
        :func:`~minecarbon.scope.extent.extent_mask`.

    Returns
    -------
    A Dataset with uint8 (year, y, x) variables ``l1`` (:class:`AssessmentUnit` codes, 0 for
    non-objects) and ``l2`` (``l1 × 10 + damage form``), lazy when any input is dask-backed
    (one task per spatial chunk, the year axis in one chunk). See the module docstring for
    the rules.

    """
    if set(forest.dims) != {"year", "y", "x"}:
        raise InputDataError(
            f"forest masks have dims {forest.dims}, expected (year, y, x)",
            fix="stack the annual masks along a 'year' dimension",
        )
    forest = forest.transpose("year", "y", "x")
    years = np.asarray(forest["year"].values) if "year" in forest.coords else np.array([])
    if years.size != forest.sizes["year"] or not np.issubdtype(years.dtype, np.integer):
        raise InputDataError(
            "forest masks need an integer 'year' coordinate",
            fix="assign_coords(year=[2000, 2001, …])",
        )
    if years.size == 0 or np.any(np.diff(years) <= 0):
        raise InputDataError(
            f"forest mask years {years.tolist()} are empty or not increasing",
            fix="sort the masks by year (forest.sortby('year')) and drop duplicates",
        )
    missing = [v for v in EVENT_VARIABLES if v not in events]
    if missing:
        raise InputDataError(
            f"the events dataset lacks {', '.join(missing)}",
            fix="make it with minecarbon.scope.units.rasterize_events",
        )
    if extent.dims != ("y", "x"):
        extent = extent.transpose("y", "x")
    _check_same_grid(forest, extent, "the extent mask")
    layers = [events[v].transpose("y", "x") for v in EVENT_VARIABLES]
    for layer in layers:
        _check_same_grid(forest, layer, f"event raster {layer.name}")

    inputs = [forest.data, extent.data, *(layer.data for layer in layers)]
    lazy = [a for a in inputs if isinstance(a, da.Array)]
    if not lazy:
        l2_data: Any = _l2_block(*(np.asarray(a) for a in inputs), years=years)
    else:
        ref = lazy[0]
        chunks_yx = ref.chunks[-2:]
        f = da.asarray(inputs[0]).rechunk((-1, *chunks_yx))  # type: ignore[no-untyped-call, unused-ignore]
        planes = [
            da.asarray(a).rechunk(chunks_yx)  # type: ignore[no-untyped-call, unused-ignore]
            for a in inputs[1:]
        ]
        args: list[Any] = [f, "tyx"]
        for plane in planes:
            args += [plane, "yx"]
        l2_data = da.blockwise(  # type: ignore[no-untyped-call, unused-ignore]
            _l2_block, "tyx", *args, years=years, dtype=np.uint8,
            meta=np.empty((0, 0, 0), dtype=np.uint8),
        )
    coords = {"year": years, "y": forest["y"].values, "x": forest["x"].values}
    l2 = xr.DataArray(l2_data, dims=("year", "y", "x"), coords=coords, name="l2")
    l1 = (l2 // 10).astype(np.uint8).rename("l1")
    ds = xr.Dataset({"l1": l1, "l2": l2})
    crs = extent.rio.crs or forest.rio.crs or events.rio.crs
    if crs is not None:
        ds = ds.rio.write_crs(crs)
        transform = extent.rio.transform()
        ds = ds.rio.write_transform(transform)
    ds["l1"].attrs["long_name"] = "一级监测评估单元 level-1 assessment unit"
    ds["l2"].attrs["long_name"] = "二级监测评估单元 level-2 assessment unit"
    return ds
