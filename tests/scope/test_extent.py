"""Monitoring extent, project grid and extent mask (requirement S1)."""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS
from shapely.geometry import LineString, MultiPolygon, Polygon, box

from minecarbon.errors import GeographicCRSError, InputDataError, MissingCRSError
from minecarbon.grid import AnalysisGrid
from minecarbon.scope.extent import (
    extent_mask,
    monitoring_extent,
    project_grid,
    rasterize_polygons,
)

# rasterio warns spuriously when several dask threads rasterise at once (odc-geo issue #131);
# the outputs are checked below, so the warning is noise here
pytestmark = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")

CRS_GK = "EPSG:4546"
X0, Y0 = 500_000.0, 4_100_000.0


def layer(*geoms, crs: str | None = CRS_GK) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": list(range(len(geoms)))}, geometry=list(geoms), crs=crs)


def square(x: float, y: float, side: float) -> Polygon:
    return box(x, y, x + side, y + side)


# ------------------------------------------------------------------ monitoring_extent
def test_boundary_buffered_by_default_500_m() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        extent = monitoring_extent(layer(square(X0, Y0, 1000)))
    assert extent.bounds == pytest.approx((X0 - 500, Y0 - 500, X0 + 1500, Y0 + 1500))
    expected = 1000**2 + 4 * 1000 * 500 + math.pi * 500**2
    assert extent.area == pytest.approx(expected, rel=2e-3)


def test_buffer_distance_is_applied() -> None:
    extent = monitoring_extent(layer(square(X0, Y0, 1000)), buffer_m=100)
    assert extent.bounds == pytest.approx((X0 - 100, Y0 - 100, X0 + 1100, Y0 + 1100))
    assert extent.contains(square(X0 - 99, Y0, 1).centroid)
    assert not extent.contains(square(X0 - 101, Y0 + 500, 0.5).centroid)


def test_boundary_polygons_are_united() -> None:
    extent = monitoring_extent(
        layer(square(X0, Y0, 100), square(X0 + 5000, Y0, 100)), buffer_m=100
    )
    assert isinstance(extent, MultiPolygon)
    assert len(extent.geoms) == 2
    joined = monitoring_extent(layer(square(X0, Y0, 100), square(X0 + 250, Y0, 100)), 100)
    assert isinstance(joined, Polygon)  # the two buffers overlap


@pytest.mark.parametrize("buffer_m", [0.0, 50.0, 99.9, 500.1, 1000.0])
def test_buffer_outside_guide_range_warns(buffer_m: float) -> None:
    with pytest.warns(UserWarning, match=r"outside the guide's 100–500 m"):
        monitoring_extent(layer(square(X0, Y0, 100)), buffer_m=buffer_m)


@pytest.mark.parametrize("buffer_m", [100.0, 300.0, 500.0])
def test_buffer_inside_range_does_not_warn(buffer_m: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        monitoring_extent(layer(square(X0, Y0, 100)), buffer_m=buffer_m)


def test_negative_buffer_refused() -> None:
    with pytest.raises(InputDataError, match="not a distance"):
        monitoring_extent(layer(square(X0, Y0, 100)), buffer_m=-5)


def test_influence_boundary_replaces_boundary_and_buffer() -> None:
    influence = layer(square(X0 - 300, Y0 - 300, 700), square(X0 + 300, Y0 + 300, 700))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the buffer is not used, so not warned about
        extent = monitoring_extent(layer(square(X0, Y0, 100)), buffer_m=20, influence=influence)
    assert extent.equals(influence.geometry.union_all())


def test_empty_boundary_refused() -> None:
    with pytest.raises(InputDataError, match="mining-right boundary.*no polygons"):
        monitoring_extent(gpd.GeoDataFrame(geometry=[], crs=CRS_GK))


def test_boundary_without_crs_refused() -> None:
    with pytest.raises(MissingCRSError, match="boundary.*no coordinate reference system"):
        monitoring_extent(layer(square(X0, Y0, 100), crs=None))


def test_boundary_of_lines_refused() -> None:
    with pytest.raises(InputDataError, match="non-polygon.*LineString"):
        monitoring_extent(layer(LineString([(X0, Y0), (X0 + 100, Y0)])))


def test_layer_name_appears_in_messages() -> None:
    with pytest.raises(InputDataError, match="raw/boundary/mine.gpkg"):
        monitoring_extent(
            gpd.GeoDataFrame(geometry=[], crs=CRS_GK), boundary_name="raw/boundary/mine.gpkg"
        )


def test_boundary_reprojected_from_wgs84_to_project_crs() -> None:
    original = square(X0, Y0, 2000)
    in_wgs84 = layer(original).to_crs("EPSG:4326")
    with pytest.warns(UserWarning, match=r"mining-right boundary.*EPSG:4326.*reprojected"):
        extent = monitoring_extent(in_wgs84, buffer_m=100, crs="EPSG:4546")
    expected = original.buffer(100)
    assert extent.symmetric_difference(expected).area < 1e-3 * expected.area
    assert extent.bounds == pytest.approx(expected.bounds, abs=0.5)


def test_geographic_boundary_without_project_crs_refused() -> None:
    in_wgs84 = layer(square(X0, Y0, 2000)).to_crs("EPSG:4326")
    with pytest.raises(GeographicCRSError, match="EPSG:4546"):
        monitoring_extent(in_wgs84, buffer_m=100)


def test_geographic_project_crs_refused() -> None:
    with pytest.raises(GeographicCRSError):
        monitoring_extent(layer(square(X0, Y0, 100)), buffer_m=100, crs="EPSG:4326")


def test_input_is_not_modified() -> None:
    boundary = layer(square(X0, Y0, 100)).to_crs("EPSG:4326")
    before = boundary.copy()
    with pytest.warns(UserWarning):
        monitoring_extent(boundary, buffer_m=100, crs=CRS_GK)
    assert boundary.crs == before.crs
    assert boundary.geometry.geom_equals(before.geometry).all()


# ------------------------------------------------------------------ project_grid
@pytest.mark.parametrize("pixel", [0.5, 1.0, 10.0, 30.0])
@pytest.mark.parametrize("jitter", [-1e-6, 0.0, 1e-6])
def test_grid_of_exact_extent_gains_no_row_or_column(pixel: float, jitter: float) -> None:
    # large eastings, as with a zone prefix; both are multiples of every pixel size here
    x0, y0 = 38_500_020.0, 4_100_010.0
    extent = box(x0 - jitter, y0 - jitter, x0 + 10 * pixel + jitter, y0 + 20 * pixel + jitter)
    grid = project_grid(extent, CRS_GK, pixel)
    assert grid.shape == (20, 10)
    assert grid.x_min_m == pytest.approx(x0)
    assert grid.y_max_m == pytest.approx(y0 + 20 * pixel)


def test_grid_snaps_outward_to_pixel_edges() -> None:
    extent = box(X0 + 1, Y0 + 1, X0 + 301, Y0 + 590)
    grid = project_grid(extent, CRS_GK, 20)
    assert (grid.x_min_m, grid.y_max_m) == (X0, Y0 + 600)
    assert grid.shape == (30, 16)  # columns up to X0 + 320, rows down to Y0


def test_grid_of_buffered_extent_covers_it() -> None:
    extent = monitoring_extent(layer(square(X0 + 7, Y0 + 3, 1000)), buffer_m=250)
    grid = project_grid(extent, CRS_GK, 30)
    x_min, y_min, x_max, y_max = grid.bounds
    ex0, ey0, ex1, ey1 = extent.bounds
    assert x_min <= ex0 < x_min + 30 and x_max - 30 < ex1 <= x_max
    assert y_min <= ey0 < y_min + 30 and y_max - 30 < ey1 <= y_max


def test_grid_refuses_empty_extent_and_geographic_crs() -> None:
    with pytest.raises(InputDataError, match="empty"):
        project_grid(Polygon(), CRS_GK, 30)
    with pytest.raises(GeographicCRSError, match="EPSG:4546"):
        project_grid(box(112.0, 37.0, 112.1, 37.1), "EPSG:4326", 30)
    with pytest.raises(InputDataError, match="pixel size"):
        project_grid(box(X0, Y0, X0 + 10, Y0 + 10), CRS_GK, 0)


# ------------------------------------------------------------------ masks
GRID = AnalysisGrid(CRS_GK, 10.0, X0, Y0, width=12, height=9)


def test_extent_mask_uses_pixel_centres() -> None:
    # columns 2–4 fully, then 6 m into column 5 (centre at 5 m: in) ; rows 1–3 fully, then
    # 4 m into row 4 (centre 5 m in: out)
    extent = box(X0 + 20, Y0 - 44, X0 + 56, Y0 - 10)
    mask = extent_mask(extent, GRID).compute()
    expected = np.zeros(GRID.shape, dtype=bool)
    expected[1:4, 2:6] = True
    np.testing.assert_array_equal(mask.values, expected)
    assert mask.dtype == bool
    assert mask.dims == ("y", "x")
    np.testing.assert_allclose(mask["x"].values, GRID.x_coords())
    np.testing.assert_allclose(mask["y"].values, GRID.y_coords())
    assert CRS.from_user_input(mask.rio.crs) == CRS.from_user_input(CRS_GK)


def test_extent_mask_is_lazy_and_chunked_equal_to_one_chunk() -> None:
    extent = Polygon([(X0 + 3, Y0 - 2), (X0 + 110, Y0 - 30), (X0 + 60, Y0 - 88)])
    chunked = extent_mask(extent, GRID, chunks=4)
    assert chunked.chunks is not None and len(chunked.chunks[0]) == 3
    assert len(chunked.chunks[1]) == 3
    whole = extent_mask(extent, GRID, chunks=1024)
    np.testing.assert_array_equal(chunked.values, whole.values)
    assert 5 < int(whole.sum()) < GRID.width * GRID.height


def test_extent_mask_matches_point_in_polygon() -> None:
    extent = Polygon([(X0 + 3, Y0 - 2), (X0 + 110, Y0 - 30), (X0 + 60, Y0 - 88)])
    mask = extent_mask(extent, GRID, chunks=(5, 7)).values
    xs, ys = np.meshgrid(GRID.x_coords(), GRID.y_coords())
    np.testing.assert_array_equal(mask, shapely.contains_xy(extent, xs, ys))


def test_rasterize_polygons_later_polygon_wins_across_chunks() -> None:
    a = box(X0, Y0 - 90, X0 + 80, Y0)  # columns 0–7
    b = box(X0 + 30, Y0 - 50, X0 + 120, Y0 - 20)  # columns 3–11, rows 2–4
    out = rasterize_polygons([a, b], [1, 2], GRID, fill=0, dtype="uint8", chunks=5).compute()
    expected = np.zeros(GRID.shape, dtype="uint8")
    expected[:, 0:8] = 1
    expected[2:5, 3:12] = 2
    np.testing.assert_array_equal(out, expected)
