"""Terrain from a DEM (F6): known answers, the ArcGIS worked examples, xarray-spatial as oracle."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
import xarray as xr

from minecarbon.errors import GeographicCRSError, InputDataError
from minecarbon.features import terrain as t

X0, Y_MAX = 500_000.0, 4_000_000.0


def _dem(z: np.ndarray, pixel: float = 10.0, crs: str | None = "EPSG:4546") -> xr.DataArray:
    """A north-up DEM with pixel-centre coordinates."""
    z = np.asarray(z, dtype=np.float64)
    ny, nx = z.shape
    da = xr.DataArray(
        z,
        dims=("y", "x"),
        coords={
            "y": Y_MAX - (np.arange(ny) + 0.5) * pixel,
            "x": X0 + (np.arange(nx) + 0.5) * pixel,
        },
        name="dem",
    )
    return da.rio.write_crs(crs) if crs else da


def _xy(shape: tuple[int, int], pixel: float) -> tuple[np.ndarray, np.ndarray]:
    """Easting and northing (m) of every pixel centre, relative to the array's centre."""
    ny, nx = shape
    y = -(np.arange(ny) - (ny - 1) / 2) * pixel
    x = (np.arange(nx) - (nx - 1) / 2) * pixel
    return np.meshgrid(x, y)


def _inner(a: xr.DataArray | np.ndarray, ring: int = 1) -> np.ndarray:
    return np.asarray(a)[ring:-ring, ring:-ring]


# ------------------------------------------------------------------ ArcGIS worked examples
def test_slope_matches_the_arcgis_how_slope_works_example() -> None:
    # ArcGIS help, "How Slope works": cell size 5, rows 50 45 50 / 30 30 30 / 8 10 10;
    # dz/dx = 0.05, dz/dy = -3.8, rise_run = 3.80032, slope = 75.25762 degrees.
    dem = _dem([[50, 45, 50], [30, 30, 30], [8, 10, 10]], pixel=5.0)
    assert float(t.slope(dem)[1, 1]) == pytest.approx(75.25762, abs=1e-4)


def test_aspect_matches_the_arcgis_how_aspect_works_example() -> None:
    # ArcGIS help, "How Aspect works": rows 101 92 85 / 101 92 85 / 101 91 84 -> 92.64 degrees.
    dem = _dem([[101, 92, 85], [101, 92, 85], [101, 91, 84]], pixel=5.0)
    assert float(t.aspect(dem)[1, 1]) == pytest.approx(92.64, abs=5e-3)


def test_window_measures_on_the_slope_example_by_hand() -> None:
    # Riley et al. (1999) TRI = sqrt(sum (z_i - z_0)^2): 20² 15² 20² 0 0 22² 20² 20² = 2309;
    # Wilson et al. (2007) mean |z_i - z_0| = 117 / 8; Weiss (2001) TPI = 30 - 233 / 8.
    dem = _dem([[50, 45, 50], [30, 30, 30], [8, 10, 10]], pixel=5.0)
    assert float(t.tri(dem)[1, 1]) == pytest.approx(np.sqrt(2309.0), rel=1e-6)
    assert float(t.tri(dem, "wilson")[1, 1]) == pytest.approx(14.625, rel=1e-6)
    assert float(t.tpi(dem)[1, 1]) == pytest.approx(0.875, rel=1e-6)
    assert float(t.relief(dem)[1, 1]) == 42.0
    with pytest.raises(InputDataError, match="TRI method"):
        t.tri(dem, "bogus")  # type: ignore[arg-type]


# --------------------------------------------------------------------- analytic surfaces
@pytest.mark.parametrize(
    ("gx", "gy", "expected_aspect"),
    [
        (0.0, 0.3, 180.0),  # rises to the north, so it faces south
        (0.3, 0.0, 270.0),  # rises to the east, faces west
        (0.0, -0.3, 0.0),  # rises to the south, faces north
        (-0.3, 0.0, 90.0),
        (0.2, 0.2, 225.0),  # rises to the north-east, faces south-west
        (-0.1, 0.1 * np.sqrt(3.0), 150.0),  # uphill bearing 330 degrees
    ],
)
def test_tilted_plane_has_exact_slope_and_aspect_and_no_curvature(
    gx: float, gy: float, expected_aspect: float
) -> None:
    x, y = _xy((9, 11), 10.0)
    dem = _dem(700.0 + gx * x + gy * y)
    ds = t.terrain_features(dem, window=5)
    g = np.hypot(gx, gy)
    np.testing.assert_allclose(_inner(ds.slope_deg), np.degrees(np.arctan(g)), atol=1e-4)
    aspect = _inner(ds.aspect_deg)
    np.testing.assert_allclose((aspect - expected_aspect + 180) % 360 - 180, 0.0, atol=1e-4)
    rad = np.radians(expected_aspect)
    np.testing.assert_allclose(_inner(ds.northness), np.cos(rad), atol=1e-6)
    np.testing.assert_allclose(_inner(ds.eastness), np.sin(rad), atol=1e-6)
    for name in ("curvature", "profile_curvature", "plan_curvature"):
        np.testing.assert_allclose(_inner(ds[name]), 0.0, atol=1e-5)
    np.testing.assert_allclose(_inner(ds.tpi_m, 2), 0.0, atol=1e-5)  # 5 x 5 window
    # relief over a 5 x 5 window of a plane: 4 pixels of rise along each axis
    np.testing.assert_allclose(_inner(ds.relief_m, 2), 40 * (abs(gx) + abs(gy)), atol=1e-4)


def test_flat_cells_have_no_aspect_and_zero_northness_eastness() -> None:
    ds = t.terrain_features(_dem(np.full((5, 5), 321.0)))
    assert np.isnan(_inner(ds.aspect_deg)).all()
    for name in ("slope_deg", "northness", "eastness", "curvature", "tri_m", "relief_m"):
        np.testing.assert_array_equal(_inner(ds[name]), 0.0)


def test_paraboloid_has_the_analytic_zevenbergen_thorne_curvatures() -> None:
    # z = -(x² + y²) / (2R): D = E = -1/(2R) exactly for a quadratic, so the ArcGIS total
    # curvature -2(D + E)·100 = 200/R. Along and across the radial slope the second
    # derivative is -1/R: profile = -100/R (ArcGIS: negative = upwardly convex) and
    # plan = +100/R (positive = sidewardly convex); plan - profile = total.
    r = 500.0
    x, y = _xy((11, 11), 10.0)
    dem = _dem(900.0 - (x**2 + y**2) / (2 * r))
    np.testing.assert_allclose(_inner(t.curvature(dem)), 200.0 / r, rtol=1e-5)
    prof, plan = _inner(t.profile_curvature(dem)), _inner(t.plan_curvature(dem))
    off_centre = np.ones_like(prof, dtype=bool)
    off_centre[4, 4] = False  # the summit has no slope direction: both are set to 0
    np.testing.assert_allclose(prof[off_centre], -100.0 / r, rtol=1e-5)
    np.testing.assert_allclose(plan[off_centre], 100.0 / r, rtol=1e-5)
    assert prof[4, 4] == plan[4, 4] == 0.0


def test_sphere_cap_curvature_approaches_200_over_r_at_the_top() -> None:
    r = 2000.0
    x, y = _xy((7, 7), 5.0)
    dem = _dem(np.sqrt(r**2 - x**2 - y**2), pixel=5.0)
    assert float(t.curvature(dem)[3, 3]) == pytest.approx(200.0 / r, rel=1e-4)


def test_profile_and_plan_separate_curvature_along_and_across_the_slope() -> None:
    # z = 0.2 y + k y²: a slope facing south, curved only along it, so profile = 200 k
    # (ArcGIS sign: k < 0 is upwardly convex, negative) and plan = 0; z = 0.2 y + k x²:
    # curved only across it where x = 0, so there profile = 0 and plan = -200 k.
    k = -0.004
    x, y = _xy((7, 7), 10.0)
    along = _dem(500.0 + 0.2 * y + k * y**2)
    np.testing.assert_allclose(_inner(t.profile_curvature(along)), 200 * k, atol=1e-6)
    np.testing.assert_allclose(_inner(t.plan_curvature(along)), 0.0, atol=1e-6)
    across = _dem(500.0 + 0.2 * y + k * x**2)  # on the line x = 0 the slope is due south
    np.testing.assert_allclose(t.profile_curvature(across)[1:-1, 3], 0.0, atol=1e-6)
    np.testing.assert_allclose(t.plan_curvature(across)[1:-1, 3], -200 * k, atol=1e-6)
    np.testing.assert_allclose(t.curvature(across)[1:-1, 3], -200 * k, atol=1e-6)


def test_south_up_coordinates_give_the_same_answers() -> None:
    rng = np.random.default_rng(2)
    z = rng.normal(500, 20, (8, 9))
    north_up = t.terrain_features(_dem(z))
    flipped = _dem(z)[::-1]  # same terrain, rows stored south to north
    south_up = t.terrain_features(flipped).isel(y=slice(None, None, -1))
    for name in north_up:
        np.testing.assert_allclose(south_up[name], north_up[name], atol=1e-5, err_msg=name)


# ------------------------------------------------------------------ windows, NaN and edges
def test_nan_neighbour_and_edges_give_nan() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(500, 10, (13, 13))
    z[6, 6] = np.nan
    ds = t.terrain_features(_dem(z), window=5)
    for name in ("slope_deg", "aspect_deg", "tri_m", "curvature", "plan_curvature", "northness"):
        a = ds[name].values
        assert np.isnan(a[5:8, 5:8]).all(), name  # the NaN cell and its 8 neighbours
        assert np.isnan(a[0]).all() and np.isnan(a[:, -1]).all(), name  # outer ring
        assert not np.isnan(a[4, 4]) and not np.isnan(a[1, 1]), name
        assert np.isnan(a).sum() == 9 + 4 * 12, name
    for name in ("relief_m", "tpi_m"):  # 5 x 5 window: two rings, and 2 pixels around a NaN
        a = ds[name].values
        assert np.isnan(a[4:9, 4:9]).all() and np.isnan(a[1]).all() and np.isnan(a[:, -2]).all()
        assert not np.isnan(a[3, 3]) and not np.isnan(a[2, 2])
        assert np.isnan(a).sum() == 25 + (13 * 13 - 9 * 9)


def test_windowed_relief_and_tpi_match_scipy_filters() -> None:
    rng = np.random.default_rng(1)
    z = rng.normal(600, 30, (20, 23))
    dem = _dem(z)
    w = 7
    footprint = np.ones((w, w), bool)
    ring = footprint.copy()
    ring[w // 2, w // 2] = False
    expected_relief = ndi.generic_filter(z, np.ptp, size=w, mode="constant", cval=np.nan)
    neighbours_mean = ndi.generic_filter(z, np.mean, footprint=ring, mode="constant", cval=np.nan)
    np.testing.assert_allclose(t.relief(dem, w), expected_relief, rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(t.tpi(dem, w), z - neighbours_mean, atol=1e-4, equal_nan=True)
    ds = t.terrain_features(dem, window=3, tpi_window=w)
    assert ds.tpi_m.attrs["window"] == w and ds.relief_m.attrs["window"] == 3


@pytest.mark.parametrize("window", [2, 1, 4, 3.0])
def test_bad_windows_are_refused(window: object) -> None:
    with pytest.raises(InputDataError, match="odd"):
        t.terrain_features(_dem(np.zeros((5, 5))), window=window)  # type: ignore[arg-type]


# -------------------------------------------------------------------------- input checks
def test_degrees_are_refused() -> None:
    z = np.zeros((5, 5))
    lonlat = xr.DataArray(
        z, dims=("y", "x"), coords={"y": 37 - np.arange(5) * 1e-4, "x": 112 + np.arange(5) * 1e-4}
    )
    with pytest.raises(GeographicCRSError, match="degrees") as err:
        t.slope(lonlat)
    assert "fix" in str(err.value)
    with pytest.raises(GeographicCRSError):
        t.slope(_dem(z, crs="EPSG:4326"))


def test_bad_shapes_and_pixels_are_refused() -> None:
    with pytest.raises(InputDataError, match="dims"):
        t.slope(_dem(np.zeros((4, 4))).expand_dims(band=[1]))
    rect = _dem(np.zeros((4, 4))).assign_coords(x=X0 + np.arange(4) * 12.0)
    with pytest.raises(InputDataError, match="non-square"):
        t.slope(rect)
    uneven = _dem(np.zeros((4, 4))).assign_coords(x=X0 + np.array([0.0, 10, 20, 35]))
    with pytest.raises(InputDataError, match="irregular"):
        t.slope(uneven)


def test_outputs_keep_coords_crs_and_are_float32() -> None:
    dem = _dem(np.random.default_rng(3).normal(500, 5, (6, 6)).astype(np.float32))
    ds = t.terrain_features(dem)
    assert list(ds.data_vars) == list(t.VARIABLES)
    assert ds.rio.crs == dem.rio.crs
    assert all(ds[v].dtype == np.float32 for v in ds)
    np.testing.assert_array_equal(ds.x, dem.x)
    np.testing.assert_array_equal(ds.elevation_m, dem)
    assert ds.slope_deg.attrs["units"] == "degree"


# ---------------------------------------------------------------------------------- dask
def test_dask_is_lazy_and_equals_numpy_with_small_chunks() -> None:
    import dask.array as dsa

    rng = np.random.default_rng(5)
    z = rng.normal(700, 25, (37, 41))
    z[10, 12] = np.nan
    dem = _dem(z)
    calls = []

    def record(block: np.ndarray) -> np.ndarray:
        calls.append(block.shape)
        return block

    lazy_data = dsa.from_array(z, chunks=(8, 9)).map_blocks(record, meta=np.array((), float))
    lazy = dem.copy(data=lazy_data)
    ds_lazy = t.terrain_features(lazy, window=5, tpi_window=7)
    assert not calls
    assert all(isinstance(ds_lazy[v].data, dsa.Array) for v in ds_lazy)
    ds = t.terrain_features(dem, window=5, tpi_window=7)
    computed = ds_lazy.compute()
    assert calls
    for name in ds:
        np.testing.assert_allclose(computed[name], ds[name], rtol=1e-7, equal_nan=True)


# ----------------------------------------------------------------- xarray-spatial oracle
@pytest.fixture
def real_dem() -> xr.DataArray:
    from tests.conftest import shared_path

    z = np.load(shared_path("eolearn_testeopatch", "data_timeless_DEM.npy"))[..., 0]
    ny, nx = z.shape
    da = xr.DataArray(
        z,
        dims=("y", "x"),
        coords={
            "y": 5_080_250.0 - (np.arange(ny) + 0.5) * 10.0,
            "x": 465_180.0 + (np.arange(nx) + 0.5) * 10.0,
        },
        name="DEM",
    )
    return da.rio.write_crs("EPSG:32633")


@pytest.mark.shared
def test_slope_aspect_curvature_agree_with_xarray_spatial(real_dem: xr.DataArray) -> None:
    xrspatial = pytest.importorskip("xrspatial")
    ds = t.terrain_features(real_dem)
    # slope: xrspatial's planar slope is the same Horn formula (float32 arithmetic)
    np.testing.assert_allclose(_inner(ds.slope_deg), _inner(xrspatial.slope(real_dem)), atol=1e-4)
    # aspect: same ArcGIS formula; flat cells are -1 there, NaN here
    theirs = _inner(xrspatial.aspect(real_dem))
    ours = _inner(ds.aspect_deg)
    flat = np.isnan(ours)
    assert flat.any() and (theirs[flat] == -1).all()
    diff = (ours[~flat] - theirs[~flat] + 180) % 360 - 180
    np.testing.assert_allclose(diff, 0.0, atol=1e-4)
    # curvature: same -2(D + E)·100 (Zevenbergen & Thorne as ArcGIS), same sign and units
    np.testing.assert_allclose(
        _inner(ds.curvature), _inner(xrspatial.curvature(real_dem)), atol=1e-4
    )
    # edges: both leave the outer ring NaN
    assert np.isnan(xrspatial.slope(real_dem).values[0]).all() and np.isnan(ds.slope_deg[0]).all()


@pytest.mark.shared
def test_total_curvature_is_plan_minus_profile_on_a_real_dem(real_dem: xr.DataArray) -> None:
    # Esri technical article 000005001: curvature = plan curvature - profile curvature.
    ds = t.terrain_features(real_dem)
    zt = t._zt_terms(real_dem)
    sloped = _inner(zt["G"] ** 2 + zt["H"] ** 2) > 0
    total = _inner(ds.curvature)[sloped]
    np.testing.assert_allclose(
        _inner(ds.plan_curvature - ds.profile_curvature)[sloped], total, atol=1e-5
    )
    assert np.abs(total).max() > 1  # the DEM is not trivially flat
