"""Species classifier per leaf habit and forest-type rules (requirements C3 and S2)."""

from __future__ import annotations

import warnings

import dask.array as dsa
import numpy as np
import pandas as pd
import pytest
import rioxarray  # noqa: F401  (the .rio accessor)
import xarray as xr
from scipy import ndimage

from minecarbon.classify.phenology import phenology_metrics
from minecarbon.classify.species import SpeciesClassifier, forest_type_map, predict_species_map
from minecarbon.errors import GridMismatchError, InputDataError, UnknownSpeciesError
from minecarbon.standard.species import by_code, species_groups
from minecarbon.types import ForestType, LeafHabit

DATES = pd.to_datetime(["2021-03-15", "2021-04-09", "2021-05-20", "2021-06-13", "2021-07-18",
                        "2021-08-15", "2021-09-07", "2021-10-20", "2021-11-14"])
DOY = np.asarray(DATES.day_of_year, dtype=float)

# Synthetic NDVI curves per species code: base, top, green-up, senescence (day), rate (1/day).
# Evergreens are high all season with a small swing; larch greens up late and browns early,
# poplar and Robinia green up early.
CURVES: dict[int, tuple[float, float, float, float, float]] = {
    1: (0.45, 0.62, 125, 285, 0.05),  # 油松 Pinus tabuliformis
    2: (0.35, 0.48, 140, 270, 0.05),  # 侧柏 Platycladus orientalis
    3: (0.20, 0.80, 145, 262, 0.12),  # 华北落叶松 Larix principis-rupprechtii
    4: (0.20, 0.70, 112, 285, 0.08),  # 刺槐 Robinia pseudoacacia
    5: (0.22, 0.78, 102, 298, 0.08),  # 杨树 Populus
    6: (0.25, 0.72, 130, 280, 0.10),  # 栎类 Quercus
    7: (0.20, 0.66, 122, 258, 0.10),  # 桦木 Betula
}
HABIT = {g.code: int(g.habit) for g in species_groups()}


def synthetic_vi(codes: np.ndarray, rng: np.random.Generator) -> xr.DataArray:
    """(time, sample, 1) NDVI: each sample's species curve, jittered, noisy, 10 % cloudy."""
    n = codes.size
    p = np.array([CURVES[int(c)] for c in codes])
    base, top = p[:, 0] + rng.normal(0, 0.02, n), p[:, 1] + rng.normal(0, 0.03, n)
    sos, eos = p[:, 2] + rng.normal(0, 4, n), p[:, 3] + rng.normal(0, 4, n)
    rate = p[:, 4]
    t = DOY[:, None]
    vi = base + (top - base) * (1 / (1 + np.exp(-rate * (t - sos)))
                                - 1 / (1 + np.exp(-rate * (t - eos))))
    vi = vi + rng.normal(0, 0.02, vi.shape)
    vi[rng.random(vi.shape) < 0.10] = np.nan
    return xr.DataArray(vi[:, :, None], dims=("time", "y", "x"),
                        coords={"time": DATES.values, "y": np.arange(n), "x": [0]})


def table(codes: np.ndarray, seed: int) -> pd.DataFrame:
    """Phenology metrics of synthetic samples plus one 'summer' feature, as a DataFrame."""
    rng = np.random.default_rng(seed)
    ds = phenology_metrics(synthetic_vi(codes, rng), min_valid=6).isel(x=0)
    frame = ds.drop_vars("n_valid").to_dataframe().reset_index(drop=True)
    frame = frame.drop(columns=[c for c in frame.columns if c in ("y", "x")])
    frame["summer_swir1"] = np.array([0.12 + 0.01 * c for c in codes]) + rng.normal(0, 0.02,
                                                                                  codes.size)
    return frame


@pytest.fixture(scope="module")
def trained() -> tuple[SpeciesClassifier, pd.DataFrame, np.ndarray]:
    codes = np.repeat(np.arange(1, 8), 60)
    model = SpeciesClassifier(n_estimators=100, random_state=0)
    model.fit(table(codes, seed=1), codes)
    test_codes = np.repeat(np.arange(1, 8), 40)
    return model, table(test_codes, seed=2), test_codes


# ---------------------------------------------------------------------------- classifier
def test_held_out_accuracy_at_least_90_percent(trained) -> None:
    model, x_test, y_test = trained
    habit = np.array([HABIT[c] for c in y_test])
    predicted = model.predict(x_test, habit)
    assert predicted.dtype == np.uint8
    assert (predicted == y_test).mean() >= 0.90
    assert model.score(x_test, y_test) == pytest.approx((predicted == y_test).mean())


def test_each_sub_model_knows_only_its_habit(trained) -> None:
    model, x_test, y_test = trained
    assert set(model.models_[int(LeafHabit.EVERGREEN)].classes_) == {1, 2}
    assert set(model.models_[int(LeafHabit.DECIDUOUS)].classes_) == {3, 4, 5, 6, 7}
    # a deciduous sample called evergreen can only come out as an evergreen species
    forced = model.predict(x_test, np.full(len(y_test), int(LeafHabit.EVERGREEN)))
    assert set(np.unique(forced)) <= {1, 2}


def test_unknown_habit_and_empty_rows_predict_zero(trained) -> None:
    model, x_test, y_test = trained
    habit = np.array([HABIT[c] for c in y_test])
    habit[:5] = 0
    x = x_test.copy()
    x.iloc[5:8] = np.nan
    predicted = model.predict(x, habit)
    assert (predicted[:8] == 0).all()
    assert (predicted[8:] > 0).all()


def test_species_names_are_accepted_as_labels() -> None:
    codes = np.repeat([1, 2, 3], 15)
    x = table(codes, seed=5)
    names = np.array([by_code(int(c)).zh for c in codes])
    model = SpeciesClassifier(n_estimators=20, species=[1, 2, 3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, names)
    np.testing.assert_array_equal(model.classes_, [1, 2, 3])


def test_expected_species_without_samples_is_named() -> None:
    codes = np.repeat([1, 2, 3, 4, 5, 6], 10)  # no 桦木 Betula
    with pytest.warns(UserWarning, match="桦木 Betula.*code 7"):
        SpeciesClassifier(n_estimators=10).fit(table(codes, seed=3), codes)


def test_habit_without_samples_warns_and_predicts_zero() -> None:
    codes = np.repeat([3, 4], 10)
    model = SpeciesClassifier(n_estimators=10, species=[1, 3, 4])
    with pytest.warns(UserWarning) as record:
        model.fit(table(codes, seed=4), codes)
    messages = [str(w.message) for w in record]
    assert any("油松 Pinus tabuliformis (code 1) has no training samples" in m for m in messages)
    assert any("no training samples of evergreen species" in m for m in messages)
    x = table(np.array([1, 3]), seed=6)
    assert model.predict(x, [1, 2]).tolist()[0] == 0


def test_contradicting_leaf_habit_names_the_sample() -> None:
    codes = np.repeat([1, 3], 5)
    habit = np.array([HABIT[c] for c in codes])
    habit[7] = int(LeafHabit.EVERGREEN)  # a larch labelled evergreen
    with pytest.raises(InputDataError, match="sample 7: 华北落叶松.*deciduous, labelled evergreen"):
        SpeciesClassifier(n_estimators=10, species=[1, 3]).fit(table(codes, seed=7), codes,
                                                                 leaf_habit=habit)
    words = np.where(habit == 1, "evergreen", "deciduous")
    with pytest.raises(InputDataError, match="sample 7"):
        SpeciesClassifier(n_estimators=10, species=[1, 3]).fit(table(codes, seed=7), codes,
                                                                 leaf_habit=words)


def test_label_errors() -> None:
    codes = np.repeat([1, 3], 5)
    x = table(codes, seed=8)
    with pytest.raises(UnknownSpeciesError, match="code 9"):
        SpeciesClassifier(n_estimators=10).fit(x, np.r_[codes[:-1], 9])
    with pytest.raises(InputDataError, match="华北落叶松.*not among the expected"):
        SpeciesClassifier(n_estimators=10, species=[1, 2]).fit(x, codes)
    with pytest.raises(InputDataError, match=r"samples \[2\] are not whole codes"):
        SpeciesClassifier(n_estimators=10).fit(x, np.r_[1.0, 1.0, np.nan, codes[3:]])
    with pytest.raises(InputDataError, match="9 species labels for 10 samples"):
        SpeciesClassifier(n_estimators=10).fit(x, codes[:-1])


# --------------------------------------------------------------------------- species map
def feature_stack(frame: pd.DataFrame, shape: tuple[int, int]) -> xr.Dataset:
    coords = {"y": 4_100_000.0 - 30 * np.arange(shape[0]), "x": 500_000.0 + 30 * np.arange(
        shape[1])}
    return xr.Dataset({c: (("y", "x"), frame[c].to_numpy().reshape(shape)) for c in frame},
                      coords=coords)


def test_species_map_equals_table_prediction_and_is_lazy(trained) -> None:
    model, x_test, y_test = trained
    shape = (14, 20)  # 280 samples
    habit = np.array([HABIT[c] for c in y_test])
    habit[::7] = 0  # outside forest
    stack = feature_stack(x_test[list(reversed(x_test.columns))], shape)  # order by name
    stack = stack.rio.write_crs("EPSG:4546")
    habit_map = xr.DataArray(habit.reshape(shape), coords=stack.coords, dims=("y", "x"))
    expected = model.predict(x_test, habit).reshape(shape)
    eager = predict_species_map(model, stack, habit_map)
    np.testing.assert_array_equal(eager.values, expected)
    lazy = predict_species_map(model, stack.chunk({"y": 5, "x": 6}),
                               habit_map.chunk({"y": 5, "x": 6}))
    assert isinstance(lazy.data, dsa.Array)
    assert lazy.dtype == np.uint8
    np.testing.assert_array_equal(lazy.values, expected)
    assert (lazy.values[habit.reshape(shape) == 0] == 0).all()
    assert lazy.rio.crs == "EPSG:4546"


def test_species_map_errors(trained) -> None:
    model, x_test, _ = trained
    stack = feature_stack(x_test.iloc[:20], (4, 5))
    habit = xr.DataArray(np.ones((4, 5), int), coords=stack.coords, dims=("y", "x"))
    with pytest.raises(InputDataError, match="vi_integral"):
        predict_species_map(model, stack.drop_vars("vi_integral"), habit)
    with pytest.raises(GridMismatchError, match="leaf-habit"):
        predict_species_map(model, stack, habit.assign_coords(x=habit.x + 15.0))
    nudged = predict_species_map(model, stack, habit.assign_coords(x=habit.x + 1e-6))
    np.testing.assert_array_equal(nudged["x"].values, stack["x"].values)


# --------------------------------------------------------------------------- forest type
C, B, M, S = (int(t) for t in ForestType)  # 1 coniferous, 2 broadleaf, 3 mixed, 4 sparse


def grid(values: list[list[float]] | np.ndarray) -> xr.DataArray:
    a = np.asarray(values)
    return xr.DataArray(a, dims=("y", "x"),
                        coords={"y": 100.0 - 30 * np.arange(a.shape[0]),
                                "x": 30 * np.arange(a.shape[1])})


def test_pure_stands() -> None:
    assert (forest_type_map(grid(np.ones((4, 4), int))).values == C).all()
    assert (forest_type_map(grid(np.full((4, 4), 5))).values == B).all()


def test_share_of_the_window_decides() -> None:
    """HJ 1166—2021: coniferous when conifers make ≥ 65 % of the stand, else mixed."""
    six = grid([[1, 1, 1], [1, 1, 1], [4, 4, 4]])  # centre window: 6/9 = 0.667 conifer
    assert forest_type_map(six).values[1, 1] == C
    five = grid([[1, 1, 1], [1, 1, 4], [4, 4, 4]])  # 5/9 = 0.556 conifer, 4/9 broadleaf
    assert forest_type_map(five).values[1, 1] == M
    assert forest_type_map(five, dominant_share=0.55).values[1, 1] == C
    # corners see only 4 pixels inside the raster: top-left 4/4 conifer, top-right 3/4
    types = forest_type_map(five).values
    assert types[0, 0] == C
    assert types[0, 2] == C  # 3 conifers of 4 = 0.75
    assert types[2, 2] == B  # (1, 2) is broadleaf: 3 broadleaf of 4
    # window 1: each pixel alone, never mixed
    assert set(np.unique(forest_type_map(five, window=1).values)) == {C, B}


def test_non_forest_and_sparse_cover() -> None:
    species = grid([[1, 1, 0], [1, 1, 6], [3, 0, 6]])
    cover = grid([[0.5, 0.15, 0.5], [0.05, 0.3, np.nan], [0.25, 0.9, 0.19999]])
    types = forest_type_map(species, cover).values
    assert types[0, 2] == 0 and types[2, 1] == 0  # no species: not forest
    assert types[1, 0] == 0  # cover below sparse_min_cover
    assert types[0, 1] == S and types[2, 2] == S  # 0.10 <= cover < 0.20
    # (1, 1) sees 6 forest pixels (the low-cover one excluded): 4 conifer → 0.667 → coniferous
    assert types[1, 1] == C
    assert types[1, 2] == M  # NaN cover: kept as forest; its window has 2 conifers of 4
    assert types[0, 0] == C and types[2, 0] == C


def test_matches_a_scipy_window_count_oracle() -> None:
    rng = np.random.default_rng(0)
    species = rng.choice([0, 1, 2, 3, 4, 5, 6, 7], size=(23, 31), p=[0.2] + [0.8 / 7] * 7)
    cover = rng.uniform(0, 1, species.shape)
    conifer_codes = [g.code for g in species_groups() if g.is_conifer]
    forest = (species > 0) & (cover >= 0.1)
    ones = np.ones((5, 5))
    n = ndimage.correlate(forest.astype(float), ones, mode="constant", cval=0)
    nc = ndimage.correlate((forest & np.isin(species, conifer_codes)).astype(float), ones,
                           mode="constant", cval=0)
    expected = np.where(nc >= 0.65 * n, C, np.where(n - nc >= 0.65 * n, B, M))
    expected = np.where(cover < 0.2, S, expected)
    expected = np.where(forest, expected, 0)
    eager = forest_type_map(grid(species).rio.write_crs("EPSG:4546"), grid(cover), window=5)
    assert eager.rio.crs == "EPSG:4546"
    np.testing.assert_array_equal(eager.values, expected)
    lazy = forest_type_map(grid(species).chunk({"y": 4, "x": 7}), grid(cover).chunk(5),
                           window=5)
    assert isinstance(lazy.data, dsa.Array)
    np.testing.assert_array_equal(lazy.values, expected)
    assert eager.dtype == np.uint8 and eager.name == "forest_type"


def test_forest_type_errors() -> None:
    species = grid(np.ones((3, 3), int))
    with pytest.raises(InputDataError, match="window"):
        forest_type_map(species, window=2)
    with pytest.raises(InputDataError, match="sparse_min_cover"):
        forest_type_map(species, sparse_min_cover=0.3)
    with pytest.raises(InputDataError, match="dominant_share"):
        forest_type_map(species, dominant_share=0.5)
    with pytest.raises(GridMismatchError, match="canopy-cover"):
        forest_type_map(species, grid(np.ones((3, 4))))
    with pytest.raises(InputDataError, match="dims"):
        forest_type_map(species.expand_dims("band"))
