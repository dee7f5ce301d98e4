"""Saving and loading stratified models: round trip, sidecar, feature checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from minecarbon.errors import InputDataError, PathNotFoundError
from minecarbon.modeling.persistence import load_model, save_model, sidecar_path
from minecarbon.modeling.stratified import StratifiedModel, fit_stratified
from tests.modeling import FEATURES, synthetic_plots


@pytest.fixture(scope="module")
def model() -> StratifiedModel:
    plots = synthetic_plots({"coniferous": 30, "broadleaf": 30}, seed=40)
    return fit_stratified(plots, "agc_t_ha", "stratum", FEATURES, kinds=["svr"],
                          selector_params={"k": 3}, seed=0)


def test_round_trip_predicts_the_same(model: StratifiedModel, tmp_path: Path) -> None:
    path = save_model(model, tmp_path / "models" / "agc.joblib")
    assert path.is_file() and sidecar_path(path) == tmp_path / "models" / "agc.json"
    card = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    assert card["model_card"] == json.loads(json.dumps(model.model_card()))
    assert card["model_file"] == "agc.joblib"
    loaded = load_model(path, features=[*FEATURES, "extra_band"])
    fresh = synthetic_plots({"coniferous": 5, "broadleaf": 5}, seed=41)
    np.testing.assert_array_equal(loaded.predict(fresh[FEATURES], fresh["stratum"]),
                                  model.predict(fresh[FEATURES], fresh["stratum"]))
    assert loaded.features == model.features
    assert not list(path.parent.glob(".*tmp"))  # no temporary files left


def test_a_stack_without_the_models_features_is_refused(
    model: StratifiedModel, tmp_path: Path
) -> None:
    path = save_model(model, tmp_path / "agc.joblib")
    with pytest.raises(InputDataError, match="lacks: savi, tpi_m"):
        load_model(path, features=[f for f in FEATURES if f not in ("savi", "tpi_m")])


def test_a_mismatched_sidecar_is_refused(model: StratifiedModel, tmp_path: Path) -> None:
    path = save_model(model, tmp_path / "agc.joblib")
    side = sidecar_path(path)
    card = json.loads(side.read_text(encoding="utf-8"))
    card["model_card"]["features_in"] = ["ndvi"]
    side.write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(InputDataError, match="feature names"):
        load_model(path)
    card["sha256"] = "0" * 64
    side.write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(InputDataError, match="checksum"):
        load_model(path)


def test_missing_files_and_bad_names(model: StratifiedModel, tmp_path: Path) -> None:
    with pytest.raises(PathNotFoundError, match="nothing.joblib"):
        load_model(tmp_path / "nothing.joblib")
    path = save_model(model, tmp_path / "agc.joblib")
    sidecar_path(path).unlink()
    with pytest.raises(PathNotFoundError, match="agc.json"):
        load_model(path)
    with pytest.raises(InputDataError, match=".json"):
        save_model(model, tmp_path / "agc.json")


def test_other_library_versions_warn(
    model: StratifiedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(model.versions, "scikit-learn", "0.1")
    path = save_model(model, tmp_path / "agc.joblib")
    with pytest.warns(UserWarning, match=r"scikit-learn 0\.1 →"):
        load_model(path)
