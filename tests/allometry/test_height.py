"""Height–diameter models: the BIOMASS Nouragues known answer, synthetic recovery, gap filling.

The known answer is ``../shared/reference/hd_oracle.md`` (from the BIOMASS R package's own test
of ``modelHD`` on NouraguesHD, unweighted); the data are read from ``../shared`` and never copied.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from minecarbon.allometry.height import (
    METHODS,
    MIN_FILLED_HEIGHT_M,
    HDModel,
    average_bias,
    best_hd,
    compare_hd,
    fill_heights,
    fit_hd,
)
from minecarbon.errors import InputDataError

NOURAGUES = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "biomass_nouragues_hd"
    / "NouraguesHD.csv"
)

# hd_oracle.md: method -> (RSE, RSElog, Average_bias), tolerance 1e-6 absolute.
ORACLE: dict[str, tuple[float, float | None, float]] = {
    "log1": (4.305060, 0.2231136, -0.01559652),
    "log2": (4.222718, 0.2215495, -0.01595885),
    "weibull": (4.220562, None, -0.01878870),
    "michaelis": (4.235974, None, -0.02018496),
}
# hd_oracle.md, "for orientation" (rounded to 5 significant digits there).
ORIENTATION: dict[str, tuple[float, ...]] = {
    "log1": (1.51138, 0.49483),
    "weibull": (47.803, 44.673, 0.69870),
    "michaelis": (47.108, 24.740),
}

# Noise-free generators, one per form, with the parameters to recover.
TRUE_PARAMS: dict[str, tuple[float, ...]] = {
    "log1": (0.8, 0.6),
    "log2": (-1.0, 2.2, -0.3),
    "weibull": (30.0, 25.0, 3.0),
    "michaelis": (40.0, 15.0),
}


def generate(method: str, params: tuple[float, ...], dbh: np.ndarray) -> np.ndarray:
    """Heights from the textbook form of each model (written out independently of the module)."""
    log_d = np.log(dbh)
    if method == "log1":
        a, b = params
        return np.exp(a + b * log_d)
    if method == "log2":
        a, b, c = params
        return np.exp(a + b * log_d + c * log_d**2)
    if method == "weibull":
        a, b, c = params
        return a * (1.0 - np.exp(-((dbh / b) ** c)))
    big_a, big_b = params
    return big_a * dbh / (big_b + dbh)


@pytest.fixture(scope="module")
def nouragues() -> pd.DataFrame:
    if not NOURAGUES.is_file():
        pytest.skip(f"shared data not available: {NOURAGUES}")
    return pd.read_csv(NOURAGUES)


# --------------------------------------------------------------------------- known answer


@pytest.mark.shared
def test_nouragues_data_as_described(nouragues: pd.DataFrame) -> None:
    assert len(nouragues) == 1051
    assert int(nouragues["H"].isna().sum()) == 163
    assert int(nouragues["D"].isna().sum()) == 0


@pytest.mark.shared
@pytest.mark.parametrize("method", METHODS)
def test_known_answer_fit_hd(nouragues: pd.DataFrame, method: str) -> None:
    model = fit_hd(nouragues["D"], nouragues["H"], method)
    rse, rse_log, bias = ORACLE[method]
    assert model.method == method
    assert model.n == 1051 - 163
    assert abs(model.rse - rse) < 1e-6
    if rse_log is None:
        assert model.rse_log is None
    else:
        assert model.rse_log is not None
        assert abs(model.rse_log - rse_log) < 1e-6
    assert abs(model.average_bias - bias) < 1e-6
    # the standalone function agrees with the field
    assert average_bias(model, nouragues["D"], nouragues["H"]) == pytest.approx(
        model.average_bias, abs=1e-12
    )


@pytest.mark.shared
def test_known_answer_compare_hd(nouragues: pd.DataFrame) -> None:
    table = compare_hd(nouragues["D"].to_numpy(), nouragues["H"].to_numpy())
    assert list(table.columns) == ["method", "rse", "rse_log", "average_bias", "n", "params"]
    assert table["method"].tolist() == list(METHODS)
    for row in table.itertuples():
        rse, rse_log, bias = ORACLE[str(row.method)]
        assert abs(float(row.rse) - rse) < 1e-6
        if rse_log is None:
            assert math.isnan(float(row.rse_log))
        else:
            assert abs(float(row.rse_log) - rse_log) < 1e-6
        assert abs(float(row.average_bias) - bias) < 1e-6
        assert row.n == 888


@pytest.mark.shared
@pytest.mark.parametrize("method", sorted(ORIENTATION))
def test_known_answer_parameters(nouragues: pd.DataFrame, method: str) -> None:
    model = fit_hd(nouragues["D"], nouragues["H"], method)
    np.testing.assert_allclose(model.params, ORIENTATION[method], rtol=1e-3)


@pytest.mark.shared
def test_known_answer_best_is_weibull(nouragues: pd.DataFrame) -> None:
    # smallest RSE in the oracle table: weibull 4.220562 < log2 4.222718 < michaelis < log1
    assert best_hd(nouragues["D"], nouragues["H"]).method == "weibull"


@pytest.mark.shared
def test_known_answer_fill_heights(nouragues: pd.DataFrame) -> None:
    height = nouragues["H"].to_numpy()
    result = fill_heights(nouragues["D"], height, None)
    measured = ~np.isnan(height)
    np.testing.assert_array_equal(result.height_m[measured], height[measured])
    assert not np.isnan(result.height_m).any()
    assert int(result.filled.sum()) == 163
    assert set(result.model[result.filled]) == {"pooled:weibull"}


# --------------------------------------------------------------------------- conventions


def test_log_prediction_has_baskerville_correction_and_rse_uses_it() -> None:
    rng = np.random.default_rng(3)
    dbh = rng.uniform(5, 60, 80)
    height = np.exp(0.9 + 0.55 * np.log(dbh) + rng.normal(0, 0.2, dbh.size))
    model = fit_hd(dbh, height, "log1")
    # OLS on logs by hand
    slope, intercept = np.polyfit(np.log(dbh), np.log(height), 1)
    np.testing.assert_allclose(model.params, (intercept, slope), rtol=1e-10)
    residuals_log = np.log(height) - (intercept + slope * np.log(dbh))
    rse_log = math.sqrt(float(residuals_log @ residuals_log) / (dbh.size - 2))
    assert model.rse_log == pytest.approx(rse_log, rel=1e-10)
    corrected = np.exp(intercept + slope * np.log(dbh) + rse_log**2 / 2)
    np.testing.assert_allclose(model.predict(dbh), corrected, rtol=1e-10)
    residuals = height - corrected
    assert model.rse == pytest.approx(
        math.sqrt(float(residuals @ residuals) / (dbh.size - 2)), rel=1e-10
    )


def test_average_bias_by_hand() -> None:
    model = HDModel("michaelis", (20.0, 10.0), rse=0.0, rse_log=None, n=2)
    # predictions: D=10 -> 10, D=30 -> 15, D=90 -> 18; observed mean of (12, 14) = 13
    bias = average_bias(model, [10.0, 30.0, 90.0], [12.0, 14.0, np.nan])
    assert bias == pytest.approx((43.0 / 3 - 13.0) / 13.0, rel=1e-12)


def test_average_bias_of_fit_uses_trees_without_height() -> None:
    dbh = np.array([10.0, 20.0, 30.0, 40.0, 50.0, 200.0])
    height = generate("michaelis", (40.0, 15.0), dbh)
    height[-1] = np.nan  # the biggest tree has no height: it must raise the mean prediction
    model = fit_hd(dbh, height, "michaelis")
    expected = (model.predict(dbh).mean() - np.nanmean(height)) / np.nanmean(height)
    assert model.average_bias == pytest.approx(expected, rel=1e-12)
    assert model.average_bias > 0.05


def test_predict_keeps_shape_and_model_is_frozen() -> None:
    model = HDModel("log1", (1.0, 0.5), rse=1.0, rse_log=0.0, n=10)
    assert model.predict(np.full((2, 3), 4.0)).shape == (2, 3)
    assert model.predict([4.0])[0] == pytest.approx(math.e * 2.0)
    assert model.named_params == {"a": 1.0, "b": 0.5}
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.rse = 2.0  # type: ignore[misc]


# --------------------------------------------------------------------------- synthetic


@pytest.mark.parametrize("method", METHODS)
def test_exact_recovery_from_noise_free_data(method: str) -> None:
    dbh = np.linspace(5.0, 90.0, 40)
    params = TRUE_PARAMS[method]
    height = generate(method, params, dbh)
    model = fit_hd(dbh, height, method)
    np.testing.assert_allclose(model.params, params, rtol=1e-6)
    assert model.rse < 1e-6
    np.testing.assert_allclose(model.predict(dbh), height, rtol=1e-6)
    if method.startswith("log"):
        assert model.rse_log is not None and model.rse_log < 1e-9
    else:
        assert model.rse_log is None


@pytest.mark.parametrize(
    ("method", "params", "d_range"),
    [
        ("log2", (-1.0, 2.2, -0.3), (10.0, 80.0)),  # rises then falls: no monotone form fits
        ("weibull", (30.0, 25.0, 3.0), (10.0, 80.0)),  # sigmoid
        ("michaelis", (40.0, 15.0), (2.0, 150.0)),  # saturating hyperbola
    ],
)
def test_best_hd_picks_the_generating_form(
    method: str, params: tuple[float, ...], d_range: tuple[float, float]
) -> None:
    rng = np.random.default_rng(7)
    dbh = rng.uniform(*d_range, 200)
    height = generate(method, params, dbh) + rng.normal(0.0, 0.3, dbh.size)
    best = best_hd(dbh, height)
    assert best.method == method
    table = compare_hd(dbh, height)
    assert table.loc[table["rse"].idxmin(), "method"] == method
    assert best.rse == pytest.approx(float(table["rse"].min()), rel=1e-12)


def test_compare_hd_marks_forms_that_cannot_be_fitted() -> None:
    dbh = np.array([10.0, 20.0, 30.0])
    height = np.array([8.0, 12.0, 14.0])
    table = compare_hd(dbh, height).set_index("method")
    # three trees: the two-parameter forms fit, the three-parameter ones cannot (n − p = 0)
    assert np.isfinite(table.loc["log1", "rse"]) and np.isfinite(table.loc["michaelis", "rse"])
    assert math.isnan(table.loc["log2", "rse"]) and math.isnan(table.loc["weibull", "rse"])
    assert table.loc["weibull", "params"] == ()
    assert best_hd(dbh, height).method in {"log1", "michaelis"}


# --------------------------------------------------------------------------- filling


def two_groups() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group 'big' with 15 measured + 3 missing heights; group 'small' with 4 + 2."""
    rng = np.random.default_rng(11)
    d_big = rng.uniform(8, 60, 18)
    h_big = generate("weibull", (30.0, 25.0, 2.0), d_big) + rng.normal(0, 0.5, 18)
    h_big[[2, 9, 16]] = np.nan
    d_small = rng.uniform(5, 30, 6)
    h_small = generate("michaelis", (25.0, 20.0), d_small) + rng.normal(0, 0.5, 6)
    h_small[[1, 4]] = np.nan
    dbh = np.concatenate([d_big, d_small])
    height = np.concatenate([h_big, h_small])
    groups = np.array(["big"] * 18 + ["small"] * 6, dtype=object)
    return dbh, height, groups


def test_fill_heights_keeps_measured_and_fills_only_gaps() -> None:
    dbh, height, groups = two_groups()
    original = height.copy()
    result = fill_heights(dbh, height, groups)
    measured = ~np.isnan(original)
    np.testing.assert_array_equal(height, original)  # input untouched
    np.testing.assert_array_equal(result.height_m[measured], original[measured])
    np.testing.assert_array_equal(result.filled, ~measured)
    assert not np.isnan(result.height_m).any()
    assert (result.model[measured] == "").all()
    assert not result.clipped.any()


def test_fill_heights_per_group_and_pooled_fallback() -> None:
    dbh, height, groups = two_groups()
    result = fill_heights(dbh, height, groups, min_trees=10)
    # 'big' has 15 heights: its own best model
    assert set(result.models) == {"big"}
    in_big = groups == "big"
    big = best_hd(dbh[in_big], height[in_big])
    assert result.models["big"] == big
    gaps_big = in_big & result.filled
    assert set(result.model[gaps_big]) == {f"big:{big.method}"}
    np.testing.assert_allclose(result.height_m[gaps_big], big.predict(dbh[gaps_big]))
    # 'small' has 4 heights: the pooled model fitted on all 19 measured trees
    pooled = best_hd(dbh, height)
    assert result.pooled == pooled
    assert pooled.n == 19
    gaps_small = (groups == "small") & result.filled
    assert set(result.model[gaps_small]) == {f"pooled:{pooled.method}"}
    np.testing.assert_allclose(result.height_m[gaps_small], pooled.predict(dbh[gaps_small]))


def test_fill_heights_min_trees_decides_the_fallback() -> None:
    dbh, height, groups = two_groups()
    result = fill_heights(dbh, height, groups, min_trees=16)  # 'big' has only 15 now
    assert result.models == {}
    assert all(label.startswith("pooled:") for label in result.model[result.filled])


def test_fill_heights_too_few_heights_raises() -> None:
    dbh = np.linspace(5, 50, 20)
    height = np.full(20, np.nan)
    height[:6] = generate("log1", (0.8, 0.6), dbh[:6])
    with pytest.raises(InputDataError, match=r"6 of 20 trees have a measured height") as info:
        fill_heights(dbh, height, ["g"] * 20, min_trees=10)
    assert "at least 10" in str(info.value)
    assert "give every tree's height" in str(info.value)


def test_fill_heights_all_measured_needs_no_model() -> None:
    dbh = np.array([10.0, 20.0, 30.0])
    height = np.array([8.0, 12.0, 14.0])
    result = fill_heights(dbh, height, ["g", "g", "h"])
    np.testing.assert_array_equal(result.height_m, height)
    assert not result.filled.any()
    assert result.pooled is None and result.models == {}


def test_fill_heights_clips_below_breast_height() -> None:
    dbh = np.concatenate([np.linspace(2.0, 30.0, 12), [0.3]])
    height = np.append(generate("log1", (-0.2, 0.9), dbh[:12]), np.nan)
    result = fill_heights(dbh, height, None)
    assert result.clipped.tolist() == [False] * 12 + [True]
    assert result.height_m[-1] == MIN_FILLED_HEIGHT_M
    # the unclipped prediction really was below 1.3 m
    model = result.pooled
    assert model is not None and float(model.predict([0.3])[0]) < MIN_FILLED_HEIGHT_M
    assert result.model[-1] == f"pooled:{model.method}"


def test_fill_heights_is_deterministic() -> None:
    dbh, height, groups = two_groups()
    first = fill_heights(dbh, height, groups)
    second = fill_heights(dbh, height, groups)
    np.testing.assert_array_equal(first.height_m, second.height_m)
    np.testing.assert_array_equal(first.model, second.model)
    assert first.models == second.models and first.pooled == second.pooled


# --------------------------------------------------------------------------- invalid input


@pytest.mark.parametrize(
    ("dbh", "height", "pattern"),
    [
        ([10.0, -2.0, 0.0, 30.0], [5.0, 6.0, 7.0, 8.0], r"dbh_cm: 2 of 4 diameter"),
        ([10.0, np.nan, 20.0, 30.0], [5.0, 6.0, 7.0, 8.0], r"dbh_cm: 1 of 4 .*1 missing"),
        ([10.0, 20.0, 25.0, 30.0], [5.0, 0.0, -1.0, 8.0], r"height_m: 2 of 4 height"),
        ([10.0, 20.0, 25.0, 30.0], [5.0, np.inf, 7.0, 8.0], r"height_m: 1 of 4 height"),
        ([10.0, 20.0, 25.0, 30.0], [5.0, 6.0, 7.0], r"height_m has shape \(3,\)"),
    ],
)
def test_invalid_input_raises(dbh: list[float], height: list[float], pattern: str) -> None:
    with pytest.raises(InputDataError, match=pattern):
        fit_hd(dbh, height, "log1")
    with pytest.raises(InputDataError, match=pattern):
        compare_hd(dbh, height)
    with pytest.raises(InputDataError, match=pattern):
        fill_heights(dbh, height, None, min_trees=3)


def test_other_errors() -> None:
    dbh = np.linspace(5, 50, 12)
    height = generate("log1", (0.8, 0.6), dbh)
    with pytest.raises(InputDataError, match="unknown height–diameter method 'power'"):
        fit_hd(dbh, height, "power")
    with pytest.raises(InputDataError, match="only 3 of 12 trees"):
        fit_hd(dbh, np.where(np.arange(12) < 3, height, np.nan), "weibull")
    with pytest.raises(InputDataError, match="groups has 2 labels"):
        fill_heights(dbh, height, ["a", "b"])
    with pytest.raises(InputDataError, match="1 of 12 trees have no group"):
        fill_heights(dbh, height, ["a"] * 11 + [None])
    with pytest.raises(InputDataError, match="min_trees"):
        fill_heights(dbh, height, None, min_trees=2)
    model = fit_hd(dbh, height, "log1")
    with pytest.raises(InputDataError, match="dbh_cm: 1 of 2"):
        model.predict([10.0, -1.0])
