"""Canopy height model (F7, issue 19): highest point per cell, empty cells filled, cell size."""

from __future__ import annotations

import numpy as np
import pytest

from minecarbon.errors import InputDataError
from minecarbon.features.chm import (
    canopy_height_model,
    chm_resolution_for,
    fill_empty_cells,
    point_density,
)
from minecarbon.grid import AnalysisGrid
from tests.compare import assert_close_counted

X0, Y_MAX = 500_000.0, 4_000_000.0
CRS = "EPSG:4546"


def test_highest_point_per_cell_unfilled() -> None:
    pts = np.array(
        [
            [0.2, 9.8, 3.0], [0.7, 9.6, 5.0],  # cell (0, 0): 5
            [1.5, 9.5, 0.02],                   # cell (0, 1): ground only -> 0
            [2.5, 8.5, -0.3],                   # cell (1, 2): below ground, clipped to 0
            [3.9, 6.1, 12.0],                   # cell (3, 3)
            [9.0, 9.0, 40.0],                   # outside the box: ignored
        ]
    )
    cls = np.array([5, 5, 2, 1, 5, 5])
    chm = canopy_height_model(pts, (0.0, 6.0, 4.0, 10.0), 1.0, classification=cls, crs=CRS,
                              fill_empty=False)
    assert chm.shape == (4, 4) and chm.name == "als_chm_m"
    v = chm.values
    assert v[0, 0] == 5.0 and v[0, 1] == 0.0 and v[1, 2] == 0.0 and v[3, 3] == 12.0
    assert np.isnan(v).sum() == 12
    assert chm.attrs["empty_share"] == pytest.approx(12 / 16) and chm.attrs["filled"] == 0
    np.testing.assert_allclose(chm["x"], [0.5, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(chm["y"], [9.5, 8.5, 7.5, 6.5])
    assert chm.rio.crs.to_epsg() == 4546
    # without classes every point counts, the ground point included
    unclassed = canopy_height_model(pts, (0.0, 6.0, 4.0, 10.0), 1.0, fill_empty=False)
    assert unclassed.values[0, 1] == pytest.approx(0.02)


def test_on_a_grid_uses_its_extent_and_crs() -> None:
    grid = AnalysisGrid(CRS, 30.0, X0, Y_MAX, 2, 1)
    pts = np.array([[X0 + 59.9, Y_MAX - 0.1, 7.0]])
    chm = canopy_height_model(pts, grid, 0.5, fill_empty=False)
    assert chm.shape == (60, 120)
    assert chm.values[0, -1] == 7.0 and np.isnan(chm.values).sum() == chm.size - 1
    assert chm.rio.crs.to_epsg() == 4546
    # filled, only the cells within 2 m of the point get its height; the rest stays empty
    filled = canopy_height_model(pts, grid, 0.5)
    near = filled.values[~np.isnan(filled.values)]
    # the quarter disc of radius 4 cells at the corner: 5 + 4 + 4 + 3 + 1 cells
    assert near.size == 17
    np.testing.assert_allclose(near, 7.0, rtol=1e-12)
    assert np.isnan(filled.values[:, :100]).all()


def test_fill_recovers_a_plane_exactly() -> None:
    """Linear interpolation is exact on a plane: holes in a tilted surface come back."""
    rows, cols = np.mgrid[0:40, 0:50]
    plane = 5.0 + 0.3 * rows + 0.2 * cols
    holey = plane.copy()
    rng = np.random.default_rng(3)
    holes = rng.uniform(size=plane.shape) < 0.3
    holes[10:14, 20:25] = True  # a 2 × 2.5 m gap
    holes[[0, -1], :] = holes[:, [0, -1]] = False  # on the edge it would be the nearest value
    holey[holes] = np.nan
    out = fill_empty_cells(holey, 0.5, 2.0)
    n = assert_close_counted(out[holes], plane[holes], min_count=500, rtol=1e-9)
    assert n == int(holes.sum())


def test_fill_leaves_voids_beyond_the_distance() -> None:
    values = np.full((30, 30), np.nan)
    values[:, :5] = 10.0
    out = fill_empty_cells(values, 1.0, 2.0)
    np.testing.assert_allclose(out[:, 5:7], 10.0, rtol=1e-12)  # within 2 m of a filled cell
    assert np.isnan(out[:, 7:]).all()
    assert np.isnan(fill_empty_cells(np.full((3, 3), np.nan), 1.0, 2.0)).all()


def test_filled_model_has_no_pits_in_a_sparse_crown() -> None:
    """A cone sampled at 4 points/m² on 0.5 m cells: most cells of the crown are empty."""
    rng = np.random.default_rng(11)
    n = int(4.0 * 20 * 20)
    x, y = rng.uniform(0, 20, n), rng.uniform(0, 20, n)
    z = np.maximum(0.0, 20.0 - 2.0 * np.hypot(x - 10, y - 10))
    pts = np.column_stack([x, y, z])
    raw = canopy_height_model(pts, (0.0, 0.0, 20.0, 20.0), 0.5, fill_empty=False)
    chm = canopy_height_model(pts, (0.0, 0.0, 20.0, 20.0), 0.5)
    assert raw.attrs["empty_share"] > 0.3 and chm.attrs["filled"] == 1
    assert not np.isnan(chm.values).any()
    xc, yc = np.meshgrid(chm["x"].values, chm["y"].values)
    cone = np.maximum(0.0, 20.0 - 2.0 * np.hypot(xc - 10, yc - 10))
    crown = cone > 2.0
    # the filled model stays within the cone's change over one cell and a half
    err = chm.values[crown] - cone[crown]
    assert err.size > 200 and np.abs(err).max() < 2.0 * 0.75 * np.sqrt(2) + 1e-9


def test_point_density_counts_the_covered_area() -> None:
    rng = np.random.default_rng(5)
    xy = np.column_stack([rng.uniform(0, 50, 10_000), rng.uniform(0, 20, 10_000)])
    assert point_density(xy) == pytest.approx(10_000 / 1000.0)
    # a far-away point adds one 25 m² cell, not the bounding box between
    far = np.vstack([xy, [[1000.0, 1000.0]]])
    assert point_density(far) == pytest.approx(10_001 / 1025.0)
    with pytest.raises(InputDataError, match="no points"):
        point_density(np.zeros((0, 3)))


@pytest.mark.parametrize(
    ("density", "size"),
    [(20.0, 0.25), (16.0, 0.25), (12.0, 0.5), (4.4, 0.5), (4.0, 0.5), (3.9, 1.0), (1.5, 1.0),
     (0.9, 1.5), (0.3, 2.0), (0.01, 5.0)],
)
def test_resolution_is_the_usual_size_at_least_the_point_spacing(
    density: float, size: float
) -> None:
    assert chm_resolution_for(density) == size
    assert size >= 1 / np.sqrt(density) - 1e-9 or size == 5.0


def test_resolution_from_density_when_not_given() -> None:
    rng = np.random.default_rng(2)
    pts = np.column_stack([rng.uniform(0, 30, 1800), rng.uniform(0, 30, 1800),
                           rng.uniform(0, 20, 1800)])  # 2 points/m²
    chm = canopy_height_model(pts, (0.0, 0.0, 30.0, 30.0))
    assert chm.attrs["resolution_m"] == 1.0 and chm.shape == (30, 30)
    with pytest.raises(InputDataError, match="density must be positive"):
        chm_resolution_for(0.0)


def test_grid_mean_of_the_model_by_cell_centre() -> None:
    """Two tiles' models on a 2 × 3 grid of 30 m pixels: sums add, the mean is per pixel."""
    from minecarbon.features.chm import chm_grid_mean, chm_grid_sums

    grid = AnalysisGrid(CRS, 30.0, X0, Y_MAX, width=3, height=2)
    pts = np.zeros((1, 3))
    # tile A: 10 m cells over the first two pixel columns; value = its column index in metres
    a = canopy_height_model(pts, (X0, Y_MAX - 60, X0 + 60, Y_MAX), 10.0, fill_empty=False)
    a = a.copy(data=np.tile(np.arange(6, dtype=float), (6, 1)))
    a.values[0, 0] = np.nan  # an empty cell is left out
    # tile B: one 30 m cell on pixel (1, 2) and one off the grid
    b = canopy_height_model(pts, (X0 + 60, Y_MAX - 60, X0 + 120, Y_MAX - 30), 30.0,
                            fill_empty=False).copy(data=np.array([[4.0, 99.0]]))
    sa, na = chm_grid_sums(a, grid)
    sb, nb = chm_grid_sums(b, grid)
    mean = chm_grid_mean(sa + sb, na + nb, grid)
    assert mean.name == "als_chm_mean_m" and mean.rio.crs.to_epsg() == 4546
    np.testing.assert_array_equal(na + nb, [[8, 9, 0], [9, 9, 1]])
    # pixel (0, 0): cells of values 0, 1, 2 in three rows, less the empty one: 9 / 8
    expected = np.array([[(0 * 2 + 1 * 3 + 2 * 3) / 8, 4.0, np.nan], [1.0, 4.0, 4.0]])
    n = assert_close_counted(mean.values, expected, min_count=5)
    assert n == 5


def test_fill_reach_is_two_cells_for_coarse_models() -> None:
    """At 5 m cells (a sparse cloud) the 2 m default would fill nothing; two cells do."""
    pts = np.array([[2.5, 47.5, 10.0], [47.5, 2.5, 20.0]])
    fine = canopy_height_model(pts, (0.0, 0.0, 50.0, 50.0), 5.0)
    # each point's cell and the cells within 10 m (two cells) of it, by the distance transform
    n_near = int(np.isfinite(fine.values).sum())
    assert n_near == 2 * 6  # quarter discs of radius 2 cells: (0,0) (0,1) (0,2) (1,0) (1,1) (2,0)
    narrow = canopy_height_model(pts, (0.0, 0.0, 50.0, 50.0), 5.0, max_fill_distance_m=2.0)
    assert int(np.isfinite(narrow.values).sum()) == 2
