"""Model files (io): joblib + JSON sidecar round trip, checksum, format; a StratifiedModel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from minecarbon.errors import InputDataError, PathNotFoundError
from minecarbon.io.files import sha256_file
from minecarbon.io.models import load_model, save_model, sidecar_path
from minecarbon.modeling.persistence import MODEL_FORMAT, check_loaded, model_payload
from minecarbon.modeling.stratified import StratifiedModel, fit_stratified
from tests.modeling import FEATURES, synthetic_plots

FMT = "test.Thing"


@pytest.fixture(scope="module")
def model() -> StratifiedModel:
    plots = synthetic_plots({"coniferous": 30, "broadleaf": 30}, seed=40)
    return fit_stratified(plots, "agc_t_ha", "stratum", FEATURES, kinds=["svr"],
                          selector_params={"k": 3}, seed=0)


def test_any_object_round_trips_with_its_card(tmp_path: Path) -> None:
    thing = {"weights": np.arange(5.0), "name": "x"}
    path = save_model(thing, tmp_path / "m" / "thing.joblib", fmt=FMT, card={"a": [1, 2]},
                      header={"features": ["f1"]}, format_version=3)
    assert path == tmp_path / "m" / "thing.joblib" and sidecar_path(path).name == "thing.json"
    side = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    assert side == {"format": FMT, "format_version": 3, "model_file": "thing.joblib",
                    "sha256": sha256_file(path), "model_card": {"a": [1, 2]}}
    stored = load_model(path, fmt=FMT)
    np.testing.assert_array_equal(stored.model["weights"], thing["weights"])
    assert stored.header == {"format": FMT, "format_version": 3, "features": ["f1"]}
    assert stored.card["model_card"] == {"a": [1, 2]}
    assert sorted(p.name for p in path.parent.iterdir()) == ["thing.joblib", "thing.json"]


def test_a_model_of_another_format_or_checksum_is_refused(tmp_path: Path) -> None:
    path = save_model([1, 2], tmp_path / "thing.joblib", fmt=FMT, card={})
    with pytest.raises(InputDataError, match="format 'other'"):
        load_model(path, fmt="other")
    side = sidecar_path(path)
    card = json.loads(side.read_text(encoding="utf-8"))
    card["sha256"] = "0" * 64
    side.write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(InputDataError, match="checksum"):
        load_model(path, fmt=FMT)
    side.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputDataError, match="not JSON"):
        load_model(path, fmt=FMT)


def test_missing_files_and_bad_names(tmp_path: Path) -> None:
    with pytest.raises(PathNotFoundError, match="nothing.joblib"):
        load_model(tmp_path / "nothing.joblib", fmt=FMT)
    path = save_model(1, tmp_path / "agc.joblib", fmt=FMT, card={})
    sidecar_path(path).unlink()
    with pytest.raises(PathNotFoundError, match="agc.json"):
        load_model(path, fmt=FMT)
    with pytest.raises(InputDataError, match=".json"):
        save_model(1, tmp_path / "agc.json", fmt=FMT, card={})
    with pytest.raises(InputDataError, match="reserved"):
        save_model(1, tmp_path / "agc.joblib", fmt=FMT, card={}, header={"model": 2})


def test_a_stratified_model_round_trip_predicts_the_same(
    model: StratifiedModel, tmp_path: Path
) -> None:
    fmt, header, card = model_payload(model)
    path = save_model(model, tmp_path / "models" / "agc.joblib", fmt=fmt, header=header,
                      card=card)
    side = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    assert side["model_card"] == json.loads(json.dumps(model.model_card()))
    stored = load_model(path, fmt=MODEL_FORMAT)
    loaded = check_loaded(stored.model, stored.header, stored.card,
                          features=[*FEATURES, "extra_band"], name=path.name)
    fresh = synthetic_plots({"coniferous": 5, "broadleaf": 5}, seed=41)
    np.testing.assert_array_equal(loaded.predict(fresh[FEATURES], fresh["stratum"]),
                                  model.predict(fresh[FEATURES], fresh["stratum"]))
    assert loaded.features == model.features


def test_an_edited_card_of_a_stratified_model_is_refused(
    model: StratifiedModel, tmp_path: Path
) -> None:
    fmt, header, card = model_payload(model)
    path = save_model(model, tmp_path / "agc.joblib", fmt=fmt, header=header, card=card)
    stored = load_model(path, fmt=MODEL_FORMAT)
    edited = {**stored.card, "model_card": {**stored.card["model_card"], "features_in": ["x"]}}
    with pytest.raises(InputDataError, match="feature names"):
        check_loaded(stored.model, stored.header, edited, name=path.name)
