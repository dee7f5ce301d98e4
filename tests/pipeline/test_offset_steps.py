"""The map's value at the plots' cells, fitted on those cells alone (decision 46)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from minecarbon.mapping.calibration import calibrate_change
from minecarbon.mapping.trajectory import fit_trajectories
from minecarbon.pipeline.offset_steps import level_at_cells


def test_level_at_cells_equals_the_whole_cube() -> None:
    rng = np.random.default_rng(11)
    years = np.arange(2000, 2025)
    shape = (len(years), 30, 40)
    trend = rng.uniform(0.2, 1.5, shape[1:]) * (years - 2000)[:, None, None]
    values = 20 + trend + rng.normal(0, 3, shape)
    values[rng.random(shape) < 0.15] = np.nan  # years without an observation
    forest = np.ones(shape, dtype=bool)
    cleared = rng.random(shape[1:]) < 0.3  # a third cleared in 2010–2012, regrown after
    forest[10:13][:, cleared] = False
    free = np.zeros(shape, dtype=bool)
    free[13][cleared] = True
    coords = {"year": years}
    dims = ("year", "y", "x")
    v = xr.DataArray(values, dims=dims, coords=coords).chunk({"y": 16, "x": 16})
    f = xr.DataArray(forest, dims=dims, coords=coords).chunk({"y": 16, "x": 16})
    b = xr.DataArray(free, dims=dims, coords=coords).chunk({"y": 16, "x": 16})
    whole = calibrate_change(fit_trajectories(v, f, b, max_segments=3)["fitted"], f, 2020,
                             0.5).sel(year=2020).values
    row = rng.integers(0, shape[1], 60)
    col = rng.integers(0, shape[2], 60)
    got = level_at_cells(v, f, b, row, col, 2020, 0.5, max_segments=3)
    want = whole[row, col]
    assert np.isfinite(want).sum() >= 55
    np.testing.assert_allclose(got, want, rtol=1e-6)
    # a cell cleared in the reference year has no level there
    f2 = f.copy()
    f2[20, row[0], col[0]] = False
    assert np.isnan(level_at_cells(v, f2, b, row[:1], col[:1], 2020, 0.5)[0])
    # no cell: nothing to fit
    none = np.empty(0, dtype=int)
    assert level_at_cells(v, f, b, none, none, 2020, 0.5).shape == (0,)
