"""ALS structure (F7): normalisation and metrics on the grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from minecarbon.demo.pointclouds import simulate_als
from minecarbon.errors import InputDataError
from minecarbon.features.lidar import normalise_heights, structure_metrics
from minecarbon.grid import AnalysisGrid, assert_on_grid
from minecarbon.io.pointcloud import read_points, write_las

X0, Y_MAX = 500_000.0, 4_000_000.0
CRS = "EPSG:4546"


def _plane(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return 800.0 + 0.05 * (x - X0) - 0.02 * (y - Y_MAX)


def test_normalise_heights_recovers_heights_over_a_sloping_ground() -> None:
    rng = np.random.default_rng(4)
    gx, gy = rng.uniform(X0, X0 + 50, 400), rng.uniform(Y_MAX - 50, Y_MAX, 400)
    ground = np.column_stack([gx, gy, _plane(gx, gy)])
    vx, vy = rng.uniform(X0 + 5, X0 + 45, 300), rng.uniform(Y_MAX - 45, Y_MAX - 5, 300)
    h = rng.uniform(0.5, 30, 300)
    veg = np.column_stack([vx, vy, _plane(vx, vy) + h])
    xyz = np.vstack([ground, veg])
    cls = np.r_[np.full(400, 2), np.full(300, 5)]
    out = normalise_heights(xyz, cls)
    np.testing.assert_allclose(out[:400, 2], 0.0, atol=1e-9)
    np.testing.assert_allclose(out[400:, 2], h, atol=1e-6)  # a plane is interpolated exactly
    np.testing.assert_array_equal(out[:, :2], xyz[:, :2])
    assert xyz[0, 2] > 700  # the input is not modified


def test_normalise_heights_outside_the_ground_hull_uses_the_nearest_ground_point() -> None:
    ground = np.array([[0.0, 0.0, 10.0], [1.0, 0.0, 10.0], [0.0, 1.0, 12.0], [1.0, 1.0, 12.0]])
    far = np.array([[5.0, 1.2, 20.0]])
    out = normalise_heights(np.vstack([ground, far]), np.array([2, 2, 2, 2, 1]))
    assert out[-1, 2] == pytest.approx(8.0)  # nearest ground point (1, 1) at 12 m


def test_normalise_heights_needs_ground() -> None:
    with pytest.raises(InputDataError, match="no ground points"):
        normalise_heights(np.zeros((3, 3)), np.array([1, 5, 5]))
    with pytest.raises(InputDataError, match="one class per point"):
        normalise_heights(np.zeros((3, 3)), np.array([2, 2]))


def _grid() -> AnalysisGrid:
    return AnalysisGrid(CRS, 30.0, X0, Y_MAX, width=3, height=2)


def test_structure_metrics_equal_numpy_per_cell() -> None:
    grid = _grid()
    rng = np.random.default_rng(7)
    cells = {(0, 0): 57, (0, 2): 1, (1, 1): 400, (1, 2): 2}  # (row, col): points; others empty
    parts, firsts = [], []
    for (row, col), n in cells.items():
        x = X0 + col * 30 + rng.uniform(0, 30, n)
        y = Y_MAX - row * 30 - rng.uniform(0, 30, n)
        z = rng.gamma(2.0, 5.0, n) * (row + 1)
        parts.append(np.column_stack([x, y, z]))
        firsts.append(rng.uniform(0, 1, n) < 0.7)
    outside = np.array([[X0 - 1, Y_MAX - 1, 99.0], [X0 + 90.0, Y_MAX - 1, 99.0]])
    pts = np.vstack([*parts, outside])
    first = np.concatenate([*firsts, [True, True]])

    ds = structure_metrics(pts, grid, first_returns=first)
    assert_on_grid(ds["als_h_p95_m"], grid, "ALS metrics")
    assert ds.rio.crs.to_epsg() == 4546
    assert set(ds.data_vars) == {
        "als_h_max_m", "als_h_mean_m", "als_h_p25_m", "als_h_p50_m", "als_h_p75_m",
        "als_h_p95_m", "als_cover", "als_n_points",
    }
    for (row, col), part, fr in zip(cells, parts, firsts, strict=True):
        z = part[:, 2]
        assert ds["als_n_points"].values[row, col] == z.size
        assert ds["als_h_max_m"].values[row, col] == pytest.approx(z.max())
        assert ds["als_h_mean_m"].values[row, col] == pytest.approx(z.mean())
        for q in (25, 50, 75, 95):
            assert ds[f"als_h_p{q}_m"].values[row, col] == pytest.approx(np.percentile(z, q))
        expected_cover = (z[fr] > 2.0).sum() / fr.sum() if fr.any() else np.nan
        np.testing.assert_allclose(ds["als_cover"].values[row, col], expected_cover)
    for row, col in ((0, 1), (1, 0)):
        assert ds["als_n_points"].values[row, col] == 0
        assert np.isnan(ds["als_h_p50_m"].values[row, col])
        assert np.isnan(ds["als_cover"].values[row, col])


def test_cover_by_hand() -> None:
    grid = AnalysisGrid(CRS, 30.0, X0, Y_MAX, 1, 1)
    z = np.array([0.0, 1.0, 2.0, 2.5, 10.0, 20.0, 15.0, 0.1])
    first = np.array([True, True, True, True, True, False, False, True])
    pts = np.column_stack([np.full(8, X0 + 1), np.full(8, Y_MAX - 1), z])
    ds = structure_metrics(pts, grid, first_returns=first)
    assert ds["als_cover"].item() == pytest.approx(2 / 6)  # 2.5 and 10 of the 6 first returns
    assert structure_metrics(pts, grid)["als_cover"].item() == pytest.approx(4 / 8)
    assert structure_metrics(pts, grid, cover_threshold_m=12.0)["als_cover"].item() == 2 / 8


def test_simulated_als_round_trip(tmp_path: Path) -> None:
    """simulate_als → LAZ → read → normalise → metrics: max per pixel ≈ the canopy height."""
    size = 10.0
    rng = np.random.default_rng(2)
    canopy = rng.uniform(8.0, 28.0, (4, 5))
    canopy[0, 0] = 0.0  # open ground
    yy, xx = np.mgrid[0:4, 0:5]
    dem = 950.0 + 0.4 * xx * size - 0.25 * yy * size
    xyz, ret, nret, cls = simulate_als(canopy, dem, X0, Y_MAX, size, seed=5, pulses_per_m2=6.0,
                                       cover=np.where(canopy > 0, 0.8, 0.0))
    # the writer rounds to 1 mm, which would move a point lying within 0.5 mm of a pixel edge
    # into the neighbouring pixel (with the neighbour's canopy height): leave those out
    frac = np.column_stack([(xyz[:, 0] - X0) / size, (Y_MAX - xyz[:, 1]) / size]) % 1.0
    keep = np.all((frac > 1e-4) & (frac < 1 - 1e-4), axis=1)
    xyz, ret, nret, cls = xyz[keep], ret[keep], nret[keep], cls[keep]
    path = write_las(tmp_path / "tile.laz", xyz, classification=cls, crs_epsg=4546,
                     extra={"return_number": ret, "number_of_returns": nret})
    cloud = read_points(path, classification=True, fields=("return_number",),
                        expected_crs=CRS, chunk_points=5_000)
    heights = normalise_heights(cloud.xyz, cloud.classification)
    grid = AnalysisGrid(CRS, size, X0, Y_MAX, 5, 4)
    ds = structure_metrics(heights, grid, first_returns=cloud.return_number == 1)
    h_max = ds["als_h_max_m"].values
    forest = canopy > 0
    np.testing.assert_allclose(h_max[forest], canopy[forest], atol=0.5)
    assert h_max[0, 0] < 0.5
    assert ds["als_n_points"].values.sum() == len(cloud)
    cover = ds["als_cover"].values
    assert np.all(np.abs(cover[forest] - 0.8) < 0.1)
    assert cover[0, 0] == 0.0
    assert np.all(ds["als_h_p95_m"].values[forest] < h_max[forest])
