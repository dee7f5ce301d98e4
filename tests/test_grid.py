"""The analysis grid: CRS suggestions and checks, snapping, serialisation, on-grid checks."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
import rioxarray  # noqa: F401  (registers the .rio accessor used below)
from affine import Affine
from pyproj import CRS
from rasterio.transform import from_origin
from shapely.geometry import Polygon, box

from minecarbon.errors import (
    GeographicCRSError,
    GridMismatchError,
    InputDataError,
    MinecarbonError,
    MissingCRSError,
)
from minecarbon.grid import AnalysisGrid, assert_on_grid, require_projected, suggest_projected_crs
from minecarbon.io.raster import to_grid_dataarray

SUGGESTION = re.compile(r"^EPSG:(\d+) \((.+)\)$")


def _suggested_epsg(lon: float, lat: float) -> tuple[int, str]:
    text = suggest_projected_crs(lon, lat)
    match = SUGGESTION.match(text)
    assert match, text
    return int(match.group(1)), match.group(2)


def _central_meridian(epsg: int) -> float:
    op = CRS.from_epsg(epsg).coordinate_operation
    assert op is not None
    params = {p.name: p.value for p in op.params}
    return params["Longitude of natural origin"]


# --- suggest_projected_crs ---------------------------------------------------------------------


def test_suggest_shanxi() -> None:
    epsg, name = _suggested_epsg(112.3, 37.0)
    assert epsg == 4546
    assert name == CRS.from_epsg(4546).name
    assert "CM 111E" in name
    assert suggest_projected_crs(112.3, 37.0) == f"EPSG:4546 ({CRS.from_epsg(4546).name})"


def test_suggest_cm_117() -> None:
    epsg, name = _suggested_epsg(117.0, 39.0)
    assert epsg == 4548
    assert "CM 117E" in name
    assert "CM 117E" in CRS.from_epsg(4548).name


@pytest.mark.parametrize("cm", range(75, 136, 3))
@pytest.mark.parametrize("offset", [-1.4, 0.0, 1.4])
def test_suggest_central_meridian_matches_pyproj(cm: int, offset: float) -> None:
    epsg, name = _suggested_epsg(cm + offset, 36.0)
    crs = CRS.from_epsg(epsg)
    assert crs.is_projected
    assert "CGCS2000" in crs.name and "Gauss-Kruger" in crs.name
    assert "zone" not in crs.name.lower()  # the CM variants, without the zone prefix
    assert _central_meridian(epsg) == pytest.approx(cm)
    assert f"CM {cm}E" in name
    assert crs.axis_info[0].unit_name == "metre"


def test_suggest_outside_china_is_utm() -> None:
    epsg, name = _suggested_epsg(10.0, 50.0)
    assert epsg == 32632
    assert name == CRS.from_epsg(32632).name
    assert "UTM zone 32N" in name


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(10.0, 50.0), (10.0, -30.0), (-179.5, 10.0), (-0.5, 51.5), (0.5, 51.5), (179.5, -45.0),
     (112.0, 60.0), (150.0, 35.0), (-100.0, 40.0)],
)
def test_suggest_utm_rule(lon: float, lat: float) -> None:
    epsg, _ = _suggested_epsg(lon, lat)
    crs = CRS.from_epsg(epsg)
    assert "WGS 84 / UTM zone" in crs.name
    # north zones 326xx, south 327xx
    assert epsg // 100 == (326 if lat >= 0 else 327)
    # a UTM zone spans its central meridian ± 3 degrees
    assert abs(lon - _central_meridian(epsg)) <= 3.0


# --- require_projected -------------------------------------------------------------------------


def test_require_projected_accepts_metric() -> None:
    crs = require_projected("EPSG:4546", "a.tif")
    assert isinstance(crs, CRS)
    assert crs == CRS.from_epsg(4546)
    assert require_projected(CRS.from_epsg(32649), "b.tif") == CRS.from_epsg(32649)


@pytest.mark.parametrize("missing", [None, ""])
def test_require_projected_missing(missing: object) -> None:
    with pytest.raises(MissingCRSError) as info:
        require_projected(missing, "x.tif")
    assert "x.tif" in str(info.value)
    assert "fix:" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_require_projected_geographic_suggests() -> None:
    with pytest.raises(GeographicCRSError) as info:
        require_projected("EPSG:4326", "x.tif", lonlat=(112.0, 37.0))
    message = str(info.value)
    assert "x.tif" in message
    assert "EPSG:4546" in message
    assert isinstance(info.value, InputDataError)


def test_require_projected_geographic_without_location() -> None:
    with pytest.raises(GeographicCRSError, match=r"x\.tif"):
        require_projected(CRS.from_epsg(4490), "x.tif")  # CGCS2000 geographic


def test_require_projected_refuses_feet() -> None:
    assert CRS.from_epsg(2227).is_projected
    with pytest.raises(MinecarbonError, match=r"survey\.tif"):
        require_projected("EPSG:2227", "survey.tif")


def test_require_projected_unparseable_names_input() -> None:
    # a typo in a CRS must be our error naming the input, not a bare pyproj CRSError
    with pytest.raises(InputDataError, match=r"x\.tif"):
        require_projected("EPSG:45466666", "x.tif")


# --- AnalysisGrid.from_extent ------------------------------------------------------------------


def test_from_extent_hand_computed() -> None:
    # 300 010 → 300 000; 300 950 → 300 960; 4 099 990 → 4 099 980; 4 100 500 → 4 100 520
    extent = box(300_010, 4_099_990, 300_950, 4_100_500)
    grid = AnalysisGrid.from_extent(extent, "EPSG:4546", 30)
    assert grid.crs == "EPSG:4546"
    assert grid.pixel_size_m == 30.0
    assert grid.bounds == (300_000.0, 4_099_980.0, 300_960.0, 4_100_520.0)
    assert grid.shape == (18, 32)  # (540 / 30, 960 / 30)
    assert grid.pixel_area_ha == pytest.approx(0.09)


def test_from_extent_on_pixel_edges_adds_nothing() -> None:
    grid = AnalysisGrid.from_extent(box(300_000, 4_099_980, 300_960, 4_100_520), "EPSG:4546", 30)
    assert grid.bounds == (300_000.0, 4_099_980.0, 300_960.0, 4_100_520.0)
    assert grid.shape == (18, 32)


@pytest.mark.parametrize(
    "extent",
    [
        box(512_345.6, 4_098_765.4, 514_001.2, 4_101_999.9),
        Polygon([(400_001, 4_000_002), (401_234, 4_000_500), (400_600, 4_001_777)]),
        box(500_011, 4_000_029, 500_012, 4_000_031),  # smaller than a pixel
    ],
)
def test_from_extent_snaps_and_covers(extent: Polygon) -> None:
    p = 30.0
    grid = AnalysisGrid.from_extent(extent, "EPSG:4546", p)
    x_min, y_min, x_max, y_max = grid.bounds
    for value in grid.bounds:
        assert value / p == pytest.approx(round(value / p), abs=1e-9)
    x0, y0, x1, y1 = extent.bounds
    # covers the polygon, and by less than a pixel more on each side
    assert x_min <= x0 < x_min + p
    assert y_min <= y0 < y_min + p
    assert x_max - p < x1 <= x_max
    assert y_max - p < y1 <= y_max
    assert box(*grid.bounds).contains(extent)
    # shape consistent with bounds and pixel size
    assert grid.width == round((x_max - x_min) / p)
    assert grid.height == round((y_max - y_min) / p)
    assert grid.width >= 1 and grid.height >= 1


def test_coords_are_pixel_centres() -> None:
    grid = AnalysisGrid.from_extent(box(300_010, 4_099_990, 300_950, 4_100_500), "EPSG:4546", 30)
    x, y = grid.x_coords(), grid.y_coords()
    assert x.shape == (32,) and y.shape == (18,)
    assert x[0] == 300_015.0 and x[-1] == 300_945.0
    assert y[0] == 4_100_505.0 and y[-1] == 4_099_995.0
    np.testing.assert_allclose(np.diff(x), 30.0)
    np.testing.assert_allclose(np.diff(y), -30.0)


def test_transform_matches_rasterio() -> None:
    grid = AnalysisGrid.from_extent(box(300_010, 4_099_990, 300_950, 4_100_500), "EPSG:4546", 30)
    expected = from_origin(300_000.0, 4_100_520.0, 30.0, 30.0)
    assert Affine(*grid.transform) == expected
    assert Affine(*grid.transform) * (0, 0) == (300_000.0, 4_100_520.0)
    assert Affine(*grid.transform) * (grid.width, grid.height) == (300_960.0, 4_099_980.0)
    # pixel centres through the affine agree with the coordinate arrays
    cx, _ = Affine(*grid.transform) * (np.arange(grid.width) + 0.5, np.full(grid.width, 0.5))
    np.testing.assert_allclose(cx, grid.x_coords())


@pytest.mark.parametrize("pixel", [10.0, 30.0, 100.0])
def test_pixel_area_ha(pixel: float) -> None:
    grid = AnalysisGrid("EPSG:4546", pixel, 0.0, 1_000.0, 2, 2)
    assert grid.pixel_area_ha == pytest.approx(pixel * pixel / 10_000.0)


def test_from_extent_geographic_suggests_gk_zone() -> None:
    lonlat = box(112.2, 36.9, 112.4, 37.1)
    with pytest.raises(GeographicCRSError) as info:
        AnalysisGrid.from_extent(lonlat, "EPSG:4326", 30, what="boundary.gpkg")
    assert "EPSG:4546" in str(info.value)
    assert "boundary.gpkg" in str(info.value)


def test_from_extent_without_crs() -> None:
    with pytest.raises(MissingCRSError):
        AnalysisGrid.from_extent(box(0, 0, 100, 100), None, 30)


def test_grid_refuses_bad_parameters() -> None:
    with pytest.raises(GeographicCRSError):
        AnalysisGrid("EPSG:4326", 30.0, 0.0, 0.0, 10, 10)
    with pytest.raises(GridMismatchError):
        AnalysisGrid("EPSG:4546", 0.0, 0.0, 0.0, 10, 10)
    with pytest.raises(GridMismatchError):
        AnalysisGrid("EPSG:4546", 30.0, 0.0, 0.0, 0, 10)


def test_from_extent_normalises_crs_to_epsg() -> None:
    grid = AnalysisGrid.from_extent(box(0, 0, 90, 90), CRS.from_epsg(32649), 30)
    assert grid.crs == "EPSG:32649"


# --- serialisation and odc-geo -----------------------------------------------------------------


@pytest.fixture
def grid() -> AnalysisGrid:
    return AnalysisGrid.from_extent(box(300_010, 4_099_990, 300_950, 4_100_500), "EPSG:4546", 30)


def test_dict_round_trip(grid: AnalysisGrid) -> None:
    record = grid.to_dict()
    assert AnalysisGrid.from_dict(record) == grid
    # survives JSON (it is stored in the workspace)
    assert AnalysisGrid.from_dict(json.loads(json.dumps(record))) == grid
    assert hash(AnalysisGrid.from_dict(record)) == hash(grid)


def test_equality_by_value(grid: AnalysisGrid) -> None:
    other = AnalysisGrid.from_extent(box(300_010, 4_099_990, 300_950, 4_100_500), "EPSG:4546", 30)
    assert other == grid
    assert AnalysisGrid.from_dict({**grid.to_dict(), "width": grid.width + 1}) != grid
    assert AnalysisGrid.from_dict({**grid.to_dict(), "crs": "EPSG:32649"}) != grid


def test_geobox_matches(grid: AnalysisGrid) -> None:
    gb = grid.geobox()
    assert tuple(gb.shape) == grid.shape
    assert gb.affine == Affine(*grid.transform)
    assert CRS.from_user_input(str(gb.crs)) == CRS.from_epsg(4546)
    bb = gb.boundingbox
    assert (bb.left, bb.bottom, bb.right, bb.top) == pytest.approx(grid.bounds)
    coords = gb.coordinates
    np.testing.assert_allclose(coords["x"].values, grid.x_coords())
    np.testing.assert_allclose(coords["y"].values, grid.y_coords())


# --- assert_on_grid ----------------------------------------------------------------------------


def test_on_grid_accepts_grid_dataarray(grid: AnalysisGrid) -> None:
    da = to_grid_dataarray(np.zeros(grid.shape), grid, "a")
    assert_on_grid(da, grid, "a")
    assert_on_grid(da.to_dataset(), grid, "a")


def test_on_grid_wrong_shape(grid: AnalysisGrid) -> None:
    smaller = AnalysisGrid.from_dict({**grid.to_dict(), "width": grid.width - 1})
    da = to_grid_dataarray(np.zeros(smaller.shape), smaller, "a")
    with pytest.raises(GridMismatchError, match=r"agc_2020\.tif"):
        assert_on_grid(da, grid, "agc_2020.tif")


def test_on_grid_transposed(grid: AnalysisGrid) -> None:
    da = to_grid_dataarray(np.zeros(grid.shape), grid, "a").transpose("x", "y")
    # same sizes per dim: accepted, since dims are looked up by name
    assert_on_grid(da, grid, "a")
    with pytest.raises(GridMismatchError):
        assert_on_grid(da.isel(x=slice(1, None)), grid, "a")


@pytest.mark.parametrize("dim", ["x", "y"])
def test_on_grid_shifted_half_pixel(grid: AnalysisGrid, dim: str) -> None:
    da = to_grid_dataarray(np.zeros(grid.shape), grid, "a")
    shifted = da.assign_coords({dim: da[dim].values + grid.pixel_size_m / 2})
    with pytest.raises(GridMismatchError, match=r"a\.tif"):
        assert_on_grid(shifted, grid, "a.tif")


def test_on_grid_shifted_one_pixel_zone_prefixed_easting() -> None:
    # CGCS2000 GK zone 38 (EPSG:4526) writes eastings as 38 500 000 + x: a one-pixel shift is
    # tiny relative to the coordinate but must still be refused
    grid = AnalysisGrid.from_extent(
        box(38_500_000, 4_100_000, 38_500_900, 4_100_900), "EPSG:4526", 30
    )
    da = to_grid_dataarray(np.zeros(grid.shape), grid, "a")
    with pytest.raises(GridMismatchError):
        assert_on_grid(da.assign_coords(x=da["x"].values + 30.0), grid, "a")


def test_on_grid_tiny_float_noise_accepted(grid: AnalysisGrid) -> None:
    da = to_grid_dataarray(np.zeros(grid.shape), grid, "a")
    assert_on_grid(da.assign_coords(x=da["x"].values + 1e-6), grid, "a")


def test_on_grid_other_crs(grid: AnalysisGrid) -> None:
    da = to_grid_dataarray(np.zeros(grid.shape), grid, "a").rio.write_crs("EPSG:32649")
    with pytest.raises(GridMismatchError) as info:
        assert_on_grid(da, grid, "b.tif")
    assert "b.tif" in str(info.value)


def test_grid_mismatch_is_value_error() -> None:
    assert issubclass(GridMismatchError, ValueError)
    assert issubclass(GridMismatchError, MinecarbonError)


def test_to_grid_dataarray_in_fresh_interpreter() -> None:
    # to_grid_dataarray uses the .rio accessor; it must work without the caller importing
    # rioxarray first (this module imports it, so check in a clean process)
    code = (
        "import numpy as np\n"
        "from minecarbon.grid import AnalysisGrid\n"
        "from minecarbon.io.raster import to_grid_dataarray\n"
        "g = AnalysisGrid('EPSG:4546', 30.0, 0.0, 90.0, 3, 3)\n"
        "da = to_grid_dataarray(np.zeros(g.shape), g, 'a')\n"
        "assert da.rio.crs.to_epsg() == 4546\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]



def test_cells_of_points_by_hand() -> None:
    grid = AnalysisGrid("EPSG:4546", 30.0, 1000.0, 5000.0, 4, 3)  # x 1000–1120, y 4910–5000
    row, col, inside = grid.cells([1000.0, 1029.9, 1030.0, 1119.9, 999.9, 1050.0, 1050.0],
                                  [5000.0, 4970.1, 4970.0, 4910.1, 4990.0, 5000.1, 4910.0])
    # an edge belongs to the pixel east of it and south of it; outside on every side
    assert row.tolist()[:4] == [0, 0, 1, 2] and col.tolist()[:4] == [0, 0, 1, 3]
    assert inside.tolist() == [True, True, True, True, False, False, False]
    assert (row[5], col[4], row[6]) == (-1, -1, 3)
