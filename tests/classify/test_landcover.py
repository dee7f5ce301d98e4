"""Land-cover random forest (C1) and block-wise prediction, with scikit-learn as the oracle."""

from __future__ import annotations

import warnings

import dask
import dask.array as dsa
import numpy as np
import pandas as pd
import pytest
import rioxarray  # noqa: F401  (the .rio accessor)
import xarray as xr
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.model_selection import cross_val_score, train_test_split

from minecarbon.classify._predict import predict_blocks
from minecarbon.classify.landcover import (
    LandCoverClassifier,
    forest_mask,
    predict_map,
    train_test_accuracy,
)
from minecarbon.config import ClassifyConfig
from minecarbon.errors import GridMismatchError, InputDataError
from minecarbon.types import LandCover

FEATURES = ["ndvi", "sr_nir", "sr_swir1", "elevation_m"]
#: class → mean of each feature (well separated but overlapping tails).
MEANS = {
    LandCover.FOREST: (0.8, 0.35, 0.15, 900.0),
    LandCover.CROPLAND: (0.5, 0.30, 0.22, 700.0),
    LandCover.WATER: (-0.2, 0.03, 0.02, 650.0),
    LandCover.MINING: (0.1, 0.25, 0.35, 800.0),
}
SPREAD = (0.08, 0.04, 0.04, 60.0)


def make_samples(n_per_class: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for code, mean in MEANS.items():
        values = rng.normal(mean, SPREAD, size=(n_per_class, len(FEATURES)))
        frame = pd.DataFrame(values, columns=FEATURES)
        frame["landcover"] = int(code)
        rows.append(frame)
    samples = pd.concat(rows, ignore_index=True)
    samples.index = [f"s{i:03d}" for i in range(len(samples))]
    return samples


def make_stack(shape: tuple[int, int] = (30, 40), seed: int = 1) -> tuple[xr.Dataset, np.ndarray]:
    """A stack whose pixels are drawn from the class distributions; also the true classes."""
    rng = np.random.default_rng(seed)
    codes = np.array([int(c) for c in MEANS])
    truth = rng.choice(codes, size=shape)
    data = {f: np.empty(shape, dtype=np.float32) for f in FEATURES}
    for code, mean in MEANS.items():
        where = truth == int(code)
        for k, f in enumerate(FEATURES):
            data[f][where] = rng.normal(mean[k], SPREAD[k], size=where.sum())
    y = 4_100_000.0 - 30.0 * np.arange(shape[0])
    x = 500_000.0 + 30.0 * np.arange(shape[1])
    stack = xr.Dataset({f: (("y", "x"), v) for f, v in data.items()}, coords={"y": y, "x": x})
    return stack.rio.write_crs("EPSG:4546"), truth


def _no_compute(*args: object, **kwargs: object) -> None:
    raise AssertionError("computed eagerly")


# ------------------------------------------------------------------------------ classifier
def test_same_forest_as_scikit_learn() -> None:
    samples = make_samples()
    model = LandCoverClassifier(n_estimators=50, random_state=3).fit(
        samples[FEATURES], samples["landcover"])
    oracle = RandomForestClassifier(n_estimators=50, random_state=3, class_weight="balanced",
                                    max_features="sqrt").fit(
        samples[FEATURES].to_numpy(), samples["landcover"].to_numpy())
    test = make_samples(seed=9)[FEATURES]
    np.testing.assert_array_equal(model.predict(test), oracle.predict(test.to_numpy()))
    np.testing.assert_allclose(model.predict_proba(test), oracle.predict_proba(test.to_numpy()))
    assert model.features_ == FEATURES
    assert model.classes_.tolist() == [1, 4, 5, 7]
    assert model.feature_importances_.index.tolist() == FEATURES
    assert model.feature_importances_.sum() == pytest.approx(1.0)
    # an array in the features' order gives the same classes
    np.testing.assert_array_equal(model.predict(test.to_numpy()), model.predict(test))


def test_scikit_learn_conventions() -> None:
    samples = make_samples(n_per_class=20)
    model = LandCoverClassifier.from_config(ClassifyConfig(n_estimators=20, seed=5))
    assert model.get_params()["n_estimators"] == 20 and model.random_state == 5
    twin = clone(model).set_params(max_features=2)
    assert twin.max_features == 2 and model.max_features == "sqrt"
    scores = cross_val_score(twin, samples[FEATURES], samples["landcover"], cv=3)
    assert scores.mean() > 0.8
    with pytest.raises(Exception, match="not fitted"):
        LandCoverClassifier().predict(samples[FEATURES])


def test_missing_feature_at_a_sample_is_refused_with_index_and_feature() -> None:
    samples = make_samples(n_per_class=10)
    samples.loc["s007", "sr_swir1"] = np.nan
    with pytest.raises(InputDataError, match=r"'s007': \['sr_swir1'\]"):
        LandCoverClassifier(n_estimators=10).fit(samples[FEATURES], samples["landcover"])
    with pytest.warns(UserWarning, match=r"dropped 1 samples.*'s007'"):
        model = LandCoverClassifier(n_estimators=10, on_missing="drop").fit(
            samples[FEATURES], samples["landcover"])
    assert model.features_ == FEATURES


def test_constant_feature_is_dropped_with_a_warning() -> None:
    samples = make_samples(n_per_class=10)
    samples["slope_deg"] = 3.0
    with pytest.warns(UserWarning, match=r"constant features \['slope_deg'\]"):
        model = LandCoverClassifier(n_estimators=10).fit(samples[[*FEATURES, "slope_deg"]],
                                                         samples["landcover"])
    assert model.features_ == FEATURES and model.dropped_features_ == ["slope_deg"]
    assert model.n_features_in_ == 5
    # both the full table and one with the used features only can be classified
    np.testing.assert_array_equal(model.predict(samples[FEATURES]),
                                  model.predict(samples[[*FEATURES, "slope_deg"]].to_numpy()))


def test_rare_class_warning_names_it() -> None:
    samples = make_samples(n_per_class=10)
    rare = samples[samples["landcover"] == int(LandCover.WATER)].index[3:]
    samples = samples.drop(rare)
    with pytest.warns(UserWarning, match=r"5 \(water\): 3"):
        LandCoverClassifier(n_estimators=10).fit(samples[FEATURES], samples["landcover"])


def test_fit_errors() -> None:
    samples = make_samples(n_per_class=5)
    with pytest.raises(InputDataError, match=r"lacks the features \['tc_wetness'\]"):
        LandCoverClassifier(features=["ndvi", "tc_wetness"]).fit(samples, samples["landcover"])
    with pytest.raises(InputDataError, match="not numeric"):
        LandCoverClassifier().fit(samples.assign(plot=["p"] * len(samples)),
                                  samples["landcover"])
    with pytest.raises(InputDataError, match="two or more"):
        LandCoverClassifier().fit(samples[FEATURES], np.ones(len(samples), dtype=int))
    with pytest.raises(InputDataError, match="missing class labels"):
        LandCoverClassifier().fit(samples[FEATURES], [np.nan] + [1.0] * (len(samples) - 1))


# ---------------------------------------------------------------------- train/test accuracy
def test_train_test_accuracy_uses_held_out_samples_only() -> None:
    samples = make_samples()
    model, report = train_test_accuracy(samples, "landcover", FEATURES, test_fraction=0.25,
                                        seed=4, n_estimators=40)
    assert report.n == 60  # 25 % of 240, stratified: 15 per class
    assert report.n_reference.tolist() == [15, 15, 15, 15]
    assert list(report.confusion.columns) == ["forest", "cropland", "water", "mining land and "
                                              "bare soil"]
    # oracle: the same split and forest by hand
    train, test = train_test_split(samples, test_size=0.25, random_state=4,
                                   stratify=samples["landcover"])
    forest = RandomForestClassifier(n_estimators=40, random_state=4, class_weight="balanced")
    forest.fit(train[FEATURES].to_numpy(), train["landcover"].to_numpy())
    expected = (forest.predict(test[FEATURES].to_numpy()) == test["landcover"]).mean()
    assert report.overall_accuracy == pytest.approx(expected)
    assert report.overall_accuracy > 0.9
    np.testing.assert_array_equal(model.predict(test), forest.predict(test[FEATURES].to_numpy()))


def test_train_test_accuracy_holds_out_whole_places() -> None:
    """A place interpreted in two years is held out whole (minecarbon.classify.holdout)."""
    samples = make_samples()
    panel = pd.concat([samples.assign(year=2010), samples.assign(year=2014)],
                      ignore_index=True).assign(place=np.tile(np.arange(len(samples)), 2))
    model, report = train_test_accuracy(panel, "landcover", FEATURES, test_fraction=0.25,
                                        seed=4, location="place", n_estimators=40)
    assert report.n % 2 == 0 and 0.2 <= report.n / len(panel) <= 0.3
    # the row-wise split would have tested places it trained on; the oracle by places does not
    train, test = train_test_split(np.arange(len(samples)), test_size=0.25, random_state=4,
                                   stratify=samples["landcover"])
    assert report.n == 2 * len(test)
    forest = RandomForestClassifier(n_estimators=40, random_state=4, class_weight="balanced")
    kept = panel[panel["place"].isin(train)]
    forest.fit(kept[FEATURES].to_numpy(), kept["landcover"].to_numpy())
    held = panel[panel["place"].isin(test)]
    expected = (forest.predict(held[FEATURES].to_numpy()) == held["landcover"]).mean()
    assert report.overall_accuracy == pytest.approx(expected)
    np.testing.assert_array_equal(model.predict(held), forest.predict(held[FEATURES].to_numpy()))
    with pytest.raises(InputDataError, match="no column 'site'"):
        train_test_accuracy(panel, "landcover", FEATURES, location="site")


def test_train_test_accuracy_errors() -> None:
    samples = make_samples(n_per_class=6)
    with pytest.raises(InputDataError, match="no column 'class'"):
        train_test_accuracy(samples, "class")
    with pytest.raises(InputDataError, match="test_fraction"):
        train_test_accuracy(samples, "landcover", test_fraction=1.0)
    lonely = samples.iloc[:-5]  # a single mining sample is left
    with pytest.raises(InputDataError, match=r"7 \(mining land and bare soil\)"):
        train_test_accuracy(lonely, "landcover", n_estimators=10)


# ------------------------------------------------------------------------------ mapping
def test_predict_map_matches_pixelwise_prediction() -> None:
    samples = make_samples()
    model = LandCoverClassifier(n_estimators=40).fit(samples[FEATURES], samples["landcover"])
    stack, truth = make_stack()
    stack["sr_nir"][3, 5] = np.nan
    out = predict_map(model, stack)
    assert out.dtype == np.uint8 and out.dims == ("y", "x") and out.name == "landcover"
    assert out.rio.crs.to_epsg() == 4546
    np.testing.assert_array_equal(out["x"], stack["x"])
    pixels = np.stack([stack[f].to_numpy().ravel() for f in FEATURES], axis=1)
    valid = np.isfinite(pixels).all(axis=1)
    expected = np.zeros(pixels.shape[0], dtype=np.uint8)
    expected[valid] = model.predict(pixels[valid])
    np.testing.assert_array_equal(out.to_numpy().ravel(), expected)
    assert out[3, 5] == 0
    assert (out.to_numpy() == truth)[np.isfinite(stack["sr_nir"].to_numpy())].mean() > 0.9


def test_predict_map_is_lazy_on_dask_and_equal_to_numpy() -> None:
    samples = make_samples()
    model = LandCoverClassifier(n_estimators=20).fit(samples[FEATURES], samples["landcover"])
    stack, _ = make_stack()
    mask = xr.DataArray(np.broadcast_to(np.arange(30)[:, None] < 20, (30, 40)), dims=("y", "x"),
                        coords={"y": stack["y"], "x": stack["x"]})
    eager = predict_map(model, stack, mask=mask)
    with dask.config.set(scheduler=_no_compute):
        lazy = predict_map(model, stack.chunk({"y": 16, "x": 16}), mask=mask)
    assert isinstance(lazy.data, dsa.Array)
    assert lazy.data.chunks == ((16, 14), (16, 16, 8))
    np.testing.assert_array_equal(lazy.compute().to_numpy(), eager.to_numpy())
    assert (eager.to_numpy()[20:] == 0).all() and (eager.to_numpy()[:20] > 0).all()


def test_predict_map_errors() -> None:
    samples = make_samples(n_per_class=10)
    model = LandCoverClassifier(n_estimators=10).fit(samples[FEATURES], samples["landcover"])
    stack, _ = make_stack((4, 5))
    with pytest.raises(InputDataError, match=r"lacks the model's features \['elevation_m'\]"):
        predict_map(model, stack.drop_vars("elevation_m"))
    with pytest.raises(GridMismatchError, match="mask"):
        predict_map(model, stack, mask=xr.DataArray(np.ones((3, 5), bool), dims=("y", "x")))
    named = LandCoverClassifier(n_estimators=10).fit(
        samples[FEATURES], samples["landcover"].map({1: "forest", 4: "crop", 5: "w", 7: "m"}))
    with pytest.raises(InputDataError, match="integer codes 1"):
        predict_map(named, stack)


def test_predict_blocks_probabilities_and_regressors() -> None:
    samples = make_samples()
    stack, _ = make_stack((12, 10))
    model = LandCoverClassifier(n_estimators=20).fit(samples[FEATURES], samples["landcover"])
    proba = predict_blocks(model, stack.chunk({"y": 5}), method="predict_proba")
    assert proba.dims == ("class", "y", "x") and proba["class"].to_numpy().tolist() == [1, 4, 5, 7]
    pixels = np.stack([stack[f].to_numpy().ravel() for f in FEATURES], axis=1)
    np.testing.assert_allclose(proba.to_numpy().reshape(4, -1).T, model.predict_proba(pixels),
                               rtol=1e-6)
    # a plain scikit-learn regressor fitted on a DataFrame: its feature_names_in_ fix the order
    reg = RandomForestRegressor(n_estimators=10, random_state=0).fit(
        samples[FEATURES[::-1]], samples["ndvi"] * 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        agc = predict_blocks(reg, stack.chunk({"x": 4}), features=FEATURES, batch=7)
    expected = reg.predict(pd.DataFrame(pixels, columns=FEATURES)[FEATURES[::-1]])
    np.testing.assert_allclose(agc.to_numpy().ravel(), expected, rtol=1e-6)
    with pytest.raises(InputDataError, match="pass features"):
        predict_blocks(RandomForestRegressor().fit(pixels, pixels[:, 0]), stack)


def test_forest_mask() -> None:
    lc = xr.DataArray(np.array([[0, 1, 2], [1, 7, 5]], dtype=np.uint8), dims=("y", "x"))
    mask = forest_mask(lc)
    assert mask.dtype == bool and mask.to_numpy().tolist() == [[False, True, False],
                                                               [True, False, False]]
    assert forest_mask(lc, (LandCover.FOREST, LandCover.SHRUB)).to_numpy().sum() == 3
