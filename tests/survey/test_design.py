"""Plot design: planning plot centres per unit and checking a survey (requirement P1).

The unit maps are drawn by hand; the expected counts, crossings and positions follow from the
rules in the module docstring of minecarbon.survey.design.
"""

from __future__ import annotations

import itertools
import warnings

import geopandas as gpd
import numpy as np
import pytest
import xarray as xr
from shapely.geometry import Point, box

from minecarbon.errors import GridMismatchError, InputDataError, MissingCRSError
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import to_grid_dataarray
from minecarbon.scope.units import plot_units, unit_names
from minecarbon.survey import plots as plots_module
from minecarbon.survey.design import (
    PLAN_COLUMNS,
    CheckReport,
    check_plots,
    plan_plots,
    plan_summary,
    plot_squares,
)

CRS_GK = "EPSG:4546"
X0, Y0 = 500_000.0, 4_100_000.0
P = 30.0
GRID = AnalysisGrid(CRS_GK, P, X0, Y0, width=40, height=30)


def unit_map() -> np.ndarray:
    """Persistent forest on the left, to-be-damaged (subsidence) top right, damaged bottom right."""
    l2 = np.zeros(GRID.shape, dtype=np.uint8)
    l2[:, 1:18] = 10
    l2[:15, 18:] = 22
    l2[15:, 18:] = 31
    return l2


def plan(l2: np.ndarray | None = None, **kwargs: object) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no shortfall expected on the default map
        return plan_plots(unit_map() if l2 is None else l2, GRID, **kwargs)


def pixels_within(l2: np.ndarray, x: float, y: float, reach: float) -> np.ndarray:
    """Codes of the pixels (0 off the grid) whose centres lie within ``reach`` in x and in y."""
    pad = int(np.ceil(reach / P)) + 2
    padded = np.pad(l2, pad)
    xs = X0 + (np.arange(padded.shape[1]) - pad + 0.5) * P
    ys = Y0 - (np.arange(padded.shape[0]) - pad + 0.5) * P
    cols = np.abs(xs - x) <= reach + 1e-6
    rows = np.abs(ys - y) <= reach + 1e-6
    return padded[np.ix_(rows, cols)]


def distances(points: list[tuple[float, float]]) -> list[float]:
    return [float(np.hypot(a[0] - b[0], a[1] - b[1]))
            for a, b in itertools.combinations(points, 2)]


# ------------------------------------------------------------------ plan_plots
def test_plan_meets_the_requirement_per_unit() -> None:
    result = plan()
    assert list(result.columns) == list(PLAN_COLUMNS)
    assert result.crs == GRID.crs
    counts = result["unit_l2"].value_counts().to_dict()
    # 3 per unit, 3 + 2 for the to-be-damaged unit (level-1 code 2)
    assert counts == {10: 3, 22: 5, 31: 3}
    assert result.attrs["required"] == {10: 3, 22: 5, 31: 3}
    assert result.attrs["shortfall"] == {}
    assert result.attrs["existing"] == {10: 0, 22: 0, 31: 0}
    assert result["plot_id"].tolist() == [f"N{n:03d}" for n in range(1, 12)]
    assert (result["unit_l1"] == result["unit_l2"] // 10).all()
    for row in result.itertuples():
        assert (row.zh, row.en) == unit_names(2, row.unit_l2)
        assert row.geometry.x == row.x and row.geometry.y == row.y
    assert (result["side_m"] == P).all()
    assert "拟损毁森林-塌陷" in "\n".join(plan_summary(result))


def test_extra_plots_only_for_planned_damage() -> None:
    counts = plan(extra_planned=4, per_unit=4)["unit_l2"].value_counts().to_dict()
    assert counts == {10: 4, 22: 8, 31: 4}
    counts = plan(extra_planned=0)["unit_l2"].value_counts().to_dict()
    assert counts == {10: 3, 22: 3, 31: 3}


@pytest.mark.parametrize("side", [P, 2 * P, 1.5 * P, 3 * P])
def test_every_square_lies_inside_its_unit_with_half_a_side_to_spare(side: float) -> None:
    l2 = unit_map()
    result = plan(side_m=side, min_spacing_m=max(60.0, side))
    assert len(result) == 11
    for row in result.itertuples():
        codes = pixels_within(l2, row.x, row.y, reach=side)  # side/2 + side/2 to spare
        assert codes.size > 0
        assert (codes == row.unit_l2).all(), (side, row.plot_id)
        # centres sit on the pixel lattice: pixel centres (odd pixel count) or corners (even)
        on_corners = round(side / P + 1e-9) % 2 == 0
        offset = 0.0 if on_corners else 0.5
        assert ((row.x - X0) / P - offset) % 1 == pytest.approx(0.0, abs=1e-9)
        assert ((Y0 - row.y) / P - offset) % 1 == pytest.approx(0.0, abs=1e-9)


def test_the_margin_is_tight_where_it_can_be() -> None:
    """A 5 × 5 unit holds a one-pixel plot only at its central 3 × 3 pixels."""
    l2 = np.full(GRID.shape, 10, dtype=np.uint8)
    l2[10:15, 10:15] = 41
    result = plan(l2, per_unit=3, min_spacing_m=0.0, seed=3)
    mine = result[result["unit_l2"] == 41]
    cols = np.floor((mine["x"] - X0) / P).astype(int)
    rows = np.floor((Y0 - mine["y"]) / P).astype(int)
    assert set(cols) <= {11, 12, 13} and set(rows) <= {11, 12, 13}
    assert len(mine) == 3


def test_one_pixel_plots_cover_exactly_one_pixel_and_two_pixel_plots_four() -> None:
    one = plan()
    squares = plot_squares(one)
    xs, ys = np.meshgrid(GRID.x_coords(), GRID.y_coords())
    for geom in squares.geometry:
        inside = (np.abs(xs - geom.centroid.x) < P / 2) & (np.abs(ys - geom.centroid.y) < P / 2)
        assert inside.sum() == 1
        assert geom.area == pytest.approx(P * P)
    two = plot_squares(plan(side_m=2 * P))
    for geom in two.geometry:
        b = geom.bounds
        # edges on pixel edges, 2 × 2 pixels
        assert all(((v - o) / P) % 1 == pytest.approx(0.0, abs=1e-9)
                   for v, o in zip(b, (X0, Y0, X0, Y0), strict=True))
        assert b[2] - b[0] == pytest.approx(2 * P) and b[3] - b[1] == pytest.approx(2 * P)


@pytest.mark.parametrize("spacing", [60.0, 150.0])
def test_spacing_is_kept_between_all_plots(spacing: float) -> None:
    result = plan(min_spacing_m=spacing, per_unit=6)
    assert len(result) == 20
    assert min(distances(list(zip(result["x"], result["y"], strict=True)))) >= spacing - 1e-6


def test_same_seed_same_plan_other_seed_other_plan() -> None:
    a = plan(seed=11)
    b = plan(seed=11)
    c = plan(seed=12)
    assert a.equals(b)
    assert a.attrs == b.attrs
    assert not np.array_equal(a[["x", "y"]].to_numpy(), c[["x", "y"]].to_numpy())
    generator = plan(seed=np.random.default_rng(11))
    assert generator[["x", "y"]].equals(a[["x", "y"]])


def test_existing_plots_count_and_are_spaced_from() -> None:
    l2 = unit_map()
    # two existing plots in unit 10 and one in 22; one more off every unit (ignored for counts)
    spots = [(5, 5), (20, 8), (3, 30), (29, 0)]
    existing = gpd.GeoDataFrame(
        {"plot_id": ["E1", "E2", "E3", "E4"]},
        geometry=[Point(X0 + (c + 0.5) * P, Y0 - (r + 0.5) * P) for r, c in spots],
        crs=CRS_GK,
    )
    assert [int(l2[r, c]) for r, c in spots] == [10, 10, 22, 0]
    result = plan(existing=existing, min_spacing_m=200.0, seed=5)
    assert result["unit_l2"].value_counts().to_dict() == {10: 1, 22: 4, 31: 3}
    assert result.attrs["existing"] == {10: 2, 22: 1, 31: 0}
    points = list(zip(result["x"], result["y"], strict=True))
    old = [(g.x, g.y) for g in existing.geometry]
    for new in points:
        for e in old:
            assert np.hypot(new[0] - e[0], new[1] - e[1]) >= 200.0 - 1e-6
    # existing squares also count (their centroids)
    as_squares = plot_squares(existing.assign(side_m=P))
    again = plan(existing=as_squares, min_spacing_m=200.0, seed=5)
    assert again[["x", "y"]].equals(result[["x", "y"]])


def test_existing_plots_in_another_crs_are_refused() -> None:
    existing = gpd.GeoDataFrame(geometry=[Point(X0 + 45, Y0 - 45)], crs=CRS_GK)
    with pytest.raises(GridMismatchError, match="to_crs"):
        plan_plots(unit_map(), GRID, existing=existing.to_crs("EPSG:4326"))
    with pytest.raises(MissingCRSError):
        plan_plots(unit_map(), GRID, existing=existing.set_crs(None, allow_override=True))


def test_shortfall_is_reported_for_a_unit_too_thin_or_too_small() -> None:
    l2 = unit_map()
    l2[2:28, 8:10] = 50  # two pixels wide: no pixel has a 3 × 3 neighbourhood of 50
    l2[5:8, 25:28] = 21  # 3 × 3: room for exactly one plot, five needed
    with pytest.warns(UserWarning) as caught:
        result = plan_plots(l2, GRID, seed=2)
    messages = [str(w.message) for w in caught]
    assert any("其他扰动" in m and "other disturbance" in m and "3 short" in m
               for m in messages)
    assert any("拟损毁森林-挖损" in m and "to-be-damaged forest – excavation" in m
               and "4 short" in m for m in messages)
    assert result.attrs["shortfall"] == {21: 4, 50: 3}
    counts = result["unit_l2"].value_counts().to_dict()
    assert counts.get(50, 0) == 0 and counts[21] == 1
    assert (result[result["unit_l2"] == 21][["x", "y"]].to_numpy()
            == [[X0 + 26.5 * P, Y0 - 6.5 * P]]).all()
    assert counts[10] == 3 and counts[22] == 5 and counts[31] == 3


def test_total_is_shared_by_area_on_top_of_the_minimums() -> None:
    l2 = unit_map()  # areas: 10 → 510 px, 22 → 330 px, 31 → 330 px
    result = plan(l2, total=41, min_spacing_m=60.0)
    counts = result["unit_l2"].value_counts().to_dict()
    assert sum(counts.values()) == 41
    # 41 − 11 = 30 extra: 30 × 510/1170 = 13.08, 30 × 330/1170 = 8.46 twice → 13, 8 + 1, 8
    assert counts == {10: 3 + 13, 22: 5 + 9, 31: 3 + 8}
    with pytest.warns(UserWarning, match="below"):
        small = plan_plots(l2, GRID, total=5)
    assert len(small) == 11


def test_side_below_a_pixel_and_too_few_plots_are_refused() -> None:
    with pytest.raises(InputDataError, match="smaller than the 30 m pixel"):
        plan_plots(unit_map(), GRID, side_m=20.0)
    with pytest.raises(InputDataError, match="at least 3"):
        plan_plots(unit_map(), GRID, per_unit=2)
    with pytest.raises(InputDataError, match="min_spacing_m"):
        plan_plots(unit_map(), GRID, min_spacing_m=-1.0)
    with pytest.raises(GridMismatchError, match="shape"):
        plan_plots(unit_map()[:, :10], GRID)
    with pytest.raises(InputDataError, match="not a level-2"):
        plan_plots(np.full(GRID.shape, 7, dtype=np.uint8), GRID)


def test_an_empty_map_gives_an_empty_plan() -> None:
    result = plan_plots(np.zeros(GRID.shape, dtype=np.uint8), GRID)
    assert len(result) == 0
    assert list(result.columns) == list(PLAN_COLUMNS)
    assert result.crs == GRID.crs
    assert result.attrs["shortfall"] == {}


def test_a_plan_passes_the_check() -> None:
    l2 = unit_map()
    result = plan(side_m=2 * P, min_spacing_m=90.0)
    report = check_plots(result, units_dataset(l2, GRID), 2020, GRID)
    assert report.ok
    assert report.crossing.empty and report.too_small.empty and report.outside.empty
    squares = check_plots(plot_squares(result), units_dataset(l2, GRID), 2020, GRID)
    assert squares.per_unit.equals(report.per_unit)
    # the plan agrees with scope.units.plot_units on the unit of every plot
    table = plot_units(result, units_dataset(l2, GRID), 2020, 2 * P)
    assert table["unit_l2"].tolist() == result["unit_l2"].tolist()
    assert not table["crosses_border"].any()


# ------------------------------------------------------------------ plot_squares
def test_plot_squares_is_the_shared_helper_and_squares_a_plan() -> None:
    assert plot_squares is plots_module.plot_squares
    result = plan(side_m=2 * P, min_spacing_m=90.0)
    squares = plot_squares(result)
    assert squares["plot_id"].tolist() == result["plot_id"].tolist()
    assert squares.crs == result.crs
    first = result.iloc[0]
    assert squares.geometry.iloc[0].equals(
        box(first.x - P, first.y - P, first.x + P, first.y + P)
    )


# ------------------------------------------------------------------ check_plots
SMALL = AnalysisGrid(CRS_GK, P, X0, Y0, width=6, height=6)


def units_dataset(l2: np.ndarray, grid: AnalysisGrid, year: int = 2020) -> xr.Dataset:
    da = to_grid_dataarray(l2, grid, "l2").expand_dims(year=[year])
    return xr.Dataset({"l1": (da // 10).astype(np.uint8), "l2": da})


def small_units() -> xr.Dataset:
    l2 = np.full(SMALL.shape, 10, dtype=np.uint8)
    l2[:, 3:] = 21  # to-be-damaged forest – excavation
    l2[5, :] = 0  # not an object
    return units_dataset(l2, SMALL)


def centre(row: float, col: float) -> Point:
    return Point(X0 + (col + 0.5) * P, Y0 - (row + 0.5) * P)


def survey() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "plot_id": ["A", "B", "C", "D", "E", "F", "G", "H", "I"],
            "side_m": [30.0, 30.0, 30.0, 30.0, 30.0, 30.0, 30.0, 20.0, 60.0],
        },
        geometry=[
            centre(1, 1),  # A: unit 10
            centre(3, 1),  # B: unit 10
            centre(2, 2),  # C: unit 10, its pixel only
            centre(1, 4),  # D: unit 21
            Point(X0 + 3 * P, Y0 - 3 * P),  # E: on the corner of 10 and 21; centre pixel is 21
            Point(X0 - 100, Y0 - 50),  # F: off the grid
            centre(5, 1),  # G: code 0
            centre(0, 0),  # H: unit 10, a 20 m plot
            centre(2, 0),  # I: unit 10, a 60 m plot reaching over the grid's west edge
        ],
        crs=CRS_GK,
    )


@pytest.mark.parametrize(("chunks", "as_read"), [(None, False), (2, False), (None, True)])
def test_check_plots_known_answers(chunks: int | None, as_read: bool) -> None:
    units = small_units()
    if as_read:  # as read back from products/units: float with NaN where not an object
        units = units.astype(np.float32).where(units > 0)
    if chunks:
        units = units.chunk({"x": chunks, "y": chunks})
    report = check_plots(survey(), units, 2020, SMALL)
    assert isinstance(report, CheckReport)
    assert not report.ok
    table = report.per_unit.set_index(["level", "code"])
    assert list(report.per_unit.columns) == [
        "level", "code", "zh", "en", "area_ha", "plots", "required", "deficit"
    ]
    assert table.index.tolist() == [(1, 1), (1, 2), (2, 10), (2, 21)]
    # plots per unit: 10 ← A B C H I; 21 ← D E
    assert table["plots"].tolist() == [5, 2, 5, 2]
    assert table["required"].tolist() == [3, 5, 3, 5]
    assert table["deficit"].tolist() == [0, 3, 0, 3]
    assert table["area_ha"].tolist() == pytest.approx([15 * 0.09] * 4)
    assert table.loc[(2, 21), "zh"] == "拟损毁森林-挖损"
    assert report.deficits["code"].tolist() == [2, 21]

    crossing = report.crossing.set_index("plot_id")
    assert crossing.index.tolist() == ["E", "I"]
    assert crossing.loc["E", "units"] == (10, 21)
    assert crossing.loc["E", "unit_l2"] == 21
    assert crossing.loc["I", "units"] == (0, 10)

    assert report.too_small["plot_id"].tolist() == ["H"]
    assert report.too_small["side_m"].tolist() == [20.0]
    assert report.outside.set_index("plot_id")["reason"].to_dict() == {
        "F": "outside the grid", "G": "outside every unit",
    }
    lines = report.messages()
    assert any("21 拟损毁森林-挖损" in line and "3 short" in line for line in lines)
    assert any(line.startswith("plot H") for line in lines)


def test_check_plots_with_a_required_count_and_one_side() -> None:
    plots = survey()
    report = check_plots(plots, small_units(), 2020, SMALL, side_m=30.0, required=5,
                         extra_planned=0)
    table = report.per_unit.set_index(["level", "code"])
    assert table["required"].tolist() == [5, 5, 5, 5]
    assert table["deficit"].tolist() == [0, 3, 0, 3]
    assert report.too_small.empty  # every plot is 30 m now
    assert report.crossing["plot_id"].tolist() == ["E"]  # I no longer reaches off the grid


def test_check_plots_squares_and_enough_plots() -> None:
    plots = gpd.GeoDataFrame(
        {"plot_id": [f"P{n}" for n in range(8)]},
        geometry=[centre(r, c) for r, c in
                  [(0, 0), (2, 0), (4, 0), (0, 3), (1, 5), (2, 3), (3, 5), (4, 3)]],
        crs=CRS_GK,
    )
    report = check_plots(plot_squares(plots.assign(side_m=P)), small_units(), 2020, SMALL)
    assert report.ok
    assert report.per_unit["plots"].tolist() == [3, 5, 3, 5]
    assert report.crossing.empty and report.too_small.empty and report.outside.empty
    assert report.messages() == []
    # a 20 m square is too small, judged from its own size
    tiny = gpd.GeoDataFrame({"plot_id": ["t"]}, geometry=[box(X0, Y0 - 20, X0 + 20, Y0)],
                            crs=CRS_GK)
    assert check_plots(tiny, small_units(), 2020, SMALL).too_small["plot_id"].tolist() == ["t"]


def test_check_plots_refusals() -> None:
    units = small_units()
    with pytest.raises(InputDataError, match="year 2019"):
        check_plots(survey(), units, 2019, SMALL)
    with pytest.raises(GridMismatchError, match="to_crs"):
        check_plots(survey().to_crs("EPSG:4326"), units, 2020, SMALL)
    with pytest.raises(GridMismatchError):
        check_plots(survey(), units, 2020, GRID)
    with pytest.raises(InputDataError, match="at least 3"):
        check_plots(survey(), units, 2020, SMALL, required=2)
