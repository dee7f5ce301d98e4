"""Synthetic Landsat/Sentinel-2 reflectance, clouds, Collection-2 scaling and QA_PIXEL bits."""

from __future__ import annotations

import numpy as np
import pytest

from minecarbon.demo import imagery as im
from minecarbon.types import LandCover

PIXEL = 30.0
X0, Y0 = 500_000.0, 4_100_000.0


def grid(ny: int, nx: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre map coordinates, north up (y decreases down the rows)."""
    xs = X0 + (np.arange(nx) + 0.5) * PIXEL
    ys = Y0 - (np.arange(ny) + 0.5) * PIXEL
    return np.meshgrid(xs, ys)


def uniform_scene(lc: int, month: int, *, species: int = 0, cover: float = 0.9,
                  agc: float = 60.0, n: int = 20, seed: int = 3, year: int = 2020,
                  sensor: str = "oli") -> np.ndarray:
    x, y = grid(n, n)
    shape = x.shape
    return im.surface_reflectance(np.full(shape, lc), np.full(shape, cover),
                                  np.full(shape, species), np.full(shape, agc), np.ones(shape),
                                  month, x, y, seed, year, sensor=sensor)


def ndvi(rho: np.ndarray) -> np.ndarray:
    return (rho[3] - rho[2]) / (rho[3] + rho[2])


def mixed_truth(ny: int, nx: int) -> dict[str, np.ndarray]:
    """Every land-cover class and species, varying cover, AGC and illumination."""
    rows, cols = np.indices((ny, nx))
    return {
        "landcover": 1 + (rows // 5 + cols // 7) % 7,
        "cover": 0.3 + 0.6 * ((rows * 7 + cols * 3) % 11) / 10,
        "species": 1 + (rows + 2 * cols) % 7,
        "agc_t_per_ha": 5.0 + 3.0 * ((rows * cols) % 30),
        "illumination": 0.5 + 0.7 * ((rows + cols) % 9) / 8,
    }


def full_scene(ny: int, nx: int, rows: slice, cols: slice, seed: int = 11) -> dict[str, np.ndarray]:
    x, y = grid(ny, nx)
    x, y = x[rows, cols], y[rows, cols]
    truth = {k: v[rows, cols] for k, v in mixed_truth(ny, nx).items()}
    rho = im.surface_reflectance(**truth, month=7, x=x, y=y, seed=seed, year=2021)
    cloud, shadow = im.cloud_and_shadow(x, y, seed, 2021, 7, 0.3)
    dil = im.dilated_cloud(x, y, seed, 2021, 7, 0.3)
    scene = im.apply_clouds(rho, cloud, shadow, x, y, seed, 2021, 7)
    qa = im.qa_pixel(cloud, shadow, truth["landcover"] == LandCover.WATER, dilated=dil)
    return {"rho": rho, "scene": scene, "cloud": cloud, "shadow": shadow, "qa": qa}


def test_constants() -> None:
    assert im.OLI_BANDS == ("blue", "green", "red", "nir", "swir1", "swir2")
    assert len(im.S2_BANDS) == 10
    assert im.leaf_off_month == 3
    assert im.growing_season_months == (6, 7, 8, 9)
    assert set(im.endmembers("s2")) == set(im.endmembers("oli"))


def test_deterministic_and_seeded() -> None:
    a = full_scene(20, 24, slice(None), slice(None))
    b = full_scene(20, 24, slice(None), slice(None))
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    c = full_scene(20, 24, slice(None), slice(None), seed=12)
    assert not np.array_equal(a["rho"], c["rho"])
    assert a["rho"].dtype == np.float32 and a["rho"].shape == (6, 20, 24)
    assert np.all((a["rho"] >= 0) & (a["rho"] <= 1))


def test_chunk_independence() -> None:
    ny, nx = 40, 60
    whole = full_scene(ny, nx, slice(None), slice(None))
    halves_y, halves_x = (slice(0, 20), slice(20, 40)), (slice(0, 30), slice(30, 60))
    for key, arr in whole.items():
        out = np.empty_like(arr)
        for rows in halves_y:
            for cols in halves_x:
                out[..., rows, cols] = full_scene(ny, nx, rows, cols)[key]
        assert np.array_equal(out, arr), key
    assert whole["cloud"].any() and whole["shadow"].any()


def test_ndvi_of_classes() -> None:
    forest = ndvi(uniform_scene(LandCover.FOREST, 7, species=4))
    assert forest.mean() > 0.7 and np.percentile(forest, 5) > 0.65
    assert np.median(ndvi(uniform_scene(LandCover.MINING, 7, n=40))) < 0.15
    assert np.median(ndvi(uniform_scene(LandCover.WATER, 7, n=40))) < 0.0
    water = uniform_scene(LandCover.WATER, 7, n=40)
    assert np.median(water[3]) < np.median(water[1])  # NIR below green


def test_evergreen_separable_from_deciduous_in_march() -> None:
    def rvi(rho: np.ndarray) -> float:
        return float(np.mean(rho[3] / rho[2]))

    for evergreen in (1, 2):
        for deciduous in (3, 4, 5, 6, 7):
            ev = uniform_scene(LandCover.FOREST, im.leaf_off_month, species=evergreen)
            de = uniform_scene(LandCover.FOREST, im.leaf_off_month, species=deciduous)
            assert rvi(ev) > 2.0 * rvi(de)
            assert ndvi(ev).mean() > ndvi(de).mean() + 0.25
            for sp in (evergreen, deciduous):
                assert ndvi(uniform_scene(LandCover.FOREST, 7, species=sp)).mean() > 0.65


def test_phenology_separates_species() -> None:
    def series(sp: int) -> np.ndarray:
        return np.array([ndvi(uniform_scene(LandCover.FOREST, m, species=sp)).mean()
                         for m in range(1, 13)])

    larch, robinia, populus = series(3), series(4), series(5)
    peaks = {int(np.argmax(s)) + 1 for s in (larch, robinia, populus)}
    assert len(peaks) == 3
    assert int(np.argmax(populus)) + 1 == 6  # poplar peaks first
    assert int(np.argmax(larch)) + 1 == 8  # larch last
    # Populus leafs out in April, Robinia late (May).
    assert populus[3] > robinia[3] + 0.1 and populus[4] > robinia[4] + 0.1


def test_leaf_on_fraction() -> None:
    months = np.arange(1, 13)
    for sp in (1, 2):
        f = im.leaf_on_fraction(np.full(12, sp), months)
        assert f.min() >= 0.8 and f.max() <= 1.0 and f.max() - f.min() < 0.2
    for sp in (3, 4, 5, 6, 7):
        f = im.leaf_on_fraction(sp, months)
        assert f[[0, 1, 11]].max() < 0.05 and f[[5, 6, 7]].min() > 0.65
    crop = im.leaf_on_fraction(im.CROP_CODE, months)
    assert int(np.argmax(crop)) + 1 in (7, 8) and crop[4] < 0.5
    assert im.leaf_on_fraction(3, 5) < im.leaf_on_fraction(5, 5)  # larch greens later
    per_pixel = im.leaf_on_fraction(np.array([[3, 5]]), np.array([[7, 4]]))
    assert per_pixel.shape == (1, 2)
    with pytest.raises(ValueError, match="month"):
        im.leaf_on_fraction(1, 13)


def test_canopy_signal_saturates_with_agc() -> None:
    nir = {agc: uniform_scene(LandCover.FOREST, 7, species=4, agc=agc)[3].mean()
           for agc in (10.0, 40.0, 80.0, 110.0)}
    red = {agc: uniform_scene(LandCover.FOREST, 7, species=4, agc=agc)[2].mean()
           for agc in (10.0, 40.0, 80.0, 110.0)}
    assert nir[40.0] - nir[10.0] > 5 * abs(nir[110.0] - nir[80.0])
    assert nir[40.0] - nir[10.0] > 0.02
    assert red[10.0] > red[40.0] > red[110.0]


def test_illumination_multiplies() -> None:
    x, y = grid(10, 10)
    ones = np.ones(x.shape)
    args = (np.full(x.shape, 7), ones * 0, np.zeros(x.shape, int), ones * 0)
    lit = im.surface_reflectance(*args, ones, 7, x, y, 1, 2020)
    dim = im.surface_reflectance(*args, ones * 0.5, 7, x, y, 1, 2020)
    assert dim[3].mean() == pytest.approx(0.5 * lit[3].mean(), rel=0.1)


def test_sentinel2_variant_and_errors() -> None:
    rho = uniform_scene(LandCover.FOREST, 7, species=4, sensor="s2")
    assert rho.shape == (10, 20, 20)
    band = {name: rho[i].mean() for i, name in enumerate(im.S2_BANDS)}
    assert band["red"] < band["rededge1"] < band["rededge2"] < band["rededge3"] < band["nir08"]
    with pytest.raises(ValueError, match="sensor"):
        uniform_scene(LandCover.FOREST, 7, sensor="modis")
    x, y = grid(4, 4)
    with pytest.raises(ValueError, match="shape"):
        im.surface_reflectance(np.ones((4, 3), int), x, x, x, x, 7, x, y, 1, 2020)


def test_landsat_c2_scaling_round_trip() -> None:
    rho = np.random.default_rng(0).uniform(0.0, 1.0, (3, 50, 50)).astype(np.float32)
    dn = im.to_landsat_c2_l2(rho)
    assert dn.dtype == np.uint16 and dn.min() >= 1
    assert np.abs(im.from_landsat_c2_l2(dn) - rho).max() <= 2.75e-5
    assert im.to_landsat_c2_l2(np.array([0.0, -1.0, 5.0, np.nan])).tolist() == [7273, 1, 65535, 0]
    assert np.isnan(im.from_landsat_c2_l2(np.array([0], dtype=np.uint16))[0])


def bit(qa: np.ndarray, n: int, width: int = 1) -> np.ndarray:
    return (qa >> n) & ((1 << width) - 1)


def test_qa_pixel_bits() -> None:
    cloud = np.zeros((7, 7), bool)
    cloud[3, 3] = True
    shadow = np.zeros_like(cloud)
    shadow[6, 0] = shadow[3, 3] = True  # the one under the cloud is not a shadow
    water = np.zeros_like(cloud)
    water[0, 6] = water[3, 3] = True
    fill = np.zeros_like(cloud)
    fill[6, 6] = True
    qa = im.qa_pixel(cloud, shadow, water, fill)
    ring = np.zeros_like(cloud)
    ring[2:5, 2:5] = True
    ring[3, 3] = False
    assert np.array_equal(bit(qa, 0) == 1, fill)
    assert np.array_equal(bit(qa, 3) == 1, cloud)
    assert np.array_equal(bit(qa, 1) == 1, ring)
    assert np.array_equal(bit(qa, 4) == 1, shadow & ~cloud)
    assert np.array_equal(bit(qa, 6) == 1, ~cloud & ~ring & ~fill)
    assert np.array_equal(bit(qa, 7) == 1, water & ~cloud)
    assert np.array_equal(bit(qa, 8, 2), np.where(fill, 0, np.where(cloud, 3, 1)))
    assert np.array_equal(bit(qa, 10, 2), np.where(fill, 0, np.where(shadow & ~cloud, 3, 1)))
    assert np.all(bit(qa, 12, 2)[~fill] == 1) and np.all(bit(qa, 14, 2)[~fill] == 1)
    assert np.all(bit(qa, 5)[~fill] == 0)
    # The values of the USGS Collection-2 product guide.
    assert qa[0, 0] == 21824 and qa[0, 6] == 21952 and qa[3, 3] == 22280
    assert qa[6, 0] == 23888 and qa[2, 2] == 21762 and qa[6, 6] == 1
    assert qa.dtype == np.uint16


def test_coordinate_dilation_contains_cloud_and_one_pixel_ring() -> None:
    x, y = grid(60, 60)
    cloud, _ = im.cloud_and_shadow(x, y, 5, 2020, 7, 0.3)
    dil = im.dilated_cloud(x, y, 5, 2020, 7, 0.3)
    assert np.all(dil[cloud])
    interior = (slice(1, -1), slice(1, -1))
    array_dilated = im._dilate_1px(cloud)
    assert np.array_equal(dil[interior], array_dilated[interior])
    qa = im.qa_pixel(cloud, np.zeros_like(cloud), np.zeros_like(cloud), dilated=dil)
    assert np.array_equal(bit(qa, 1) == 1, dil & ~cloud)


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.6])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cloud_fraction(fraction: float, seed: int) -> None:
    x, y = grid(200, 200)
    cloud, shadow = im.cloud_and_shadow(x, y, seed, 2020, 7, fraction)
    assert abs(cloud.mean() - fraction) <= 0.1
    assert not np.any(cloud & shadow)


def test_cloud_fraction_extremes() -> None:
    x, y = grid(30, 30)
    assert not im.cloud_and_shadow(x, y, 1, 2020, 7, 0.0)[0].any()
    assert im.cloud_and_shadow(x, y, 1, 2020, 7, 1.0)[0].all()
    with pytest.raises(ValueError, match="cloud_fraction"):
        im.cloud_and_shadow(x, y, 1, 2020, 7, 1.5)


@pytest.mark.parametrize("azimuth", [135.0, 225.0, 60.0])
def test_shadow_lies_opposite_the_sun(azimuth: float) -> None:
    n = 256
    x, y = grid(n, n)
    cloud, shadow = im.cloud_and_shadow(x, y, 4, 2020, 7, 0.15, sun_azimuth_deg=azimuth,
                                        sun_elevation_deg=50.0, cloud_height_m=1500.0)
    # Lag at which the shadow best matches the cloud field (circular cross-correlation).
    corr = np.fft.ifft2(np.fft.fft2(shadow) * np.conj(np.fft.fft2(cloud))).real
    row, col = np.unravel_index(np.argmax(corr), corr.shape)
    drow = row - n if row > n // 2 else row
    dcol = col - n if col > n // 2 else col
    east, north = dcol * PIXEL, -drow * PIXEL
    angle = np.degrees(np.arctan2(east, north)) % 360.0
    expected = (azimuth + 180.0) % 360.0
    assert abs((angle - expected + 180.0) % 360.0 - 180.0) < 10.0
    assert np.hypot(east, north) == pytest.approx(1500.0 / np.tan(np.radians(50.0)), rel=0.1)
    assert im.shadow_offset_m(azimuth, 50.0) == pytest.approx((east, north), abs=1e-6)


def test_apply_clouds() -> None:
    x, y = grid(60, 60)
    rho = uniform_scene(LandCover.FOREST, 7, species=4, n=60)
    cloud, shadow = im.cloud_and_shadow(x, y, 5, 2020, 7, 0.3)
    out = im.apply_clouds(rho, cloud, shadow, x, y, 5, 2020, 7)
    assert out.dtype == np.float32 and out.shape == rho.shape
    assert out[0][cloud].min() > 0.3
    ratio = out[3][shadow] / rho[3][shadow]
    assert ratio.min() >= 0.35 - 1e-5 and ratio.max() <= 0.5 + 1e-5
    clear = ~cloud & ~shadow
    assert np.array_equal(out[:, clear], rho[:, clear])


def scene_products(x: np.ndarray, y: np.ndarray, truth: dict[str, np.ndarray],
                   seed: int = 11) -> dict[str, np.ndarray]:
    """The whole scene chain of the simulator: Collection-2 DN and QA_PIXEL of one block."""
    rho = im.surface_reflectance(**truth, month=8, x=x, y=y, seed=seed, year=2022)
    cloud, shadow = im.cloud_and_shadow(x, y, seed, 2022, 8, 0.35)
    dil = im.dilated_cloud(x, y, seed, 2022, 8, 0.35)
    dn = im.to_landsat_c2_l2(im.apply_clouds(rho, cloud, shadow, x, y, seed, 2022, 8))
    fill = (truth["landcover"] < 1) | (truth["landcover"] > 7)
    qa = im.qa_pixel(cloud, shadow, truth["landcover"] == LandCover.WATER, fill, dilated=dil)
    return {"dn": dn, "qa": qa, "cloud": cloud, "shadow": shadow, "dilated": dil}


def test_full_scene_chunk_independence_quadrants() -> None:
    ny, nx = 64, 80
    x, y = grid(ny, nx)
    truth = mixed_truth(ny, nx)
    truth["landcover"][5:9, 60:70] = 0  # some fill
    whole = scene_products(x, y, truth)
    assert whole["cloud"].any() and whole["shadow"].any() and (whole["dn"] == 0).any()
    assert (whole["dilated"] & ~whole["cloud"]).any()
    for key, arr in whole.items():
        out = np.zeros_like(arr)
        for rows in (slice(0, 32), slice(32, 64)):
            for cols in (slice(0, 40), slice(40, 80)):
                part = {k: v[rows, cols] for k, v in truth.items()}
                out[..., rows, cols] = scene_products(x[rows, cols], y[rows, cols], part)[key]
        assert np.array_equal(out, arr), key


def test_grid_fast_path_equals_pointwise_evaluation() -> None:
    """Grids take a separable shortcut, transposed coordinates the point-by-point route.

    Both must give the same values.
    """
    x, y = grid(30, 44)
    truth = mixed_truth(30, 44)
    fast = scene_products(x, y, truth)
    slow = scene_products(x.T, y.T, {k: v.T for k, v in truth.items()})
    for key in fast:
        assert np.array_equal(np.swapaxes(slow[key], -1, -2), fast[key]), key


@pytest.mark.parametrize(("pixel_size_m", "radius_px"),
                         [(30.0, 1), (30.0, 2), (20.0, 1), (45.0, 3)])
def test_dilation_and_shadow_are_the_field_at_shifted_coordinates(pixel_size_m: float,
                                                                  radius_px: int) -> None:
    x, y = grid(40, 50)
    thr = im._cloud_threshold(0.3)
    dil = im.dilated_cloud(x, y, 6, 2020, 7, 0.3, pixel_size_m=pixel_size_m, radius_px=radius_px)
    expected = np.zeros(x.shape, dtype=bool)
    for di in range(-radius_px, radius_px + 1):
        for dj in range(-radius_px, radius_px + 1):
            if di * di + dj * dj <= radius_px * radius_px + radius_px:
                expected |= im._cloud_mask(x + di * pixel_size_m, y + dj * pixel_size_m, 6, 2020,
                                           7, thr)
    assert np.array_equal(dil, expected)
    cloud, shadow = im.cloud_and_shadow(x, y, 6, 2020, 7, 0.3, pixel_size_m=pixel_size_m,
                                        sun_azimuth_deg=200.0)
    east, north = im.shadow_offset_m(200.0, 60.0, 1500.0, pixel_size_m)
    assert np.array_equal(cloud, im._cloud_mask(x, y, 6, 2020, 7, thr))
    assert np.array_equal(shadow, im._cloud_mask(x - east, y - north, 6, 2020, 7, thr) & ~cloud)


def test_classes_absent_from_a_block_and_fill() -> None:
    x, y = grid(12, 16)
    truth = mixed_truth(12, 16)
    truth["landcover"][:] = LandCover.WATER
    truth["landcover"][:, :3] = 0
    rho = im.surface_reflectance(**truth, month=7, x=x, y=y, seed=2, year=2020)
    assert np.isnan(rho[:, :, :3]).all() and not np.isnan(rho[:, :, 3:]).any()
    truth["landcover"][:] = 0
    empty = im.surface_reflectance(**truth, month=7, x=x, y=y, seed=2, year=2020)
    assert empty.shape == (6, 12, 16) and np.isnan(empty).all()
    assert np.array_equal(im.to_landsat_c2_l2(empty), np.zeros(empty.shape, np.uint16))
