"""Level-1 and level-2 assessment units per pixel, year and plot (requirement S3).

The expected codes below are written by hand from the rules in docs/assessment-units.md.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from pyproj import CRS
from shapely.geometry import Point, box

from minecarbon.errors import GridMismatchError, InputDataError
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import to_grid_dataarray
from minecarbon.scope.events import clean_events
from minecarbon.scope.extent import extent_mask
from minecarbon.scope.units import (
    EVENT_VARIABLES,
    NONE_YEAR,
    assessment_units,
    plot_units,
    rasterize_events,
    unit_areas,
    unit_names,
)

# rasterio warns spuriously when several dask threads rasterise at once (odc-geo issue #131);
# the outputs are checked below, so the warning is noise here
pytestmark = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")

CRS_GK = "EPSG:4546"
X0, Y0 = 500_000.0, 4_100_000.0
P = 10.0  # pixel size, m


# ------------------------------------------------------------------ helpers
def cols(j0: int, j1: int | None = None, row: int = 0):
    """Pixel-aligned box over columns j0..j1 of one row."""
    j1 = j0 if j1 is None else j1
    return box(X0 + P * j0, Y0 - P * (row + 1), X0 + P * (j1 + 1), Y0 - P * row)


def events_layer(layer: str, records: list[tuple], grid_crs: str = CRS_GK) -> gpd.GeoDataFrame:
    """records: (geometry, year, form text or None)."""
    gdf = gpd.GeoDataFrame(
        {"id": [f"{layer}{n}" for n in range(len(records))],
         "year": [r[1] for r in records], "form": [r[2] for r in records]},
        geometry=[r[0] for r in records], crs=grid_crs,
    )
    return clean_events(gdf, layer, grid_crs, f"{layer}.gpkg")


def forest_cube(sequences: list[str], years: list[int], grid: AnalysisGrid) -> xr.DataArray:
    """A (year, 1, n) forest mask from one '0'/'1' string per pixel."""
    values = np.array([[c == "1" for c in s] for s in sequences]).T  # (year, pixel)
    data = values.reshape(len(years), grid.height, grid.width)
    return xr.DataArray(
        data, dims=("year", "y", "x"),
        coords={"year": years, "y": grid.y_coords(), "x": grid.x_coords()}, name="forest",
    )


# ------------------------------------------------------------------ the hand-written strip
YEARS = [2000, 2002, 2004, 2006]  # not consecutive on purpose

#  pixel: (forest per year, expected l1 per year, expected l2 per year, what it exercises)
STRIP = [
    ("1111", "0000", [0, 0, 0, 0], "outside the extent (under a damage polygon)"),
    ("0000", "0000", [0, 0, 0, 0], "never forest"),
    ("1111", "1111", [10, 10, 10, 10], "persistent"),
    ("1100", "1155", [10, 10, 50, 50], "lost outside mining: other disturbance"),
    ("0011", "0055", [0, 0, 50, 50], "spontaneous regrowth: other disturbance"),
    ("1100", "2233", [21, 21, 31, 31], "damage 2004 excavation: to be damaged, then damaged"),
    ("1000", "3333", [32, 32, 32, 32], "damage 2000 (= y0) subsidence, forest at y0"),
    ("0011", "0055", [0, 0, 50, 50], "damage 2000 occupation, forest only after it"),
    ("1101", "2334", [21, 31, 31, 41], "damage 2002 exc., reclaimed 2004, forest back 2006"),
    ("0111", "0444", [0, 40, 40, 40], "reclamation 2002 without form, forest forms 2002"),
    ("1111", "1144", [10, 10, 42, 42], "reclamation 2004 subsidence over persistent forest"),
    ("0011", "0044", [0, 0, 41, 41], "reclamation 2000 exc., forest forms after it"),
    ("1110", "2225", [22, 22, 22, 50], "plan 2010 subsidence, forest lost before mining"),
    ("1110", "2233", [23, 23, 31, 31], "plan 2006 occupation + damage 2004 excavation"),
    ("0100", "0555", [0, 50, 50, 50], "pit A 2002: forest only in the damage year"),
    ("1111", "2333", [21, 31, 31, 31], "pits A 2002 exc. and B 2004 subs.: A wins"),
    ("1110", "2233", [22, 22, 32, 32], "pit B 2004 subsidence only"),
    ("1111", "2223", [22, 22, 22, 32], "pits C and D 2006 occ./subs.: lowest form wins"),
    ("1011", "3344", [32, 32, 42, 42], "damage 2000 subs., reclaimed 2002 occ.: damage form"),
    ("0011", "0022", [0, 0, 21, 21], "damage 2002 without forest before, plan 2020 exc."),
    ("1111", "2444", [21, 41, 41, 41], "reclaimed 2002 before damage 2004 exc."),
]
STRIP_GRID = AnalysisGrid(CRS_GK, P, X0, Y0, width=len(STRIP), height=1)


def strip_events() -> dict[str, gpd.GeoDataFrame]:
    damage = [
        (cols(0), 2000, "挖损"),
        (cols(5), 2004, "excavation"),
        (cols(6), 2000, "塌陷"),
        (cols(7), 2000, "压占"),
        (cols(8), 2002, "excavation"),
        (cols(13), 2004, "excavation"),
        (cols(14, 15), 2002, "excavation"),  # pit A, drawn before the later pit B
        (cols(15, 16), 2004, "subsidence"),  # pit B
        (cols(17), 2006, "subsidence"),  # pit D, drawn before pit C
        (cols(17), 2006, "occupation"),  # pit C
        (cols(18), 2000, "subsidence"),
        (cols(19), 2002, "subsidence"),
        (cols(20), 2004, "excavation"),
    ]
    plan = [(cols(12), 2010, "塌陷"), (cols(13), 2006, "occupation"), (cols(19), 2020, "挖损")]
    reclamation = [
        (cols(8), 2004, None),
        (cols(9), 2002, None),
        (cols(10), 2004, "subsidence"),
        (cols(11), 2000, "excavation"),
        (cols(18), 2002, "occupation"),
        (cols(20), 2002, None),
    ]
    disturbance = gpd.GeoDataFrame(
        {"type": ["fire"], "year": [2003]}, geometry=[cols(3)], crs=CRS_GK
    )
    return {
        "damage": events_layer("damage", damage),
        "plan": events_layer("plan", plan),
        "reclamation": events_layer("reclamation", reclamation),
        "disturbance": clean_events(disturbance, "disturbance", CRS_GK, "fire.gpkg"),
    }


def strip_inputs(chunks: int = 1024):
    grid = STRIP_GRID
    forest = forest_cube([s[0] for s in STRIP], YEARS, grid)
    events = rasterize_events(strip_events(), grid, chunks=chunks)
    extent = extent_mask(box(X0 + P, Y0 - P, X0 + P * grid.width, Y0), grid, chunks=chunks)
    return forest, events, extent


def expected_strip(index: int) -> np.ndarray:
    if index == 1:
        return np.array([[int(c) for c in s[1]] for s in STRIP]).T[:, np.newaxis, :]
    return np.array([s[2] for s in STRIP]).T[:, np.newaxis, :]


def test_strip_event_rasters() -> None:
    _, events, _ = strip_inputs()
    ev = events.compute()
    dy, df = ev["damage_year"].values[0], ev["damage_form"].values[0]
    assert dy[14] == 2002 and df[14] == 1  # only pit A
    assert dy[15] == 2002 and df[15] == 1  # A (2002) beats B (2004), whatever the order
    assert dy[16] == 2004 and df[16] == 2  # only pit B
    assert dy[17] == 2006 and df[17] == 2  # same year: subsidence (2) beats occupation (3)
    assert dy[1] == NONE_YEAR and df[1] == 0
    assert ev["reclamation_form"].values[0, 9] == 0
    assert ev["reclamation_year"].values[0, 9] == 2002
    assert ev["plan_year"].values[0, 13] == 2006 and ev["plan_form"].values[0, 13] == 3
    assert all(ev[v].dtype == np.int16 for v in EVENT_VARIABLES)


@pytest.mark.parametrize("level", [1, 2])
def test_strip_units_match_hand_written_codes(level: int) -> None:
    units = assessment_units(*strip_inputs())
    got = units[f"l{level}"].values
    expected = expected_strip(level)
    for j, case in enumerate(STRIP):
        assert got[:, 0, j].tolist() == expected[:, 0, j].tolist(), f"pixel {j}: {case[3]}"
    assert units[f"l{level}"].dtype == np.uint8
    assert units[f"l{level}"].dims == ("year", "y", "x")


def test_strip_units_chunked_equal_unchunked() -> None:
    forest, events, extent = strip_inputs(chunks=4)
    lazy = assessment_units(forest.chunk({"year": 2, "x": 4}), events, extent)
    assert lazy["l2"].chunks is not None
    assert len(lazy["l2"].chunks[2]) == 6  # spatial chunks kept
    assert len(lazy["l2"].chunks[0]) == 1  # year axis in one chunk
    np.testing.assert_array_equal(lazy["l2"].values, expected_strip(2))
    np.testing.assert_array_equal(lazy["l1"].values, expected_strip(1))


def test_units_coordinates_and_crs() -> None:
    units = assessment_units(*strip_inputs())
    assert units["year"].values.tolist() == YEARS
    np.testing.assert_allclose(units["x"].values, STRIP_GRID.x_coords())
    assert CRS.from_user_input(units.rio.crs) == CRS.from_user_input(CRS_GK)


def test_units_need_increasing_years_and_same_grid() -> None:
    forest, events, extent = strip_inputs()
    with pytest.raises(InputDataError, match="not increasing"):
        assessment_units(forest.isel(year=[1, 0, 2, 3]), events, extent)
    with pytest.raises(GridMismatchError, match="extent"):
        assessment_units(forest, events, extent.isel(x=slice(0, 5)))
    with pytest.raises(GridMismatchError, match="offset"):
        assessment_units(forest, events, extent.assign_coords(x=extent["x"] + 3.0))
    with pytest.raises(InputDataError, match="plan_year"):
        assessment_units(forest, events.drop_vars("plan_year"), extent)
    with pytest.raises(InputDataError, match=r"\(year, y, x\)"):
        assessment_units(forest.isel(year=0), events, extent)


# ------------------------------------------------------------------ a reference, literally
def reference_units(forest, years, inside, ev) -> np.ndarray:
    """The rules, pixel by pixel and year by year, in plain Python."""
    n_years, height, width = forest.shape
    l2 = np.zeros(forest.shape, dtype=np.uint8)
    for i in range(height):
        for j in range(width):
            f = [bool(forest[k, i, j]) for k in range(n_years)]
            dy, df = int(ev["damage_year"][i, j]), int(ev["damage_form"][i, j])
            py, pf = int(ev["plan_year"][i, j]), int(ev["plan_form"][i, j])
            ry, rf = int(ev["reclamation_year"][i, j]), int(ev["reclamation_form"][i, j])
            for k, t in enumerate(years):
                if not (inside[i, j] and any(f[: k + 1])):
                    continue
                if ry != NONE_YEAR and ry <= t and any(
                    f[m] for m in range(n_years) if ry <= years[m] <= t
                ):
                    code = 40 + (df if df else rf)
                elif dy != NONE_YEAR and dy <= t and (
                    f[0] if dy <= years[0] else any(f[m] for m in range(n_years) if years[m] < dy)
                ):
                    code = 30 + df
                elif f[k] and (py != NONE_YEAR or (dy != NONE_YEAR and dy > t)):
                    code = 20 + (pf if py != NONE_YEAR else df)
                elif all(f[: k + 1]):
                    code = 10
                else:
                    code = 50
                l2[k, i, j] = code
    return l2


def random_case(seed: int):
    rng = np.random.default_rng(seed)
    grid = AnalysisGrid(CRS_GK, 30.0, X0, Y0, width=31, height=23)
    years = [2001, 2003, 2004, 2008, 2010, 2015]
    state = rng.random(grid.shape) < 0.6
    masks = []
    for _ in years:  # persistent-ish forest with losses and gains
        flip = rng.random(grid.shape) < 0.15
        state = np.where(flip, ~state, state)
        masks.append(state.copy())
    forest = xr.DataArray(
        np.stack(masks), dims=("year", "y", "x"),
        coords={"year": years, "y": grid.y_coords(), "x": grid.x_coords()},
    )
    layers = {}
    forms = ["excavation", "subsidence", "occupation"]
    for layer, n in (("damage", 12), ("plan", 6), ("reclamation", 6)):
        records = []
        for _ in range(n):
            x = X0 + rng.uniform(0, 30 * 31)
            y = Y0 - rng.uniform(0, 30 * 23)
            w, h = rng.uniform(20, 300, size=2)
            form = forms[rng.integers(3)] if layer != "reclamation" or rng.random() < 0.5 else None
            records.append((box(x, y - h, x + w, y), int(rng.integers(1998, 2018)), form))
        layers[layer] = events_layer(layer, records)
    extent = box(X0 + 40, Y0 - 650, X0 + 900, Y0 - 20).buffer(15)
    return grid, forest, layers, extent


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_case_matches_reference_and_chunking(seed: int) -> None:
    grid, forest, layers, extent_geom = random_case(seed)
    events = rasterize_events(layers, grid, chunks=6)
    extent = extent_mask(extent_geom, grid, chunks=6)
    numpy_units = assessment_units(forest, events.compute(), extent.compute())
    assert not hasattr(numpy_units["l2"].data, "dask")
    lazy_units = assessment_units(forest.chunk({"y": 7, "x": 9}), events, extent)
    ev = {v: events[v].values for v in EVENT_VARIABLES}
    expected = reference_units(forest.values, forest["year"].values.tolist(),
                               extent.values, ev)
    np.testing.assert_array_equal(numpy_units["l2"].values, expected)
    np.testing.assert_array_equal(lazy_units["l2"].values, expected)
    np.testing.assert_array_equal(lazy_units["l1"].values, expected // 10)
    present = set(np.unique(expected).tolist())
    assert {10, 50} <= present and any(20 < c < 50 for c in present)  # the case is not trivial


# ------------------------------------------------------------------ rasterize_events
GRID2 = AnalysisGrid(CRS_GK, P, X0, Y0, width=7, height=5)


def box_px(r0: int, c0: int, r1: int, c1: int, shrink: float = 0.0):
    """Box over rows r0..r1, columns c0..c1, optionally shrunk on every side."""
    return box(X0 + P * c0 + shrink, Y0 - P * (r1 + 1) + shrink,
               X0 + P * (c1 + 1) - shrink, Y0 - P * r0 - shrink)


@pytest.mark.parametrize(("shrink", "rows", "columns"), [
    (0.0, (1, 2), (2, 4)),  # pixel-aligned: exactly its pixels
    (4.0, (1, 2), (2, 4)),  # centres still inside
    (-4.0, (1, 2), (2, 4)),  # grown by 4 m: next centres (5 m out) still outside
    (-6.0, (0, 3), (1, 5)),  # grown by 6 m: next centres inside
])
def test_rasterize_pixel_centre_rule(shrink: float, rows, columns) -> None:
    damage = events_layer("damage", [(box_px(1, 2, 2, 4, shrink), 2010, "挖损")])
    ev = rasterize_events({"damage": damage}, GRID2, chunks=3).compute()
    expected = np.zeros(GRID2.shape, dtype=bool)
    expected[rows[0]: rows[1] + 1, columns[0]: columns[1] + 1] = True
    np.testing.assert_array_equal(ev["damage_year"].values == 2010, expected)
    np.testing.assert_array_equal(ev["damage_form"].values == 1, expected)
    assert (ev["damage_year"].values[~expected] == NONE_YEAR).all()
    assert (ev["plan_year"].values == NONE_YEAR).all() and (ev["plan_form"].values == 0).all()


def test_rasterize_overlaps_earliest_year_then_lowest_form() -> None:
    records = [
        (box_px(0, 0, 4, 6), 2015, "压占"),  # everything, latest
        (box_px(0, 0, 2, 3), 2010, "塌陷"),
        (box_px(1, 2, 4, 5), 2008, "压占"),
        (box_px(2, 1, 3, 6), 2008, "挖损"),  # same year as the previous, lower form
    ]
    for order in ([0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]):
        layer = events_layer("plan", [records[k] for k in order])
        ev = rasterize_events({"plan": layer}, GRID2, chunks=2).compute()
        year = np.full(GRID2.shape, 2015)
        form = np.full(GRID2.shape, 3)
        year[0:3, 0:4], form[0:3, 0:4] = 2010, 2
        year[1:5, 2:6], form[1:5, 2:6] = 2008, 3
        year[2:4, 1:7], form[2:4, 1:7] = 2008, 1
        np.testing.assert_array_equal(ev["plan_year"].values, year, err_msg=str(order))
        np.testing.assert_array_equal(ev["plan_form"].values, form, err_msg=str(order))


def test_rasterize_chunked_equals_one_chunk_and_has_grid_coords() -> None:
    layers = strip_events()
    one = rasterize_events(layers, STRIP_GRID, chunks=1024)
    many = rasterize_events(layers, STRIP_GRID, chunks=(1, 3))
    assert len(many["damage_year"].chunks[1]) == 7
    for v in EVENT_VARIABLES:
        np.testing.assert_array_equal(one[v].values, many[v].values)
    np.testing.assert_allclose(one["x"].values, STRIP_GRID.x_coords())
    np.testing.assert_allclose(one["y"].values, STRIP_GRID.y_coords())
    assert CRS.from_user_input(one.rio.crs) == CRS.from_user_input(CRS_GK)


def test_rasterize_refuses_other_crs_and_unknown_layers() -> None:
    damage = events_layer("damage", [(cols(1), 2010, "挖损")]).to_crs("EPSG:32649")
    with pytest.raises(GridMismatchError, match="damage layer.*clean_events"):
        rasterize_events({"damage": damage}, STRIP_GRID)
    with pytest.raises(InputDataError, match="unknown event layer"):
        rasterize_events({"pits": damage}, STRIP_GRID)


def test_rasterize_without_layers_is_all_none() -> None:
    ev = rasterize_events({}, GRID2).compute()
    assert (ev["damage_year"].values == NONE_YEAR).all()
    assert (ev["reclamation_form"].values == 0).all()


# ------------------------------------------------------------------ unit_areas
def test_unit_names() -> None:
    assert unit_names(2, 31) == ("已损毁森林-挖损", "damaged forest – excavation")
    assert unit_names(2, 42) == ("已复垦森林-塌陷", "reclaimed forest – subsidence")
    assert unit_names(1, 5) == ("其他扰动", "other disturbance")
    assert unit_names(2, 10) == ("持续森林", "persistent forest")
    with pytest.raises(InputDataError):
        unit_names(2, 7)
    with pytest.raises(InputDataError):
        unit_names(1, 31)


@pytest.mark.parametrize("chunked", [False, True])
def test_unit_areas(chunked: bool) -> None:
    forest, events, extent = strip_inputs()
    if chunked:
        forest = forest.chunk({"x": 5})
    units = assessment_units(forest, events, extent)
    if not chunked:
        units = units.compute()
    table = unit_areas(units, STRIP_GRID.pixel_area_ha)
    assert list(table.columns) == ["year", "level", "code", "zh", "en", "n_pixels", "area_ha"]
    objects = (expected_strip(1) > 0).sum(axis=(1, 2))
    for level in (1, 2):
        sums = table[table["level"] == level].groupby("year")["n_pixels"].sum()
        assert sums.tolist() == objects.tolist()
    np.testing.assert_allclose(table["area_ha"], table["n_pixels"] * 0.01)
    row = table[(table["year"] == 2004) & (table["level"] == 2) & (table["code"] == 31)]
    assert row[["zh", "en", "n_pixels"]].values.tolist() == [
        ["已损毁森林-挖损", "damaged forest – excavation", 4]
    ]
    y2000 = table[(table["year"] == 2000) & (table["level"] == 1)]
    assert dict(zip(y2000["code"], y2000["n_pixels"], strict=True)) == {1: 3, 2: 8, 3: 2}
    assert (table["n_pixels"] > 0).all() and (table["code"] > 0).all()


def test_unit_areas_refuses_bad_pixel_area() -> None:
    units = assessment_units(*strip_inputs())
    with pytest.raises(InputDataError, match="pixel area"):
        unit_areas(units, 0.0)


# ------------------------------------------------------------------ plot_units
PLOT_GRID = AnalysisGrid(CRS_GK, P, X0, Y0, width=6, height=6)


def plot_test_units(chunks: int | None = None) -> xr.Dataset:
    l2 = np.full(PLOT_GRID.shape, 10, dtype=np.uint8)
    l2[:, 3:] = 31
    l2[5, :] = 0
    stack = np.stack([np.full_like(l2, 50), l2])  # 2009: all 50; 2010: the pattern
    da_l2 = xr.concat(
        [to_grid_dataarray(layer, PLOT_GRID, "l2") for layer in stack], dim="year"
    ).assign_coords(year=[2009, 2010])
    ds = xr.Dataset({"l1": (da_l2 // 10).astype(np.uint8), "l2": da_l2})
    return ds.chunk({"x": chunks, "y": chunks}) if chunks else ds


def centre(row: int, col: int) -> tuple[float, float]:
    return X0 + P * (col + 0.5), Y0 - P * (row + 0.5)


@pytest.mark.parametrize("chunks", [None, 2])
def test_plot_units_points(chunks: int | None) -> None:
    plots = gpd.GeoDataFrame(
        {"plot_id": ["single", "wide", "corner", "edge", "bottom"]},
        geometry=[
            Point(*centre(2, 0)),  # one pixel, unit 10
            Point(*centre(2, 2)),  # one pixel with side 10; with side 30 it reaches column 3
            Point(X0 + 30, Y0 - 30),  # a pixel corner between columns 2 and 3
            Point(*centre(1, 4)),  # inside the 31 block even with side 30
            Point(*centre(4, 1)),  # next to row 5 (code 0) only with a wider side
        ],
        crs=CRS_GK,
    )
    table = plot_units(plots, plot_test_units(chunks), 2010, side_m=10.0)
    assert list(table.columns) == [
        "plot_id", "unit_l1", "unit_l2", "crosses_border", "smaller_than_pixel"
    ]
    assert table["plot_id"].tolist() == ["single", "wide", "corner", "edge", "bottom"]
    assert table["unit_l2"].tolist() == [10, 10, 31, 31, 10]
    assert table["unit_l1"].tolist() == [1, 1, 3, 3, 1]
    assert table["crosses_border"].tolist() == [False, False, True, False, False]
    assert not table["smaller_than_pixel"].any()

    wide = plot_units(plots, plot_test_units(chunks), 2010, side_m=30.0)
    assert wide["crosses_border"].tolist() == [False, True, True, False, True]

    other_year = plot_units(plots, plot_test_units(chunks), 2009, side_m=30.0)
    assert other_year["unit_l2"].tolist() == [50] * 5
    assert not other_year["crosses_border"].any()


def test_plot_smaller_than_pixel_uses_centre_pixel() -> None:
    plots = gpd.GeoDataFrame(
        {"id": ["small"]}, geometry=[Point(X0 + 28, Y0 - 12)], crs=CRS_GK
    )  # a 4 m square around it holds no pixel centre
    table = plot_units(plots, plot_test_units(), 2010, side_m=4.0)
    assert table.to_dict("records") == [{
        "plot_id": "small", "unit_l1": 1, "unit_l2": 10,
        "crosses_border": False, "smaller_than_pixel": True,
    }]


def test_plot_units_polygons() -> None:
    plots = gpd.GeoDataFrame(
        geometry=[box(X0 + 20, Y0 - 10, X0 + 40, Y0), box(X0 + 40, Y0 - 20, X0 + 60, Y0)],
        crs=CRS_GK,
    )
    table = plot_units(plots, plot_test_units(), 2010, side_m=20.0)
    assert table["plot_id"].tolist() == ["row 1", "row 2"]
    assert table["unit_l2"].tolist() == [31, 31]
    assert table["crosses_border"].tolist() == [True, False]


def test_plot_units_errors() -> None:
    units = plot_test_units()
    inside = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(*centre(0, 0))], crs=CRS_GK)
    with pytest.raises(InputDataError, match="year 2011"):
        plot_units(inside, units, 2011, 10.0)
    far = gpd.GeoDataFrame({"id": ["far"]}, geometry=[Point(X0 - 100, Y0)], crs=CRS_GK)
    with pytest.raises(InputDataError, match="far lie outside"):
        plot_units(far, units, 2010, 10.0)
    with pytest.raises(GridMismatchError, match="reproject"):
        plot_units(inside.to_crs("EPSG:4326"), units, 2010, 10.0)


def test_unit_areas_is_a_dataframe() -> None:
    assert isinstance(unit_areas(assessment_units(*strip_inputs()), 0.01), pd.DataFrame)
