"""Jenks natural breaks and grading (A3): golden numbers, jenkspy and mapclassify as oracles."""

from __future__ import annotations

import itertools

import dask.array as da
import jenkspy
import mapclassify
import numpy as np
import pytest
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr

from minecarbon.assessment.grading import (
    EffectGrade,
    JenksResult,
    default_precision,
    grade,
    grade_cumulative_effect,
    jenks_breaks,
    natural_breaks,
)
from minecarbon.errors import InputDataError


def tied_values(n: int, seed: int, decimals: int = 1) -> np.ndarray:
    """Skewed AGC-like values (Mg C/ha) rounded so that many values tie."""
    rng = np.random.default_rng(seed)
    return np.round(rng.gamma(2.0, 30.0, n), decimals)


def brute_force(values: np.ndarray, k: int) -> list[float]:
    """Least within-class SSD over every split of the sorted values into k runs (test oracle)."""
    x = np.sort(values)
    best, best_cut = np.inf, ()
    for cut in itertools.combinations(range(1, x.size), k - 1):
        parts = np.split(x, cut)
        if any(p[0] == q[-1] for q, p in itertools.pairwise(parts)):
            continue  # a tie split across two classes
        ssd = sum(float(((p - p.mean()) ** 2).sum()) for p in parts)
        if ssd < best - 1e-12:
            best, best_cut = ssd, cut
    return [x[0], *(x[c - 1] for c in best_cut), x[-1]]


# ------------------------------------------------------------------------------ golden numbers
def test_calemp_mapclassify_doctest() -> None:
    # pysal/mapclassify FisherJenks doctest on calemp: bins [75.29, 192.05, 370.5, 722.85,
    # 4111.45], counts [49, 3, 4, 1, 1]; jenkspy gives the same with the minimum first
    # (golden_numbers.md §1.5).
    result = natural_breaks(mapclassify.load_example(), 5)
    np.testing.assert_allclose(result.breaks, [0.13, 75.29, 192.05, 370.5, 722.85, 4111.45])
    assert result.counts.tolist() == [49, 3, 4, 1, 1]
    assert result.method == "exact" and result.exact and result.precision is None


def test_jenkspy_docstring_example() -> None:
    # jenkspy.jenks_breaks docstring (mthh/jenkspy core.py): "Should output [1.2, 2.3, 5.0, 7.8]".
    values = [1.3, 7.1, 7.3, 2.3, 3.9, 4.1, 7.8, 1.2, 4.3, 7.3, 5.0, 4.3]
    np.testing.assert_array_equal(jenks_breaks(values, 3), [1.2, 2.3, 5.0, 7.8])


@pytest.mark.parametrize(("seed", "k"), [(0, 2), (1, 3), (2, 4), (3, 3), (4, 4)])
def test_brute_force_small_sets(seed: int, k: int) -> None:
    values = np.random.default_rng(seed).integers(0, 12, 11).astype(float)
    np.testing.assert_array_equal(jenks_breaks(values, k), brute_force(values, k))


@pytest.mark.parametrize(("values", "k"), [([0, 1, 2], 2), (list(range(7)), 2),
                                           (list(range(9)), 4), ([0, 0, 1, 2, 2], 2),
                                           ([-3, -1, 1, 3], 3)])
def test_exact_ties_resolved_like_jenkspy(values: list[int], k: int) -> None:
    # Symmetric data: two partitions have the same SSD; fish.f and jenkspy keep the one whose
    # last class starts earliest (e.g. [0, 1, 2] → classes {0}, {1, 2}).
    expected = jenkspy.jenks_breaks(np.array(values, dtype=float), n_classes=k)
    np.testing.assert_array_equal(jenks_breaks(values, k), expected)


# --------------------------------------------------------------------------------- peer oracles
@pytest.mark.parametrize(("n", "k", "seed", "decimals"),
                         [(30, 3, 0, -1), (200, 5, 1, 0), (1000, 5, 2, 1), (1000, 7, 3, 1),
                          (5000, 5, 4, 1), (20_000, 5, 5, 1), (20_000, 9, 6, 2)])
def test_equals_jenkspy_with_ties(n: int, k: int, seed: int, decimals: int) -> None:
    values = tied_values(n, seed, decimals)
    assert np.unique(values).size < n  # the data do tie
    expected = jenkspy.jenks_breaks(values, n_classes=k)
    np.testing.assert_array_equal(jenks_breaks(values, k), expected)


def test_gvf_equals_jenkspy() -> None:
    values = tied_values(2000, 6)
    peer = jenkspy.JenksNaturalBreaks(5)
    peer.fit(values)
    assert natural_breaks(values, 5).gvf == pytest.approx(peer.goodness_of_variance_fit(values),
                                                          rel=1e-10)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_mapclassify_fisher_jenks(seed: int) -> None:
    values = np.random.default_rng(seed).normal(50.0, 20.0, 800)
    peer = mapclassify.FisherJenks(values, k=5)
    result = natural_breaks(values, 5)
    np.testing.assert_allclose(result.breaks[1:], peer.bins, rtol=0, atol=1e-12)
    assert result.counts.tolist() == peer.counts.tolist()
    graded = grade(xr.DataArray(values, dims=("x",)), result)
    np.testing.assert_array_equal(graded.values, peer.yb + 1)


# ------------------------------------------------------------------------------ histogram mode
def test_histogram_equals_exact_on_data_at_the_precision() -> None:
    values = tied_values(60_000, 7, decimals=2)
    exact = natural_breaks(values, 5)
    forced = natural_breaks(values, 5, max_exact=1000)  # default precision, finer than the data
    given = natural_breaks(values, 5, precision=0.01)
    for result in (forced, given):
        assert result.method == "histogram" and result.exact
        np.testing.assert_array_equal(result.breaks, exact.breaks)
        np.testing.assert_array_equal(result.counts, exact.counts)
    assert given.precision == 0.01 and given.n_items == np.unique(values).size


def test_histogram_equals_jenkspy_on_data_at_the_precision() -> None:
    values = tied_values(4000, 8, decimals=1)
    result = natural_breaks(values, 5, precision=0.1)
    assert result.exact
    np.testing.assert_array_equal(result.breaks, jenkspy.jenks_breaks(values, n_classes=5))


def test_histogram_close_to_exact_on_continuous_data() -> None:
    values = np.random.default_rng(9).gamma(2.0, 30.0, 200_000)
    exact = natural_breaks(values, 5)
    approx = natural_breaks(values, 5, precision=0.1)
    assert approx.method == "histogram" and not approx.exact and approx.precision == 0.1
    assert approx.sdcm >= exact.sdcm  # the histogram optimum is over fewer partitions
    assert approx.gvf == pytest.approx(exact.gvf, abs=1e-6)
    np.testing.assert_allclose(approx.breaks[1:-1], exact.breaks[1:-1], atol=0.1)
    assert approx.breaks[0] == values.min() and approx.breaks[-1] == values.max()
    graded = grade(xr.DataArray(values, dims=("x",)), approx)
    assert np.bincount(graded.values)[1:].tolist() == approx.counts.tolist()


@pytest.mark.parametrize(("lo", "hi", "max_bins", "expected"),
                         [(0.0, 300.0, 100_000, 0.005), (0.0, 1.0, 12, 0.1),
                          (-5.0, 5.0, 1000, 0.02), (0.0, 617.2, 100_000, 0.01)])
def test_default_precision(lo: float, hi: float, max_bins: int, expected: float) -> None:
    # finest 1-2-5 step with (hi - lo) / step + 2 <= max_bins, worked by hand
    assert default_precision(lo, hi, max_bins) == pytest.approx(expected)


def test_default_precision_bounds_the_bins() -> None:
    values = np.random.default_rng(10).normal(0.0, 37.0, 50_000)
    result = natural_breaks(values, 5, max_exact=10, max_bins=5000)
    step = result.precision
    assert step is not None and step == default_precision(values.min(), values.max(), 5000)
    assert np.floor(values.max() / step + 0.5) - np.floor(values.min() / step + 0.5) < 5000


# ---------------------------------------------------------------------------- inputs, dask, NaN
def test_nan_dropped_and_shapes() -> None:
    values = tied_values(3000, 11).reshape(30, 100)
    with_nan = values.copy()
    with_nan[::3, ::7] = np.nan
    expected = jenkspy.jenks_breaks(with_nan[~np.isnan(with_nan)], n_classes=5)
    result = natural_breaks(with_nan, 5)
    np.testing.assert_array_equal(result.breaks, expected)
    assert result.n_values == int((~np.isnan(with_nan)).sum())


@pytest.mark.parametrize("max_exact", [1_000_000, 100])
def test_dask_equals_numpy(max_exact: int) -> None:
    values = np.random.default_rng(12).gamma(2.0, 30.0, (60, 80)).astype(np.float32)
    values[5:9, 10:30] = np.nan
    plain = natural_breaks(xr.DataArray(values, dims=("y", "x")), 5, max_exact=max_exact)
    lazy = natural_breaks(xr.DataArray(values, dims=("y", "x")).chunk({"y": 16, "x": 32}), 5,
                          max_exact=max_exact)
    assert plain.method == lazy.method == ("exact" if max_exact > 4800 else "histogram")
    bare = natural_breaks(da.from_array(values, chunks=(25, 25)), 5, max_exact=max_exact)
    for result in (lazy, bare):
        np.testing.assert_array_equal(result.breaks, plain.breaks)
        np.testing.assert_array_equal(result.counts, plain.counts)
        assert result.sdcm == pytest.approx(plain.sdcm, rel=1e-9)


def test_integer_input() -> None:
    values = np.random.default_rng(13).integers(0, 40, 500)
    np.testing.assert_array_equal(jenks_breaks(values, 4),
                                  jenkspy.jenks_breaks(values.astype(float), n_classes=4))


@pytest.mark.parametrize("k", [1, 0, 128, True])
def test_bad_k_refused(k: int) -> None:
    with pytest.raises(InputDataError, match="classes"):
        jenks_breaks([1.0, 2.0, 3.0], k)


def test_fewer_distinct_values_than_classes() -> None:
    with pytest.raises(InputDataError, match="3 distinct values, fewer than the k = 5") as err:
        jenks_breaks([1.0, 1.0, 2.0, 3.0, np.nan, 3.0], 5)
    assert err.value.fix is not None
    with pytest.raises(InputDataError, match="non-empty bins at precision 100"):
        natural_breaks(np.linspace(0, 250, 1000), 5, precision=100.0)


def test_no_valid_or_infinite_values() -> None:
    with pytest.raises(InputDataError, match="no valid"):
        jenks_breaks(xr.DataArray(np.full((3, 3), np.nan), dims=("y", "x"), name="agc"))
    with pytest.raises(InputDataError, match="agc holds infinite"):
        jenks_breaks(xr.DataArray([1.0, 2.0, np.inf, 4.0, 5.0, 6.0], dims=("x",), name="agc"))
    with pytest.raises(InputDataError, match="precision"):
        natural_breaks([1.0, 2.0, 3.0], 2, precision=0.0)


# ------------------------------------------------------------------------------------- grading
def small_map() -> xr.DataArray:
    values = np.array([[-1.0, 0.0, 1.0, 1.5], [2.0, 2.5, np.nan, 3.0], [4.0, 9.0, 3.5, 0.5]])
    band = xr.DataArray(values, dims=("y", "x"), name="effect",
                        coords={"y": [30.0, 20.0, 10.0], "x": [0.0, 10.0, 20.0, 30.0]})
    return band.rio.write_crs("EPSG:4546")


def test_grade_upper_edges_inclusive_and_nodata() -> None:
    graded = grade(small_map(), [0.0, 1.0, 2.5, 4.0])
    # (−inf, 1] → 1, (1, 2.5] → 2, (2.5, +inf) → 3, NaN → 0
    np.testing.assert_array_equal(graded.values, [[1, 1, 1, 2], [2, 2, 0, 3], [3, 3, 3, 1]])
    assert graded.dtype == np.int8 and graded.name == "effect_grade"
    assert graded.attrs["nodata"] == 0 and graded.attrs["flag_values"] == [1, 2, 3]
    assert graded.rio.crs.to_epsg() == 4546
    np.testing.assert_array_equal(graded["x"], small_map()["x"])


def test_grade_dask_is_lazy_and_equal() -> None:
    band = small_map()
    lazy = grade(band.chunk({"y": 2, "x": 2}), [0.0, 1.0, 2.5, 4.0], labels=["a", "b c", "d"])
    assert lazy.chunks is not None
    np.testing.assert_array_equal(lazy.values, grade(band, [0.0, 1.0, 2.5, 4.0]).values)
    assert lazy.attrs["flag_meanings"] == "a b_c d"


@pytest.mark.parametrize("breaks", [[0.0, 2.0, 1.0, 3.0], [0.0, 1.0], [0.0, 1.0, 1.0, 3.0],
                                    [0.0, np.nan, 3.0]])
def test_grade_bad_breaks(breaks: list[float]) -> None:
    with pytest.raises(InputDataError, match="breaks for effect"):
        grade(small_map(), breaks)


def test_grade_label_count_checked() -> None:
    with pytest.raises(InputDataError, match="2 labels for the 3 classes"):
        grade(small_map(), [0.0, 1.0, 2.5, 4.0], labels=["a", "b"])


def test_effect_grades_follow_the_guide() -> None:
    # Guide, explanatory notes ch. 5: "高度负向、低度负向、无明显、低度正向和高度正向五个等级"
    assert [g.zh for g in EffectGrade] == ["高度负向", "低度负向", "无明显", "低度正向", "高度正向"]
    assert [int(g) for g in EffectGrade] == [1, 2, 3, 4, 5]


def test_grade_cumulative_effect() -> None:
    rng = np.random.default_rng(14)
    effect = xr.DataArray(np.concatenate([rng.normal(-40, 5, 300), rng.normal(-15, 3, 300),
                                          rng.normal(0, 2, 600), rng.normal(15, 3, 300),
                                          rng.normal(40, 5, 300)]).reshape(30, 60),
                          dims=("y", "x"), name="cumulative_effect")
    result = natural_breaks(effect, 5)
    graded = grade_cumulative_effect(effect, result)
    np.testing.assert_array_equal(graded.values, grade(effect, result).values)
    assert graded.attrs["flag_meanings"].split() == ["high_negative", "low_negative",
                                                     "not_obvious", "low_positive",
                                                     "high_positive"]
    assert graded.attrs["method"] == "exact" and graded.attrs["gvf"] == result.gvf
    assert isinstance(result, JenksResult)


def test_grade_cumulative_effect_warns_when_middle_class_misses_zero() -> None:
    effect = xr.DataArray(tied_values(500, 15) + 1.0, dims=("x",), name="gain")
    with pytest.warns(UserWarning, match="'gain'.*does not contain 0"):
        grade_cumulative_effect(effect)
    with pytest.raises(InputDataError, match="6 edges"):
        grade_cumulative_effect(effect, [0.0, 1.0, 2.0, 3.0])
