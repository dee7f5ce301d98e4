"""Stable forest's change as its stand's: the zoned window mean and the mapping step's stage."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import rasterio
import xarray as xr
from affine import Affine

from minecarbon.config import Config
from minecarbon.grid import AnalysisGrid
from minecarbon.mapping.change_smoothing import smooth_change, zone_window_mean
from minecarbon.pipeline.change_smoothing_steps import change_smoothing_stage

YEARS = [2000, 2001, 2002, 2003]
REF = 2003


def _brute_force(values: np.ndarray, zone: np.ndarray, valid: np.ndarray,
                 size: int) -> np.ndarray:
    """The definition, pixel by pixel: the mean over the window's valid same-zone pixels."""
    half = size // 2
    out = np.full(values.shape, np.nan)
    ny, nx = zone.shape
    for i in range(ny):
        for j in range(nx):
            if not valid[i, j]:
                continue
            window = (slice(max(i - half, 0), i + half + 1), slice(max(j - half, 0), j + half + 1))
            member = valid[window] & (zone[window] == zone[i, j])
            out[..., i, j] = values[(..., *window)][..., member].mean(axis=-1)
    return out


def _scipy_per_zone(values: np.ndarray, zone: np.ndarray, valid: np.ndarray,
                    size: int) -> np.ndarray:
    """The peer: a ``scipy.ndimage.uniform_filter`` of values and of counts for each zone."""
    from scipy import ndimage

    out = np.full(values.shape, np.nan)
    window = (1,) * (values.ndim - 2) + (size, size)
    for z in np.unique(zone[valid]):
        member = valid & (zone == z)
        count = ndimage.uniform_filter(member.astype(float), size, mode="constant")
        total = ndimage.uniform_filter(np.where(member, values, 0.0), window, mode="constant")
        out[..., member] = total[..., member] / count[member]
    return out


def test_window_mean_equals_scipy_per_zone() -> None:
    rng = np.random.default_rng(11)
    values = rng.normal(30, 10, (6, 64, 48))
    zone = rng.integers(0, 7, (64, 48))
    valid = rng.random((64, 48)) > 0.1
    for size in (3, 7):
        out = zone_window_mean(values, zone, valid, size)
        assert np.count_nonzero(np.isfinite(out)) == 6 * valid.sum() > 10_000
        np.testing.assert_allclose(out, _scipy_per_zone(values, zone, valid, size),
                                   rtol=1e-9, equal_nan=True)
    single = zone_window_mean(values.astype(np.float32), zone, valid, 3)
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, zone_window_mean(values, zone, valid, 3), rtol=1e-5,
                               equal_nan=True)


def test_window_mean_known_answers() -> None:
    values = np.arange(9.0).reshape(3, 3)
    one_zone = np.zeros((3, 3), int)
    out = zone_window_mean(values, one_zone, np.ones((3, 3), bool), 3)
    assert out[0, 0] == pytest.approx((0 + 1 + 3 + 4) / 4)  # a corner: 4 pixels in the grid
    assert out[1, 1] == pytest.approx(4.0)
    assert out[0, 1] == pytest.approx((0 + 1 + 2 + 3 + 4 + 5) / 6)
    # another zone and an invalid pixel are left out of the mean; the invalid one gets NaN
    zone = np.array([[0, 1, 0], [0, 0, 0], [0, 0, 0]])
    valid = np.ones((3, 3), bool)
    valid[2, 2] = False
    out = zone_window_mean(values, zone, valid, 3)
    assert out[1, 1] == pytest.approx((0 + 2 + 3 + 4 + 5 + 6 + 7) / 7)
    assert out[0, 1] == 1.0 and np.isnan(out[2, 2])
    assert np.array_equal(zone_window_mean(values, one_zone, valid, 1)[valid], values[valid])
    with pytest.raises(ValueError, match="odd"):
        zone_window_mean(values, one_zone, valid, 4)
    with pytest.raises(ValueError, match="share"):
        zone_window_mean(values, one_zone[:2], valid, 3)


@pytest.mark.parametrize("size", [3, 5])
def test_window_mean_equals_the_definition(size: int) -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(0, 1, (4, 17, 13))
    zone = rng.integers(0, 3, (17, 13))
    valid = rng.random((17, 13)) > 0.2
    out = zone_window_mean(values, zone, valid, size)
    expected = _brute_force(values, zone, valid, size)
    assert np.count_nonzero(np.isfinite(out)) == 4 * valid.sum() > 100
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    assert np.array_equal(np.isnan(out), np.isnan(expected))


def _cube(values: np.ndarray) -> xr.DataArray:
    ny, nx = values.shape[1:]
    return xr.DataArray(values, dims=("year", "y", "x"),
                        coords={"year": YEARS, "y": np.arange(ny), "x": np.arange(nx)})


def _zone(zone: np.ndarray) -> xr.DataArray:
    return xr.DataArray(zone, dims=("y", "x"),
                        coords={"y": np.arange(zone.shape[0]), "x": np.arange(zone.shape[1])})


def _series(shape: tuple[int, int], seed: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Level + a zone's true growth + iid noise of each pixel-year (not in the reference year)."""
    rng = np.random.default_rng(seed)
    zone = np.where(np.arange(shape[1])[None, :] < shape[1] // 2, 1, 2) * np.ones(shape, int)
    growth = np.where(zone == 1, 1.0, 3.0)  # t C/ha per year
    level = rng.uniform(20, 80, shape)
    years = np.array(YEARS, float)[:, None, None]
    truth = level + growth * (years - REF)
    noise = rng.normal(0, 4, truth.shape)
    noise[-1] = 0.0
    return truth, truth + noise, zone


def test_change_keeps_levels_and_zone_boundaries_and_loses_noise() -> None:
    truth, noisy, zone = _series((30, 30))
    exact = smooth_change(_cube(truth), REF, _zone(zone), 3).values
    # a change that is the zone's own everywhere stays exactly, on both sides of the boundary
    np.testing.assert_allclose(exact, truth, atol=1e-9)
    out = smooth_change(_cube(noisy), REF, _zone(zone), 3).values
    np.testing.assert_array_equal(out[-1], noisy[-1])  # the plots' year is not touched
    before = np.mean((noisy[:-1] - truth[:-1]) ** 2)
    after = np.mean((out[:-1] - truth[:-1]) ** 2)
    # iid noise averaged over 9 pixels (6 at an edge, 4 in a corner; 6 on the zone boundary)
    assert 1 / 9 < after / before < 0.2


def test_disturbed_and_gap_pixels_keep_their_series_and_stay_out_of_the_means() -> None:
    _, noisy, zone = _series((12, 12))
    noisy[:2, 5, 5] = np.nan  # not forest before 2002: a reclamation
    noisy[1, 8, 8] = np.nan  # a gap year
    noisy[2:, 3, 3] = np.nan  # cleared in 2002: unmapped from then on
    out = smooth_change(_cube(noisy), REF, _zone(zone), 3).values
    for i, j in ((5, 5), (8, 8), (3, 3)):
        np.testing.assert_array_equal(out[:, i, j], noisy[:, i, j])
    # their neighbours' means leave them out
    stable = np.isfinite(noisy).all(axis=0)
    expected = noisy[-1] + _brute_force(noisy - noisy[-1], zone, stable, 3)
    np.testing.assert_allclose(out[:, stable], expected[:, stable], atol=1e-9)
    assert stable.sum() == 12 * 12 - 3


def test_a_low_stand_among_growing_ones_does_not_go_below_zero() -> None:
    values = np.full((4, 5, 5), 60.0)
    values[:, :, :] -= 10.0 * (REF - np.array(YEARS))[:, None, None]  # 30 → 60 by REF
    values[:, 2, 2] = 5.0  # a thinned pixel, flat at 5 t C/ha
    out = smooth_change(_cube(values), REF, _zone(np.zeros((5, 5), int)), 3).values
    # its neighbours' mean change back to 2000: (8 × −30 + 0) / 9
    assert out[0, 2, 2] == 0.0 and out[-1, 2, 2] == 5.0
    assert out[0, 1, 1] == pytest.approx(60.0 - 30.0 * 8 / 9)  # its window holds the flat one
    assert out[0, 0, 0] == pytest.approx(30.0)  # the corner's window does not
    assert (out >= 0).all()


def test_excluded_pixels_keep_their_series_and_give_nothing() -> None:
    _, noisy, zone = _series((12, 12), seed=5)
    exclude = np.zeros((12, 12), bool)
    exclude[4:7, 4:7] = True  # e.g. a stand whose change was borrowed (decision 45)
    out = smooth_change(_cube(noisy), REF, _zone(zone), 3,
                        xr.DataArray(exclude, dims=("y", "x"))).values
    np.testing.assert_array_equal(out[:, exclude], noisy[:, exclude])
    taking = ~exclude
    expected = noisy[-1] + _brute_force(noisy - noisy[-1], zone, taking, 3)
    np.testing.assert_allclose(out[:, taking], expected[:, taking], atol=1e-9)
    # without the exclusion, the same pixels would have changed
    plain = smooth_change(_cube(noisy), REF, _zone(zone), 3).values
    assert np.abs(plain[:-1, exclude] - noisy[:-1, exclude]).min() > 0


def test_chunked_equals_in_memory_and_size_one_is_identity() -> None:
    _, noisy, zone = _series((23, 19), seed=7)
    noisy[:, 3, 4] = np.nan
    whole = smooth_change(_cube(noisy), REF, _zone(zone), 5).values
    chunked = smooth_change(_cube(noisy).chunk({"y": 7, "x": 6}), REF,
                            _zone(zone).chunk({"y": 7, "x": 6}), 5)
    assert chunked.chunks is not None  # lazily, block by block with a halo
    np.testing.assert_allclose(chunked.values, whole, atol=1e-9)
    assert np.count_nonzero(np.isfinite(whole)) == 4 * (23 * 19 - 1)
    cube = _cube(noisy)
    assert smooth_change(cube, REF, _zone(zone), 1) is cube
    with pytest.raises(ValueError, match="reference year 1999"):
        smooth_change(cube, 1999, _zone(zone), 3)


CRS = "EPSG:4546"
X0, Y1, PX, N = 500_000.0, 4_100_000.0, 30.0, 16


def _tif(path: Path, data: np.ndarray, dtype: str, nodata: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", driver="GTiff", height=N, width=N, count=1, dtype=dtype,
                       nodata=nodata, crs=CRS, transform=Affine(PX, 0, X0, 0, -PX, Y1)) as dst:
        dst.write(np.asarray(data).astype(dtype)[None])
    return path


def _stage_workspace(root: Path, window: int) -> tuple[Any, dict[int, Path], np.ndarray,
                                                        np.ndarray]:
    _, noisy, _ = _series((N, N), seed=9)
    noisy[:, 0, 0] = np.nan
    ftype = np.where(np.arange(N)[:, None] < N // 2, 1, 2) * np.ones((N, N), int)
    unit = np.where(np.arange(N)[None, :] < 4, 3, 1) * np.ones((N, N), int)
    _tif(root / f"products/classification/forest_type_{REF}.tif", ftype, "uint8", 0)
    _tif(root / f"products/units/units_l1_{YEARS[-1]}.tif", unit, "uint8", 0)
    staged = {y: _tif(root / f"work/staged_{y}.tif", noisy[i], "float32", np.nan)
              for i, y in enumerate(YEARS)}
    config = Config.model_validate({"mapping": {"change_window_px": window}})
    ws = SimpleNamespace(root=root, path=lambda rel: root / rel)
    return SimpleNamespace(workspace=ws, config=config), staged, noisy, ftype * 1000 + unit


def test_the_mapping_stage_writes_smoothed_maps_and_records_it(tmp_path: Path) -> None:
    ctx, staged, noisy, zone = _stage_workspace(tmp_path, 3)
    grid = AnalysisGrid(CRS, PX, X0, Y1, N, N)
    borrowed = np.zeros((N, N), bool)
    borrowed[10:13, 2:5] = True  # quality 3 in one year: change borrowed (decision 45)
    quality = {y: _tif(tmp_path / f"work/quality_{y}.tif",
                       np.where(borrowed & (y == 2001), 3, 1), "uint8", 0) for y in YEARS}
    new, record = change_smoothing_stage(ctx, grid, staged, REF, quality)
    assert record["applied"] is True and record["window_px"] == 3
    assert record["stable_forest_pixels"] == N * N - 1 - 9
    assert record["borrowed_change_pixels_kept"] == 9
    assert not any(p.exists() for p in staged.values())  # the old staged files are gone
    with rasterio.open(new[2000]) as src:
        written = src.read(1)
    stable = np.isfinite(noisy).all(axis=0) & ~borrowed
    expected = noisy[-1] + _brute_force(noisy - noisy[-1], zone, stable, 3)[0]
    np.testing.assert_allclose(written[stable], expected[stable], atol=1e-4)
    np.testing.assert_allclose(written[borrowed], noisy[0][borrowed], atol=1e-5)
    assert np.isnan(written[0, 0])
    with rasterio.open(new[REF]) as src:
        np.testing.assert_allclose(src.read(1)[stable], noisy[-1][stable], atol=1e-5)


def test_the_stage_reads_layers_off_the_grid_through_read_on_grid(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import minecarbon.pipeline.change_smoothing_steps as steps

    grid = AnalysisGrid(CRS, PX, X0, Y1, N, N)
    written = {}
    for on_grid in (True, False):
        monkeypatch.setattr(steps, "_on_grid", lambda path, grid, v=on_grid: v)
        root = tmp_path / str(on_grid)
        ctx, staged, _, _ = _stage_workspace(root, 3)
        quality = {y: _tif(root / f"work/quality_{y}.tif", np.where(
            np.arange(N)[:, None] + np.zeros(N, int) == 7, 3, 1), "uint8", 0) for y in YEARS}
        new, record = change_smoothing_stage(ctx, grid, staged, REF, quality)
        assert record["borrowed_change_pixels_kept"] == N
        assert record["applied"] is True
        with rasterio.open(new[2001]) as src:
            written[on_grid] = src.read(1)
    assert np.count_nonzero(np.isfinite(written[True])) == N * N - 1
    np.testing.assert_array_equal(written[True], written[False])
    assert steps._on_grid.__name__ == "<lambda>"  # the real check is tested below


def test_on_grid_compares_shape_crs_and_transform(tmp_path: Path) -> None:
    from minecarbon.pipeline.change_smoothing_steps import _on_grid

    path = _tif(tmp_path / "a.tif", np.zeros((N, N)), "float32", np.nan)
    assert _on_grid(path, AnalysisGrid(CRS, PX, X0, Y1, N, N))
    assert not _on_grid(path, AnalysisGrid(CRS, PX, X0 + PX, Y1, N, N))
    assert not _on_grid(path, AnalysisGrid(CRS, PX, X0, Y1, N + 1, N))
    assert not _on_grid(path, AnalysisGrid("EPSG:32650", PX, X0, Y1, N, N))


def test_the_mapping_stage_off_or_without_zones_returns_the_maps(tmp_path: Path) -> None:
    ctx, staged, _, _ = _stage_workspace(tmp_path, 1)
    grid = AnalysisGrid(CRS, PX, X0, Y1, N, N)
    out, record = change_smoothing_stage(ctx, grid, staged, REF)
    assert out is staged and record["applied"] is False
    ctx, staged, _, _ = _stage_workspace(tmp_path / "b", 3)
    (tmp_path / "b" / f"products/units/units_l1_{YEARS[-1]}.tif").unlink()
    with pytest.warns(UserWarning, match=f"no products/units/units_l1_{YEARS[-1]}.tif"):
        out, record = change_smoothing_stage(ctx, grid, staged, REF)
    assert out is staged and "units_l1" in record["reason"]
    with pytest.raises(ValueError, match="odd"):
        Config.model_validate({"mapping": {"change_window_px": 4}})
