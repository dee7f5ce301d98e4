"""Getis–Ord Gi* (A5) against esda/libpysal, the golden numbers and scipy's BH procedure.

Golden numbers: /work/shared/reference/golden_numbers.md §1.5 — the esda doctest
(pysal/esda ``esda/getisord.py`` @ 11450be3, 6 points, DistanceBand(15), transform 'B',
star=True) and libpysal's Columbus polygons (CRIME, queen contiguity).

esda's ``G_Local(y, w, transform='B', star=True)`` puts 1 on the diagonal of a weights matrix
whose diagonal is zero (``_infer_star_and_structure_w``): its Gi* counts each feature as its own
neighbour with weight 1, the ArcGIS convention, so its Zs are compared with ours directly.
"""

from __future__ import annotations

import warnings

import dask.array as dsa
import esda
import libpysal
import numpy as np
import pytest
import rioxarray  # noqa: F401
import scipy.stats
import xarray as xr

from minecarbon.assessment.hotspots import (
    bh_critical_p,
    disk_halfwidths,
    gi_star,
    gi_star_points,
    gi_star_weights,
)
from minecarbon.errors import GeographicCRSError, InputDataError
from tests.conftest import shared_path

DOCTEST_POINTS = [(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)]
DOCTEST_Y = np.array([2, 3, 3.2, 5, 8, 7])
# esda getisord.py doctest, G_Local(y, w, transform='B', star=True).Zs
DOCTEST_ZS = [-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331]
# golden_numbers.md §1.5: Columbus CRIME, queen, binary, star=True
COLUMBUS_ZS = [-1.43278, -1.340008, -0.771999, -0.131733, 1.285363, 0.068648, 0.661365, 1.013024]
COLUMBUS_BINS = {-3: 2, -2: 5, -1: 3, 0: 24, 1: 4, 2: 4, 3: 7}


def esda_gi_star(values: np.ndarray, w: libpysal.weights.W) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.G_Local(values, w, transform="B", star=True, permutations=0).Zs


def raster(rows: int = 30, cols: int = 40, dx: float = 30.0, dy: float = 30.0,
           seed: int = 0) -> xr.DataArray:
    rng = np.random.default_rng(seed)
    a = rng.gamma(2.0, 30.0, (rows, cols))
    a[:12, :15] += 60.0  # a hot corner
    a[rng.random(a.shape) < 0.15] = np.nan
    a[5:9, 20:26] = np.nan  # a hole (non-forest)
    return xr.DataArray(a, dims=("y", "x"), name="agc",
                        coords={"y": 4_100_000.0 - dy * np.arange(rows),
                                "x": 500_000.0 + dx * np.arange(cols)})


def esda_on_raster(da: xr.DataArray, distance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """esda Gi* on the centres of the valid cells with DistanceBand(distance_m), binary."""
    yy, xx = np.meshgrid(da.y.values, da.x.values, indexing="ij")
    valid = ~np.isnan(da.values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = libpysal.weights.DistanceBand(np.column_stack([xx[valid], yy[valid]]),
                                          threshold=distance_m, binary=True)
    return valid, esda_gi_star(da.values[valid], w)


# --------------------------------------------------------------------------- vector versions
def test_points_doctest_example() -> None:
    result = gi_star_points(DOCTEST_Y, DOCTEST_POINTS, 15.0)
    np.testing.assert_allclose(result.z, DOCTEST_ZS, atol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = libpysal.weights.DistanceBand(DOCTEST_POINTS, threshold=15)
    np.testing.assert_allclose(result.z, esda_gi_star(DOCTEST_Y, w), rtol=0, atol=1e-9)


@pytest.mark.shared
def test_columbus_queen_matches_esda_and_golden() -> None:
    shp = shared_path("libpysal_columbus", "columbus.shp")
    import geopandas as gpd

    crime = gpd.read_file(shp)["CRIME"].to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = libpysal.weights.Queen.from_shapefile(str(shp))
    result = gi_star_weights(crime, w.sparse)
    np.testing.assert_allclose(result.z, esda_gi_star(crime, w), rtol=0, atol=1e-9)
    np.testing.assert_allclose(result.z[:8], COLUMBUS_ZS, atol=1e-6)
    values, counts = np.unique(result.bin, return_counts=True)
    assert dict(zip(values.tolist(), counts.tolist(), strict=True)) == COLUMBUS_BINS
    # p two-sided: esda's p_norm is the one-sided tail sf(|z|)
    np.testing.assert_allclose(result.p, 2 * scipy.stats.norm.sf(np.abs(result.z)), rtol=1e-12)


@pytest.mark.shared
def test_columbus_gal_file_gives_the_same_weights() -> None:
    gal = shared_path("libpysal_columbus", "columbus.gal")
    shp = shared_path("libpysal_columbus", "columbus.shp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_gal = libpysal.io.open(str(gal)).read()
        queen = libpysal.weights.Queen.from_shapefile(str(shp))
    assert (from_gal.sparse != queen.sparse).nnz == 0


def test_general_weights_follow_the_arcgis_formula() -> None:
    """Inverse-distance weights (esda cannot: it binarises), the ArcGIS formula written out."""
    xy = np.asarray(DOCTEST_POINTS, dtype=float)
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    w = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 1.0)  # self weight 1
    x, n = DOCTEST_Y, len(DOCTEST_Y)
    mean, s = x.mean(), np.sqrt((x**2).mean() - x.mean() ** 2)
    expected = [(w[i] @ x - mean * w[i].sum())
                / (s * np.sqrt((n * (w[i] ** 2).sum() - w[i].sum() ** 2) / (n - 1)))
                for i in range(n)]
    np.testing.assert_allclose(gi_star_weights(x, w - np.eye(n)).z, expected, rtol=1e-12)


def test_nan_features_are_left_out() -> None:
    y = np.append(DOCTEST_Y, np.nan)
    pts = [*DOCTEST_POINTS, (12, 12)]
    result = gi_star_points(y, pts, 15.0)
    np.testing.assert_allclose(result.z[:6], DOCTEST_ZS, atol=1e-8)
    assert np.isnan(result.z[6]) and np.isnan(result.p[6]) and result.bin[6] == 0


# ----------------------------------------------------------------------------------- rasters
def test_disk_kernel_counts_gauss_circle() -> None:
    # lattice points with x² + y² ≤ r²: 29 for r = 3, 81 for r = 5 (OEIS A000328); the 3-4-5
    # triangle is on the boundary of r = 5, so "≤" matters
    assert (2 * disk_halfwidths(90.0, 30.0, 30.0) + 1).sum() == 29
    assert disk_halfwidths(150.0, 30.0, 30.0).tolist() == [0, 3, 4, 4, 4, 5, 4, 4, 4, 3, 0]


@pytest.mark.parametrize(("distance_m", "dx", "dy"), [(90.0, 30.0, 30.0), (150.0, 30.0, 30.0),
                                                      (45.0, 30.0, 30.0), (100.0, 30.0, 20.0)])
def test_raster_matches_esda_distance_band(distance_m: float, dx: float, dy: float) -> None:
    da = raster(dx=dx, dy=dy)
    result = gi_star(da, distance_m)
    valid, zs = esda_on_raster(da, distance_m)
    np.testing.assert_allclose(result.z.values[valid], zs, rtol=0, atol=1e-9)
    assert np.isnan(result.z.values[~valid]).all() and np.isnan(result.p.values[~valid]).all()
    assert (result.bin.values[~valid] == 0).all()
    assert result.attrs["n_valid"] == valid.sum()


def test_raster_bins_follow_arcgis_critical_z() -> None:
    result = gi_star(raster(), 90.0)
    z, bins = result.z.values, result.bin.values
    expected = np.sign(z) * ((np.abs(z) >= 1.645).astype(int) + (np.abs(z) >= 1.960)
                             + (np.abs(z) >= 2.576))
    np.testing.assert_array_equal(bins, np.nan_to_num(expected))
    assert bins.dtype == np.int8 and (bins == 3).any() and (bins != 0).sum() < bins.size / 2


def test_dask_equals_numpy_and_stays_lazy() -> None:
    da = raster()
    eager = gi_star(da, 150.0)
    lazy = gi_star(da.chunk({"y": 7, "x": 9}), 150.0)  # chunks smaller than the 5 px radius
    assert all(isinstance(lazy[v].data, dsa.Array) for v in ("z", "p", "bin"))
    computed = lazy.compute()
    np.testing.assert_allclose(computed.z.values, eager.z.values, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(computed.bin.values, eager.bin.values)
    assert computed.attrs["mean"] == pytest.approx(eager.attrs["mean"], rel=1e-13)


def test_coords_crs_and_year_dimension_kept() -> None:
    da = raster().rio.write_crs("EPSG:4546")
    stack = xr.concat([da, da**1.5], dim="year")
    stack = stack.assign_coords(year=[2020, 2021])
    result = gi_star(stack, 90.0)
    assert result.z.dims == ("year", "y", "x") and result.rio.crs.to_epsg() == 4546
    np.testing.assert_array_equal(result.x.values, da.x.values)
    for i in range(2):
        np.testing.assert_allclose(result.z.values[i], gi_star(stack[i], 90.0).z.values,
                                   equal_nan=True)


def test_all_cells_neighbours_gives_no_z() -> None:
    # Σw = n for every cell: the variance term n Σw² − (Σw)² is 0 and z is undefined
    result = gi_star(raster(rows=3, cols=3), 1000.0)
    assert np.isnan(result.z.values).all() and (result.bin.values == 0).all()


# -------------------------------------------------------------------------------------- FDR
def test_bh_critical_p_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(0, 1, 400), rng.uniform(0, 0.004, 60)])
    for alpha in (0.01, 0.05, 0.10):
        reject = scipy.stats.false_discovery_control(p, method="bh") <= alpha
        np.testing.assert_array_equal(p <= bh_critical_p(p, alpha), reject)
    assert bh_critical_p([0.5, 0.9], 0.05) == 0.0
    # Benjamini & Hochberg (1995) worked example: 15 p-values, q = 0.05 → 4 rejections
    bh95 = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240,
            0.4262, 0.5719, 0.6528, 0.7590, 1.0]
    assert bh_critical_p(bh95, 0.05) == 0.0095


def test_fdr_bins_use_bh_per_confidence_level() -> None:
    da = raster()
    plain, fdr = gi_star(da, 150.0), gi_star(da, 150.0, fdr=True)
    p, z = fdr.p.values, fdr.z.values
    valid = ~np.isnan(p)
    expected = np.zeros(p.shape, dtype=int)
    for level, alpha in ((1, 0.10), (2, 0.05), (3, 0.01)):
        adjusted = np.full(p.shape, np.inf)
        adjusted[valid] = scipy.stats.false_discovery_control(p[valid], method="bh")
        expected = np.where(adjusted <= alpha, level, expected)
    np.testing.assert_array_equal(fdr.bin.values, np.sign(np.nan_to_num(z)) * expected)
    assert (np.abs(fdr.bin.values) <= np.abs(plain.bin.values)).all()
    assert (fdr.bin.values != 0).any()
    lazy = gi_star(da.chunk(11), 150.0, fdr=True)
    np.testing.assert_array_equal(lazy.bin.values, fdr.bin.values)
    assert lazy.attrs["fdr_critical_p_95"] == fdr.attrs["fdr_critical_p_95"]


# -------------------------------------------------------------------------------- bad input
def test_distance_below_a_pixel_is_refused() -> None:
    with pytest.raises(InputDataError, match="smaller than the pixel") as info:
        gi_star(raster(), 29.0)
    assert info.value.fix is not None
    with pytest.raises(InputDataError, match="positive"):
        gi_star(raster(), -5.0)


def test_all_nan_and_constant_maps_are_refused() -> None:
    da = raster()
    with pytest.raises(InputDataError, match="'agc' has no valid"):
        gi_star(da * np.nan, 90.0)
    with pytest.raises(InputDataError, match="all equal"):
        gi_star(da * 0 + 5.0, 90.0)
    with pytest.raises(InputDataError, match="no valid"):
        gi_star((da * np.nan).chunk(10), 90.0)


def test_wrong_dims_and_geographic_crs_are_refused() -> None:
    da = raster()
    with pytest.raises(InputDataError, match="dims"):
        gi_star(da.rename({"x": "lon"}), 90.0)
    with pytest.raises(GeographicCRSError):
        gi_star(da.rio.write_crs("EPSG:4326"), 90.0)
    with pytest.raises(InputDataError, match="weights are 3 × 3"):
        gi_star_weights(DOCTEST_Y, np.eye(3))
