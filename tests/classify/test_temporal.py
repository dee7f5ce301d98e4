"""Temporally consistent land cover: per-pixel HMM Viterbi decoding (issue 14, point 2).

Oracle: hmmlearn's Viterbi (``hmmlearn._hmmc.viterbi``) on the same start, transition and
emission log-probabilities (Rabiner 1989, eq. 30–35).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from minecarbon.classify.temporal import SCALE, probabilities_to_uint8, smooth_class_series
from minecarbon.errors import InputDataError

CODES = [1, 2, 3, 4]


def _cube(p: np.ndarray) -> xr.DataArray:
    """(year, class, y, x) float probabilities → packed uint8."""
    da = xr.DataArray(p, dims=("year", "class", "y", "x"),
                      coords={"year": np.arange(2000, 2000 + p.shape[0])})
    return probabilities_to_uint8(da)


def _series(rows: list[list[float]]) -> np.ndarray:
    """One pixel's (year, class) probabilities → (year, class, 1, 1)."""
    return np.asarray(rows, dtype=float)[:, :, None, None]


def test_viterbi_equals_hmmlearn() -> None:
    hmmc = pytest.importorskip("hmmlearn._hmmc")
    rng = np.random.default_rng(7)
    n_t, n_k, ny, nx = 25, 4, 6, 9
    p = rng.dirichlet(np.full(n_k, 0.6), size=(n_t, ny, nx)).transpose(0, 3, 1, 2)
    packed = _cube(p)
    packed[5, :, 0, 0] = 255  # a year without observation
    packed[6:9, :, 1, 2] = 255
    stay, mixing = 0.9, 0.05
    out = smooth_class_series(packed.chunk({"y": 3, "x": 4}), CODES, stay=stay, mixing=mixing,
                              max_fill_years=25).compute()
    transition = np.full((n_k, n_k), (1 - stay) / (n_k - 1))
    np.fill_diagonal(transition, stay)
    compared = same = 0
    for iy in range(ny):
        for ix in range(nx):
            q = packed.values[:, :, iy, ix].astype(float)
            missing = q[:, 0] == 255
            emission = np.log((1 - mixing) * q / SCALE + mixing / n_k)
            emission[missing] = 0.0
            best, path = hmmc.viterbi(np.full(n_k, 1 / n_k), transition, emission)
            ours = out.values[:, iy, ix].astype(int) - 1
            steps = np.log(transition)[ours[:-1], ours[1:]].sum()
            mine = np.log(1 / n_k) + steps + emission[np.arange(n_t), ours].sum()
            # equal log-probability; paths may differ only on exact ties (around a year
            # without observation a change on either side is equally probable)
            assert mine == pytest.approx(best, abs=1e-9)
            same += int((ours == path).all())
            compared += 1
    assert compared == ny * nx == 54
    assert same >= 50


def test_one_year_flicker_is_removed_and_a_lasting_change_kept() -> None:
    forest, shrub = [0.8, 0.2, 0.0, 0.0], [0.3, 0.7, 0.0, 0.0]
    flicker = _series([forest] * 10 + [shrub] + [forest] * 9)
    lasting = _series([forest] * 10 + [shrub] * 10)
    out = smooth_class_series(_cube(np.concatenate([flicker, lasting], axis=3)), CODES)
    assert out.shape == (20, 1, 2)
    assert (out.values[:, 0, 0] == 1).all()  # the one shrub year was flicker
    np.testing.assert_array_equal(out.values[:, 0, 1], [1] * 10 + [2] * 10)


def test_a_documented_disturbance_makes_the_change_free() -> None:
    """Weak evidence for two years: undocumented it stays forest, documented it changes."""
    forest, weak = [0.9, 0.1, 0.0, 0.0], [0.35, 0.65, 0.0, 0.0]
    series = _series([forest] * 18 + [weak] * 2)
    packed = _cube(np.concatenate([series, series], axis=3))
    free = xr.DataArray(np.zeros((20, 1, 2), bool), dims=("year", "y", "x"),
                        coords={"year": packed["year"]})
    free[18, 0, 1] = True
    out = smooth_class_series(packed, CODES, free=free, stay=0.95)
    assert (out.values[:, 0, 0] == 1).all()
    np.testing.assert_array_equal(out.values[:, 0, 1], [1] * 18 + [2] * 2)


def test_years_without_observation_take_their_neighbours_class_within_reach() -> None:
    grass = [0.1, 0.1, 0.8, 0.0]
    p = _series([grass] * 12)
    packed = _cube(p)
    packed[3, :, 0, 0] = 255  # one gap: filled
    packed[6:12, :, 0, 0] = 255  # six missing years at the end: three filled, three not
    out = smooth_class_series(packed, CODES, max_fill_years=3).values[:, 0, 0]
    assert out.size == 12
    np.testing.assert_array_equal(out, [3] * 9 + [0] * 3)
    never = _cube(_series([grass] * 4))
    never[:] = 255
    assert (smooth_class_series(never, CODES).values == 0).all()


def test_packing_marks_a_missing_pixel_in_every_class() -> None:
    p = _series([[0.5, 0.5, 0.0, 0.0], [np.nan, np.nan, np.nan, np.nan]])
    packed = probabilities_to_uint8(xr.DataArray(p, dims=("year", "class", "y", "x")))
    np.testing.assert_array_equal(packed.values[:, :, 0, 0], [[125, 125, 0, 0], [255] * 4])


def test_bad_input_is_refused() -> None:
    packed = _cube(_series([[0.5, 0.5, 0.0, 0.0]] * 3))
    with pytest.raises(InputDataError, match="one class code per probability band"):
        smooth_class_series(packed, [1, 2, 3])
    with pytest.raises(InputDataError, match="stay"):
        smooth_class_series(packed, CODES, stay=0.4)
    with pytest.raises(InputDataError, match="dims"):
        smooth_class_series(packed.transpose("class", "year", "y", "x"), CODES)
    with pytest.raises(InputDataError, match="1 … 255"):
        smooth_class_series(packed, [0, 1, 2, 3])
