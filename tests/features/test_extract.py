"""Plot extraction (F8): exact coverage weights, NaN renormalisation, exactextract as oracle."""

from __future__ import annotations

from pathlib import Path

import dask.array as dsa
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
import xarray as xr
from rasterio.transform import from_origin
from shapely import affinity

from minecarbon.errors import GridMismatchError, InputDataError
from minecarbon.features.extract import coverage_weights, extract_plot_features
from minecarbon.grid import AnalysisGrid

X0, Y_MAX, P = 500_000.0, 4_000_000.0, 30.0
CRS = "EPSG:4546"
SIDE = 25.82  # a 667 m² (one mu) square plot


def _grid(n: int = 4, m: int | None = None) -> AnalysisGrid:
    return AnalysisGrid(CRS, P, X0, Y_MAX, m or n, n)


def _stack(grid: AnalysisGrid, **layers: np.ndarray) -> xr.Dataset:
    coords = {"y": grid.y_coords(), "x": grid.x_coords()}
    ds = xr.Dataset({k: (("y", "x"), v) for k, v in layers.items()}, coords=coords)
    return ds.rio.write_crs(CRS)


def _plots(geoms: list[shapely.Geometry], ids: list[str] | None = None) -> gpd.GeoDataFrame:
    ids = ids or [f"p{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"plot_id": ids}, geometry=geoms, crs=CRS)


def _square(x: float, y: float, side: float = SIDE) -> shapely.Polygon:
    """Square with its lower-left corner at (X0 + x, Y_MAX - y)."""
    return shapely.box(X0 + x, Y_MAX - y, X0 + x + side, Y_MAX - y + side)


# ------------------------------------------------------------------ hand-computed cases
def test_square_straddling_four_pixels_has_the_hand_computed_areas() -> None:
    # x from 20 to 45.82 m: 10 m in column 0, 15.82 m in column 1; y from 50 to 24.18 m
    # below the top: 5.82 m in row 0, 20 m in row 1. Areas 58.2, 92.0724, 200, 316.4 m².
    plot = _square(20.0, 50.0)
    (cov,) = coverage_weights([plot], _grid())
    got = {(int(r), int(c)): f for r, c, f in zip(cov.rows, cov.cols, cov.fraction, strict=True)}
    area = SIDE * SIDE
    expected = {(0, 0): 58.2, (0, 1): 92.0724, (1, 0): 200.0, (1, 1): 316.4}
    assert set(got) == set(expected)
    for key, a in expected.items():
        assert got[key] == pytest.approx(a / area, rel=1e-9)
    assert cov.inside_fraction == pytest.approx(1.0)
    assert cov.plot_id == 0

    values = np.arange(16, dtype=float).reshape(4, 4) * 10.0  # pixel (r, c) holds 40 r + 10 c
    table = extract_plot_features(_stack(_grid(), v=values), _plots([plot]), _grid())
    mean = (58.2 * 0 + 92.0724 * 10 + 200.0 * 40 + 316.4 * 50) / area
    assert table.loc[0, "v"] == pytest.approx(mean, rel=1e-9)
    assert table.loc[0, "valid_fraction"] == pytest.approx(1.0)
    assert list(table.columns) == ["plot_id", "v", "valid_fraction"]


def test_circle_on_a_pixel_corner_is_split_into_quarters() -> None:
    # a circle (a 64-gon, symmetric under quarter turns) centred on the corner of 4 pixels
    circle = shapely.Point(X0 + 60.0, Y_MAX - 60.0).buffer(14.57)
    inside_one = shapely.Point(X0 + 75.0, Y_MAX - 15.0).buffer(11.28)  # centre of pixel (0, 2)
    covers = coverage_weights(gpd.GeoSeries([circle, inside_one], index=["c", "i"]), _grid())
    assert covers[0].plot_id == "c" and covers[1].plot_id == "i"
    assert sorted(zip(covers[0].rows.tolist(), covers[0].cols.tolist(), strict=True)) == [
        (1, 1),
        (1, 2),
        (2, 1),
        (2, 2),
    ]
    np.testing.assert_allclose(covers[0].fraction, 0.25, rtol=1e-12)
    assert covers[1].rows.tolist() == [0] and covers[1].cols.tolist() == [2]
    assert covers[1].fraction.tolist() == [1.0]

    values = np.arange(16, dtype=float).reshape(4, 4)
    table = extract_plot_features(_stack(_grid(), v=values), _plots([circle, inside_one]), _grid())
    assert table["v"].tolist() == pytest.approx([(5 + 6 + 9 + 10) / 4, 2.0])


def test_nan_pixels_are_dropped_and_the_weights_renormalised() -> None:
    plot = _square(20.0, 50.0)
    values = np.arange(16, dtype=float).reshape(4, 4) * 10.0
    values[1, 1] = np.nan  # 316.4 m² of the plot
    other = np.ones((4, 4))
    other[0, :] = np.nan  # 58.2 + 92.0724 m²
    area = SIDE * SIDE
    stack = _stack(_grid(), v=values, w=other)
    table = extract_plot_features(stack, _plots([plot]), _grid())
    mean = (92.0724 * 10 + 200.0 * 40) / (58.2 + 92.0724 + 200.0)
    assert table.loc[0, "v"] == pytest.approx(mean, rel=1e-9)
    assert table.loc[0, "w"] == pytest.approx(1.0)
    # valid_fraction: the smaller of v's (1 - 316.4/area) and w's (1 - 150.2724/area)
    assert table.loc[0, "valid_fraction"] == pytest.approx(1 - 316.4 / area)
    strict = extract_plot_features(stack, _plots([plot]), _grid(), min_valid_fraction=0.6)
    assert np.isnan(strict.loc[0, "v"])  # v covers 52.5 % of the plot
    assert strict.loc[0, "w"] == pytest.approx(1.0)  # w covers 77.5 %

    all_nan = _stack(_grid(), v=np.full((4, 4), np.nan))
    table = extract_plot_features(all_nan, _plots([plot]), _grid(), min_valid_fraction=0.0)
    assert np.isnan(table.loc[0, "v"]) and table.loc[0, "valid_fraction"] == 0.0


# ------------------------------------------------------------------- plots at the edges
def test_plot_partly_outside_uses_the_part_inside_and_warns() -> None:
    plot = _square(-10.0, SIDE)  # 10 m of its 25.82 m width lie west of the grid
    with pytest.warns(UserWarning, match=r"plot 'edge'.*61\.3%"):
        (cov,) = coverage_weights([plot], _grid(), ids=["edge"])
    assert cov.inside_fraction == pytest.approx(15.82 / SIDE)
    assert cov.fraction.sum() == pytest.approx(1.0)
    values = np.arange(16, dtype=float).reshape(4, 4)
    with pytest.warns(UserWarning, match="edge"):
        table = extract_plot_features(_stack(_grid(), v=values), _plots([plot], ["edge"]), _grid())
    assert table.loc[0, "v"] == pytest.approx(0.0)  # only pixel (0, 0) is covered
    assert table.loc[0, "valid_fraction"] == pytest.approx(15.82 / SIDE)
    with pytest.warns(UserWarning):
        strict = extract_plot_features(
            _stack(_grid(), v=values), _plots([plot], ["edge"]), _grid(), min_valid_fraction=0.7
        )
    assert np.isnan(strict.loc[0, "v"])


@pytest.mark.parametrize(
    "plot",
    [
        _square(200.0, 20.0),  # east of the 120 m wide grid
        _square(-SIDE, 20.0),  # touches the west edge only
        shapely.Point(X0 - 100, Y_MAX + 100).buffer(10),
    ],
)
def test_plot_wholly_outside_is_an_error_naming_it(plot: shapely.Polygon) -> None:
    with pytest.raises(InputDataError, match="plot 'far' lies wholly outside") as err:
        coverage_weights([plot], _grid(), ids=["far"])
    assert "fix" in str(err.value)


# ------------------------------------------------------------------------------- checks
def test_bad_plots_and_stacks_are_refused() -> None:
    grid = _grid()
    stack = _stack(grid, v=np.zeros((4, 4)))
    good = _square(20, 50)
    with pytest.raises(InputDataError, match="no 'plot_id' column"):
        extract_plot_features(stack, gpd.GeoDataFrame(geometry=[good], crs=CRS), grid)
    with pytest.raises(InputDataError, match="unique"):
        extract_plot_features(stack, _plots([good, good], ["a", "a"]), grid)
    with pytest.raises(InputDataError, match="plot 'pt' has no area"):
        coverage_weights([shapely.Point(X0 + 5, Y_MAX - 5)], grid, ids=["pt"])
    bowtie = shapely.Polygon(
        [(X0 + 5, Y_MAX - 5), (X0 + 25, Y_MAX - 25), (X0 + 25, Y_MAX - 5), (X0 + 5, Y_MAX - 25)]
    )
    with pytest.raises(InputDataError, match="plot 'bow' has an invalid polygon"):
        coverage_weights([bowtie], grid, ids=["bow"])
    with pytest.raises(InputDataError, match="min_valid_fraction"):
        extract_plot_features(stack, _plots([good]), grid, min_valid_fraction=1.5)
    cube = stack.assign(t=(("band", "y", "x"), np.zeros((2, 4, 4))))
    with pytest.raises(InputDataError, match="feature 't' has dims"):
        extract_plot_features(cube, _plots([good]), grid)
    with pytest.raises(GridMismatchError):
        extract_plot_features(stack, _plots([good]), _grid(5))


def test_plots_in_another_crs_are_reprojected() -> None:
    grid = _grid()
    values = np.random.default_rng(0).normal(size=(4, 4))
    plots = _plots([_square(20, 50), shapely.Point(X0 + 60, Y_MAX - 60).buffer(14.57)])
    expected = extract_plot_features(_stack(grid, v=values), plots, grid)
    got = extract_plot_features(_stack(grid, v=values), plots.to_crs("EPSG:4326"), grid)
    np.testing.assert_allclose(got["v"], expected["v"], rtol=1e-6)


def test_empty_plot_table_gives_an_empty_frame() -> None:
    grid = _grid()
    table = extract_plot_features(_stack(grid, v=np.zeros((4, 4))), _plots([]), grid)
    assert list(table.columns) == ["plot_id", "v", "valid_fraction"] and table.empty


# ----------------------------------------------------------------------------- dask
def test_dask_stack_is_read_only_where_the_plots_are() -> None:
    grid = _grid(40)
    rng = np.random.default_rng(1)
    values = rng.normal(50, 10, (40, 40))
    touched: list[tuple[int, ...]] = []

    def record(block: np.ndarray, block_info: dict[object, dict[str, object]] | None = None):
        assert block_info is not None
        touched.append(tuple(block_info[0]["chunk-location"]))  # type: ignore[arg-type]
        return block

    lazy = dsa.from_array(values, chunks=(10, 10)).map_blocks(record, meta=np.array((), float))
    plots = _plots(
        [_square(20, 50), _square(400, 300), shapely.Point(X0 + 330, Y_MAX - 90).buffer(12)]
    )
    table = extract_plot_features(_stack(grid, v=lazy), plots, grid)
    assert 0 < len(set(touched)) <= 3 < 16  # the 16 chunks of 10 x 10 pixels are not all read
    assert set(touched) <= {(0, 0), (0, 1), (1, 1)}
    expected = extract_plot_features(_stack(grid, v=values), plots, grid)
    pd.testing.assert_frame_equal(table, expected)


# ------------------------------------------------------------------ exactextract oracle
def _random_plots(rng: np.random.Generator, n: int, extent_m: float) -> list[shapely.Geometry]:
    plots: list[shapely.Geometry] = []
    for i in range(n):
        cx, cy = X0 + rng.uniform(20, extent_m - 20), Y_MAX - rng.uniform(20, extent_m - 20)
        if i % 2:
            plots.append(shapely.Point(cx, cy).buffer(rng.choice([11.28, 14.57, 17.84])))
        else:
            side = rng.choice([20.0, SIDE, 31.62])
            square = shapely.box(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
            plots.append(affinity.rotate(square, rng.uniform(0, 90)))
    return plots


def _write(path: Path, values: np.ndarray) -> Path:
    profile = {
        "driver": "GTiff",
        "height": values.shape[0],
        "width": values.shape[1],
        "count": 1,
        "dtype": "float64",
        "crs": CRS,
        "transform": from_origin(X0, Y_MAX, P, P),
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
    return path


def test_weighted_means_equal_exactextract(tmp_path: Path) -> None:
    exactextract = pytest.importorskip("exactextract")
    rng = np.random.default_rng(42)
    n = 40
    grid = _grid(n)
    values = rng.normal(120.0, 30.0, (n, n))
    values[rng.random((n, n)) < 0.08] = np.nan
    plots = _plots(_random_plots(rng, 50, n * P))
    ours = extract_plot_features(_stack(grid, v=values), plots, grid, min_valid_fraction=0.0)
    theirs = exactextract.exact_extract(
        str(_write(tmp_path / "v.tif", values)),
        plots,
        ["mean", "count"],
        include_cols=["plot_id"],
        output="pandas",
    )
    assert theirs["plot_id"].tolist() == ours["plot_id"].tolist()
    np.testing.assert_allclose(ours["v"], theirs["mean"], rtol=0, atol=1e-6, equal_nan=True)
    # exactextract's count is the covered share of valid pixels, in pixels (float32 inside)
    np.testing.assert_allclose(
        ours["valid_fraction"], theirs["count"] * P * P / plots.area, rtol=1e-6
    )
    assert np.isnan(values).any() and (ours["valid_fraction"] < 1).any()


def test_coverage_weights_equal_exactextract_coverage(tmp_path: Path) -> None:
    exactextract = pytest.importorskip("exactextract")
    rng = np.random.default_rng(7)
    n = 30
    grid = _grid(n)
    plots = _plots(_random_plots(rng, 30, n * P))
    theirs = exactextract.exact_extract(
        str(_write(tmp_path / "ones.tif", np.ones((n, n)))),
        plots,
        ["cell_id", "coverage"],
        output="pandas",
    )
    covers = coverage_weights(plots.geometry, grid)
    for cov, geom, (_, row) in zip(covers, plots.geometry, theirs.iterrows(), strict=True):
        ours = dict(
            zip((cov.rows * n + cov.cols).tolist(), cov.fraction * geom.area / (P * P), strict=True)
        )
        other = dict(zip(np.asarray(row["cell_id"]).tolist(), row["coverage"], strict=True))
        other = {k: v for k, v in other.items() if v > 0}
        assert set(ours) == set(other)
        np.testing.assert_allclose([ours[k] for k in other], list(other.values()), atol=1e-9)


def test_sample_points_reads_the_pixel_under_each_point() -> None:
    from minecarbon.features.extract import sample_points

    grid = AnalysisGrid("EPSG:4546", 30.0, 500_000.0, 4_100_000.0, 5, 4)
    values = np.arange(20, dtype=float).reshape(4, 5)
    values[3, 4] = np.nan
    coords = {"y": grid.y_coords(), "x": grid.x_coords()}
    stack = xr.Dataset({"ndvi": (("y", "x"), values), "twice": (("y", "x"), values * 2)},
                       coords=coords).chunk(2)
    pts = gpd.GeoDataFrame({"sample_id": ["a", "b", "c"]}, geometry=gpd.points_from_xy(
        [500_001.0, 500_059.0, 500_149.0], [4_099_999.0, 4_099_941.0, 4_099_881.0]),
        crs="EPSG:4546")
    table = sample_points(stack, pts, grid)
    assert table["sample_id"].tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(table["ndvi"], [0.0, 6.0, np.nan])
    np.testing.assert_array_equal(table["twice"], [0.0, 12.0, np.nan])
    far = pts.assign(geometry=gpd.points_from_xy([400_000.0] * 3, [4_099_999.0] * 3))
    with pytest.raises(InputDataError, match=r"samples \['a', 'b', 'c'\] lie outside"):
        sample_points(stack, far, grid)
