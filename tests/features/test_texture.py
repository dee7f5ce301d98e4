"""GLCM texture (F5): ENVI's own output, scikit-image as the oracle, dask vs numpy, errors.

ENVI reference: the R package glcm's test data (azvoleff/glcm @ ccff4d1e, GPL ≥ 3), ENVI
"Co-occurrence Measures" output on a 10 × 10 raster, read from ../shared (never copied here).
scikit-image: ``graycomatrix`` + ``graycoprops`` on each window. Golden numbers:
/work/shared/reference/golden_numbers.md section 1.4.
"""

from __future__ import annotations

import csv

import dask
import dask.array as da
import numpy as np
import pytest
import xarray as xr
from skimage.feature import graycomatrix, graycoprops

from minecarbon.errors import InputDataError
from minecarbon.features.texture import MEASURES, direction_shift, glcm_texture, quantise
from tests.conftest import shared_path

SKIMAGE_PROPS = ("mean", "variance", "homogeneity", "contrast", "dissimilarity", "entropy",
                 "ASM", "correlation")  # scikit-image's names for MEASURES, same order


def _stack(ds: xr.Dataset, measures: tuple[str, ...] = MEASURES) -> np.ndarray:
    return np.stack([ds[f"glcm_{m}"].values for m in measures], axis=-1).astype(np.float64)


def _band(values: np.ndarray) -> xr.DataArray:
    rows, cols = values.shape
    return xr.DataArray(values, dims=("y", "x"), name="nir",
                        coords={"y": 4_100_000.0 - 30.0 * np.arange(rows),
                                "x": 500_000.0 + 30.0 * np.arange(cols)})


# --- ENVI reference ------------------------------------------------------------------------


def _envi_raster() -> np.ndarray:
    return np.loadtxt(shared_path("glcm_envi_reference", "test_raster.csv"), delimiter=",")


def _envi_expected(name: str) -> np.ndarray:
    out = np.full((10, 10, 8), np.nan)
    with shared_path("glcm_envi_reference", name).open() as f:
        for row in csv.DictReader(f):
            out[int(row["row"]), int(row["col"])] = [
                float(row[k]) for k in ("mean_ENVI", "variance_ENVI", "homogeneity", "contrast",
                                        "dissimilarity", "entropy", "second_moment",
                                        "correlation")]
    assert not np.isnan(out).any()
    return out


@pytest.mark.parametrize(("name", "window", "shift"), [
    ("expected_textures_3x3_1x1.csv", 3, (1, 1)),
    ("expected_textures_5x7_2x3.csv", (5, 7), (2, 3)),  # window rows × cols, shift (dy, dx)
])
def test_envi_reference_every_pixel(name: str, window: int | tuple[int, int],
                                    shift: tuple[int, int]) -> None:
    expected = _envi_expected(name)
    band = _band(_envi_raster())
    got = _stack(glcm_texture(band, window=window, shifts=[shift], levels=32, edge="zero"))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    # README orientation check: (1, 1), 3 × 3 window: plain mean 14.111 in 1…32 → 13.111
    if name.startswith("expected_textures_3x3"):
        assert got[1, 1, 0] == pytest.approx(13.1111111, abs=1e-6)
    # edge="nan" (default): NaN exactly where ENVI writes 0 for a window leaving the image
    nan = _stack(glcm_texture(band, window=window, shifts=[shift], levels=32))
    np.testing.assert_array_equal(np.isnan(nan).all(axis=-1), (expected == 0).all(axis=-1))
    np.testing.assert_array_equal(np.isnan(nan).any(axis=-1), np.isnan(nan).all(axis=-1))


def test_envi_mean_variance_are_the_window_mean_and_population_variance() -> None:
    # ENVI's "mean" and "variance" (golden_numbers.md 1.4: the window's plain mean, Σ p (i − μ)²)
    # are Σ i·p and Σ p (i − Σ i·p)² of ENVI's matrix: its row marginal is the window histogram
    values = np.random.default_rng(5).random((30, 30))
    ds = glcm_texture(_band(values), window=(5, 7), shifts=[(2, 3)], levels=32)
    windows = np.lib.stride_tricks.sliding_window_view(quantise(values, 32).astype(float), (5, 7))
    # centre (r, c) = window [r − 2, c − 3]; its pairs stay inside for r ≤ 25, c ≤ 23
    np.testing.assert_allclose(ds["glcm_mean"].values[2:26, 3:24],
                               windows.mean(axis=(2, 3))[:24, :21], rtol=1e-6)
    np.testing.assert_allclose(ds["glcm_variance"].values[2:26, 3:24],
                               windows.var(axis=(2, 3))[:24, :21], rtol=1e-6)
    assert np.isnan(ds["glcm_mean"].values[26:]).all()


def test_envi_negative_shift_is_handled_as_its_absolute_value_by_envi() -> None:
    # Upstream (R glcm) says ENVI mishandles negative shifts; the reference shows how: the
    # 5 × 3 window with shift (−1, −2) is exactly what ENVI gives for (+1, +2).
    expected = _envi_expected("expected_textures_5x3_n1xn2.csv")
    band = _band(_envi_raster())
    sign_dropped = _stack(glcm_texture(band, window=(5, 3), shifts=[(1, 2)], levels=32,
                                       edge="zero"))
    np.testing.assert_allclose(sign_dropped, expected, rtol=1e-6, atol=1e-6)
    # Our (−1, −2) pairs p with p − (1, 2): the transposed matrix of the (+1, +2) pairs of the
    # window centred (1, 2) further up-left, so the six pair-symmetric measures agree with
    # ENVI's output there, while mean and variance (row marginal) differ.
    ours = _stack(glcm_texture(band, window=(5, 3), shifts=[(-1, -2)], levels=32))
    valid = (expected != 0).any(axis=-1)
    rows, cols = np.nonzero(valid)
    moved = ours[rows + 1, cols + 2]
    np.testing.assert_allclose(moved[:, 2:], expected[rows, cols, 2:], rtol=1e-6, atol=1e-6)
    assert np.mean(np.abs(moved[:, 0] - expected[rows, cols, 0]) > 1e-3) > 0.5
    same_place = ours[rows, cols]
    finite = ~np.isnan(same_place[:, 3])
    assert np.mean(np.abs(same_place[finite, 3] - expected[rows, cols, 3][finite]) > 1e-3) > 0.5


# --- scikit-image as the oracle ------------------------------------------------------------


def _skimage_window_textures(codes: np.ndarray, window: tuple[int, int], shift: tuple[int, int],
                             levels: int, symmetric: bool,
                             min_valid_fraction: float = 1.0) -> np.ndarray:
    """graycomatrix + graycoprops on every window.

    Missing pixels (code −1, and beyond the image edge) become grey level ``levels`` and that
    row and column of the matrix are dropped; a window with fewer valid pairs than
    ``min_valid_fraction`` of its pairs is NaN.
    """
    hr, hc = window[0] // 2, window[1] // 2
    dy, dx = shift
    distance = round(float(np.hypot(dy, dx)))
    angle = float(np.arctan2(dy, dx))
    assert direction_shift(np.degrees(angle), distance) == shift
    pairs = (window[0] - abs(dy)) * (window[1] - abs(dx)) * (2 if symmetric else 1)
    coded = np.pad(np.where(codes < 0, levels, codes), ((hr, hr), (hc, hc)),
                   constant_values=levels).astype(np.int64)
    out = np.full((*codes.shape, 8), np.nan)
    for r in range(codes.shape[0]):
        for c in range(codes.shape[1]):
            win = coded[r:r + 2 * hr + 1, c:c + 2 * hc + 1]
            p = graycomatrix(win, [distance], [angle], levels=levels + 1, symmetric=symmetric)
            p = p[:levels, :levels]
            if p.sum() == 0 or p.sum() < min_valid_fraction * pairs - 1e-9:
                continue
            out[r, c] = [graycoprops(p, prop)[0, 0] for prop in SKIMAGE_PROPS]
    return out


@pytest.mark.parametrize(("window", "shift", "levels", "symmetric"), [
    ((3, 3), (0, 1), 8, True),
    ((5, 7), (1, 1), 16, False),
    ((7, 5), (-1, 2), 4, True),
    ((5, 5), (2, -1), 8, False),
    ((3, 5), (1, -1), 32, True),
])
def test_skimage_convention_equals_graycomatrix_per_window(
    window: tuple[int, int], shift: tuple[int, int], levels: int, symmetric: bool
) -> None:
    rng = np.random.default_rng(levels + window[0])
    image = rng.integers(0, levels, size=(13, 12)).astype(np.float64)
    image[:4, :4] = rng.integers(0, 2, size=(4, 4))  # low-contrast corner
    codes = quantise(image, levels, (0, levels - 1))
    np.testing.assert_array_equal(codes, image)  # integer grey levels are kept as they are
    ds = glcm_texture(_band(image), window=window, shifts=[shift], levels=levels,
                      value_range=(0, levels - 1), convention="skimage", symmetric=symmetric)
    expected = _skimage_window_textures(codes, window, shift, levels, symmetric)
    np.testing.assert_allclose(_stack(ds), expected, rtol=1e-6, atol=1e-6)


def test_skimage_convention_with_nan_and_partial_windows() -> None:
    rng = np.random.default_rng(7)
    image = rng.integers(0, 8, size=(12, 11)).astype(np.float64)
    image[rng.random(image.shape) < 0.12] = np.nan
    codes = quantise(image, 8, (0, 7))
    for fraction in (1.0, 0.5):
        ds = glcm_texture(_band(image), window=(5, 5), directions=[90], levels=8,
                          value_range=(0, 7), convention="skimage",
                          min_valid_fraction=fraction)
        expected = _skimage_window_textures(codes, (5, 5), (1, 0), 8, True, fraction)
        assert np.isnan(expected[..., 0]).any() and (~np.isnan(expected[..., 0])).any()
        np.testing.assert_allclose(_stack(ds), expected, rtol=1e-6, atol=1e-6)
    # with half of the pairs enough, windows reaching beyond the image edge have values too
    assert np.isfinite(ds["glcm_mean"].values[0]).any()


@pytest.mark.parametrize(("distance", "angle", "golden"), [
    # golden_numbers.md 1.4: scikit-image doctest image, levels=4, symmetric, normed; order
    # contrast, dissimilarity, homogeneity, ASM, correlation, mean, variance, entropy
    (1, 0, (0.583333, 0.416667, 0.808333, 0.145833, 0.719533, 1.291667, 1.039931, 2.094729)),
    (1, 90, (1.0, 0.666667, 0.7, 0.138889, 0.485714, 1.166667, 0.972222, 2.094729)),
    (2, 0, (1.25, 1.0, 0.525, 0.179688, 0.411765, 1.25, 1.0625, 1.819511)),
    (2, 90, (2.75, 1.5, 0.375, 0.148438, -0.294118, 1.25, 1.0625, 1.927392)),
])
def test_skimage_doctest_golden_numbers_whole_image(distance: int, angle: float,
                                                    golden: tuple[float, ...]) -> None:
    image = np.full((5, 5), np.nan)  # the 4 × 4 image in a 5 × 5 window: NaN pairs drop out
    image[:4, :4] = [[0, 0, 1, 1], [0, 0, 1, 1], [0, 2, 2, 2], [2, 2, 3, 3]]
    ds = glcm_texture(_band(image), window=5, directions=[angle], distance=distance, levels=4,
                      value_range=(0, 3), convention="skimage", min_valid_fraction=0.5)
    names = ("contrast", "dissimilarity", "homogeneity", "second_moment", "correlation", "mean",
             "variance", "entropy")
    got = [float(ds[f"glcm_{m}"][2, 2]) for m in names]
    np.testing.assert_allclose(got, golden, atol=1e-6)


# --- dask, NaN, quantisation, directions ---------------------------------------------------


def _random_band(rows: int = 100, cols: int = 90, nan_share: float = 0.02) -> xr.DataArray:
    rng = np.random.default_rng(3)
    values = rng.gamma(2.0, 0.1, size=(rows, cols))
    values[rng.random(values.shape) < nan_share] = np.nan
    return _band(values)


def _no_compute(*args: object, **kwargs: object) -> None:
    raise AssertionError("glcm_texture computed a dask array while building the graph")


@pytest.mark.parametrize(("convention", "kwargs"), [
    ("envi", {"window": (5, 7), "shifts": [(2, 3), (-1, 1)]}),
    ("skimage", {"window": 7, "min_valid_fraction": 0.6}),
    ("envi", {"window": 9, "shifts": [(0, 4)], "edge": "zero", "value_range": (0.05, 0.4)}),
])
def test_dask_equals_numpy_and_is_lazy(convention: str, kwargs: dict) -> None:
    band = _random_band()
    lazy_band = band.chunk({"y": 17, "x": 23})
    with dask.config.set(scheduler=_no_compute):
        lazy = glcm_texture(lazy_band, convention=convention, **kwargs)
    assert all(isinstance(v.data, da.Array) for v in lazy.data_vars.values())
    eager = glcm_texture(band, convention=convention, **kwargs)
    assert all(isinstance(v.data, np.ndarray) for v in eager.data_vars.values())
    computed = lazy.compute()
    for name in eager.data_vars:
        np.testing.assert_array_equal(computed[name].values, eager[name].values)
        assert computed[name].dtype == np.float32
    assert np.isfinite(eager["glcm_entropy"].values).mean() > 0.1


def test_dask_tiny_chunks_and_window_deeper_than_the_image() -> None:
    band = _random_band(5, 40, nan_share=0.0)  # 2 + 3 rows of reach ≥ the 5 rows
    kwargs = {"window": (5, 3), "shifts": [(3, 1)], "min_valid_fraction": 0.3}
    eager = glcm_texture(band, **kwargs)
    lazy = glcm_texture(band.chunk({"y": 2, "x": 1}), **kwargs).compute()
    np.testing.assert_array_equal(_stack(lazy), _stack(eager))
    assert np.isfinite(_stack(eager)).any() and np.isnan(_stack(eager)[4]).all()


def test_nan_pixels_blank_every_window_whose_pairs_touch_them() -> None:
    values = np.random.default_rng(1).random((20, 20))
    values[10, 10] = np.nan
    ds = glcm_texture(_band(values), window=3, shifts=[(1, 1)])
    nan = np.isnan(ds["glcm_contrast"].values)
    # (10, 10) as a window pixel: centres 9…11; as the partner of (9, 9): centres 8…10
    touched = np.zeros_like(nan)
    touched[9:12, 9:12] = True
    touched[8:11, 8:11] = True
    inner = np.zeros_like(nan)
    inner[1:-2, 1:-2] = True  # window ± 1 and the shifted window + 1 stay inside the image
    np.testing.assert_array_equal(nan, touched | ~inner)


def test_quantise_known_answers_and_value_range_clipping() -> None:
    # equal-width bins: level = floor(levels (v − lo)/(hi − lo)), hi in the top level
    values = np.array([0.0, 0.24, 0.25, 0.5, 0.99, 1.0, -3.0, 7.0, np.nan, np.inf])
    np.testing.assert_array_equal(quantise(values, 4, (0.0, 1.0)),
                                  [0, 0, 1, 2, 3, 3, 0, 3, -1, -1])
    # default range: the finite min–max (ENVI); the ENVI raster 1…32 becomes 0…31
    raster = np.arange(1, 33, dtype=float)
    np.testing.assert_array_equal(quantise(raster, 32), np.arange(32))
    lazy = quantise(da.from_array(raster, chunks=5), 32)
    assert isinstance(lazy, da.Array)
    np.testing.assert_array_equal(lazy.compute(), np.arange(32))
    # clipping: values beyond the range give the same textures as the range's ends
    band = _random_band(nan_share=0.0)
    clipped = band.clip(0.1, 0.3)
    a = glcm_texture(band, window=5, value_range=(0.1, 0.3))
    b = glcm_texture(clipped, window=5, value_range=(0.1, 0.3))
    np.testing.assert_array_equal(_stack(a), _stack(b))


def test_directions_averaged_equal_the_mean_of_single_directions() -> None:
    band = _random_band()
    for convention in ("envi", "skimage"):
        both = glcm_texture(band, window=5, directions=[0, 45, 90, 135], distance=2,
                            convention=convention)
        default = glcm_texture(band, window=5, distance=2, convention=convention)
        np.testing.assert_array_equal(_stack(both), _stack(default))
        singles = [_stack(glcm_texture(band, window=5, directions=[a], distance=2,
                                       convention=convention)) for a in (0, 45, 90, 135)]
        np.testing.assert_allclose(_stack(both), np.mean(singles, axis=0), rtol=2e-6,
                                   atol=1e-6)
    assert [direction_shift(a, 1) for a in (0, 45, 90, 135)] == [(0, 1), (1, 1), (1, 0), (1, -1)]
    assert direction_shift(45, 2) == (1, 1)  # as graycomatrix: round(2 sin 45°) = 1


def test_constant_window_and_measure_subset() -> None:
    values = np.ones((9, 9))
    values[:, 6:] = np.arange(27).reshape(9, 3)
    ds = glcm_texture(_band(values), window=3, shifts=[(0, 1)], convention="skimage",
                      measures=("correlation", "entropy", "second_moment", "contrast"))
    assert list(ds.data_vars) == ["glcm_correlation", "glcm_entropy", "glcm_second_moment",
                                  "glcm_contrast"]
    # a constant window: one matrix cell, p = 1 (scikit-image: correlation 1 for σ = 0)
    assert [float(ds[v][4, 2]) for v in ds.data_vars] == [1.0, 0.0, 1.0, 0.0]
    full = glcm_texture(_band(values), window=3, shifts=[(0, 1)], convention="skimage")
    np.testing.assert_array_equal(ds["glcm_entropy"], full["glcm_entropy"])


def test_output_keeps_grid_crs_and_records_parameters() -> None:
    pytest.importorskip("rioxarray")
    band = _random_band().rio.write_crs("EPSG:4546")
    ds = glcm_texture(band, window=(3, 5), shifts=[(1, 2)], levels=16,
                      value_range=(0.0, 0.5))
    assert ds.rio.crs == band.rio.crs
    xr.testing.assert_equal(ds["x"], band["x"])
    xr.testing.assert_equal(ds["y"], band["y"])
    assert ds["glcm_mean"].dtype == np.float32
    attrs = ds["glcm_contrast"].attrs
    assert attrs["glcm_window_rows_cols"] == [3, 5]
    assert attrs["glcm_shifts_dy_dx"] == [1, 2]
    assert attrs["glcm_value_range"] == [0.0, 0.5]
    assert attrs["glcm_convention"] == "envi" and attrs["glcm_symmetric"] == 0
    zero = glcm_texture(band, window=3, shifts=[(1, 1)], edge="zero")
    assert zero["glcm_mean"].attrs["glcm_edge"] == "zero"
    assert float(zero["glcm_mean"][0, 0]) == 0.0 and float(zero["glcm_mean"][-2, 5]) == 0.0


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"window": 4}, "odd"),
    ({"window": (3, 6)}, "odd"),
    ({"levels": 1}, "levels"),
    ({"shifts": [(0, 30)]}, "larger than band 'nir'"),
    ({"shifts": [(0, 0)]}, "non-zero"),
    ({"measures": ["mean", "energy"]}, "energy"),
    ({"shifts": [(1, 1)], "directions": [0]}, "both"),
    ({"convention": "skimage", "window": 3, "shifts": [(0, 3)]}, "no pair inside"),
    ({"value_range": (1.0, 0.0)}, "value_range"),
    ({"min_valid_fraction": 0.0}, "min_valid_fraction"),
    ({"convention": "matlab"}, "convention"),
    ({"edge": "mirror"}, "edge"),
])
def test_errors_name_the_problem(kwargs: dict, match: str) -> None:
    band = _band(np.random.default_rng(0).random((20, 20)))
    with pytest.raises(InputDataError, match=match):
        glcm_texture(band, **kwargs)


def test_error_on_a_cube() -> None:
    cube = xr.DataArray(np.zeros((2, 5, 5)), dims=("time", "y", "x"), name="ndvi")
    with pytest.raises(InputDataError, match="2-D"):
        glcm_texture(cube)
