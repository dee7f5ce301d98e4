"""What a saved StratifiedModel carries and the checks on loading (no files: see tests/io)."""

from __future__ import annotations

import pytest

from minecarbon.errors import InputDataError
from minecarbon.modeling.persistence import MODEL_FORMAT, check_loaded, model_payload
from minecarbon.modeling.stratified import StratifiedModel, fit_stratified
from tests.modeling import FEATURES, synthetic_plots


@pytest.fixture(scope="module")
def model() -> StratifiedModel:
    plots = synthetic_plots({"coniferous": 30, "broadleaf": 30}, seed=40)
    return fit_stratified(plots, "agc_t_ha", "stratum", FEATURES, kinds=["svr"],
                          selector_params={"k": 3}, seed=0)


def _saved(model: StratifiedModel) -> tuple[dict, dict]:
    fmt, header, card = model_payload(model)
    assert fmt == MODEL_FORMAT and header == {"features": FEATURES}
    assert card == model.model_card()
    return header, {"model_card": card}


def test_a_consistent_model_passes(model: StratifiedModel) -> None:
    header, card = _saved(model)
    assert check_loaded(model, header, card, features=[*FEATURES, "extra"]) is model


def test_a_stack_without_the_models_features_is_refused(model: StratifiedModel) -> None:
    header, card = _saved(model)
    with pytest.raises(InputDataError, match="lacks: savi, tpi_m"):
        check_loaded(model, header, card, name="agc.joblib",
                     features=[f for f in FEATURES if f not in ("savi", "tpi_m")])


def test_mismatched_feature_names_or_objects_are_refused(model: StratifiedModel) -> None:
    header, card = _saved(model)
    with pytest.raises(InputDataError, match="feature names"):
        check_loaded(model, {"features": ["ndvi"]}, card)
    with pytest.raises(InputDataError, match="feature names"):
        check_loaded(model, header, {"model_card": {"features_in": ["ndvi"]}})
    with pytest.raises(InputDataError, match="holds a dict, not a StratifiedModel"):
        check_loaded({}, header, card)
    with pytest.raises(InputDataError, match="cannot save a list"):
        model_payload([])  # type: ignore[arg-type]


def test_other_library_versions_warn(
    model: StratifiedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    header, card = _saved(model)
    monkeypatch.setitem(model.versions, "scikit-learn", "0.1")
    with pytest.warns(UserWarning, match=r"scikit-learn 0\.1 →"):
        check_loaded(model, header, card)
