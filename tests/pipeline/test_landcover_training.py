"""The land-cover forests never train on the samples that assess the maps made from them.

A panel of reference points (each place interpreted in four sample years, as stable samples
are): the held-out samples are whole places, none of them trains any of the models (the
maps' models are not refitted on them; Olofsson et al. 2014), every model's accuracy is
measured on held-out samples only, and the held-out samples returned for the series check
are all of them, not only those with leaf-off features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from minecarbon.classify.holdout import LOCATION
from minecarbon.config import ClassifyConfig
from minecarbon.errors import InputDataError
from minecarbon.pipeline.landcover_series import train_landcover_models


def _table(places: int = 150, years: tuple[int, ...] = (2000, 2005, 2010, 2015),
           seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cls = rng.integers(1, 4, places)  # forest, shrub, grass by place
    rows = []
    for k, year in enumerate(years):
        for p in range(places):
            signal = cls[p] + rng.normal(0.0, 0.6)
            rows.append({"sample_id": f"S{k}{p:04d}", "year": year, "landcover": int(cls[p]),
                         "design": "random", LOCATION: 10_000 + 37 * p,
                         "ndvi": signal, "nbr": signal + rng.normal(0.0, 0.6),
                         "leafoff_ndvi": signal + rng.normal(0.0, 0.3)
                         if rng.random() < 0.6 else np.nan})
    return pd.DataFrame(rows)


def test_held_out_places_train_no_model() -> None:
    table = _table()
    cfg = ClassifyConfig(n_estimators=30)
    models, summary, held = train_landcover_models(
        table, ["ndvi", "nbr"], ["leafoff_ndvi"], {}, cfg)
    assert [f for _, f in models] == [["ndvi", "nbr", "leafoff_ndvi"], ["ndvi", "nbr"]]
    assert summary["held_out_by_location"] is True
    held_places = set(table.loc[table["sample_id"].isin(held["sample_id"]), LOCATION])
    train_places = set(table.loc[~table["sample_id"].isin(held["sample_id"]), LOCATION])
    assert held_places and not held_places & train_places  # a place is on one side only
    assert 0.25 <= len(held) / len(table) <= 0.36
    # every held-out sample is returned, with or without leaf-off features
    assert held["sample_id"].is_unique
    has_off = table.set_index("sample_id").loc[held["sample_id"], "leafoff_ndvi"].notna()
    assert has_off.any() and (~has_off).any()
    for (model, features), name in zip(models, ("with_leaf_off", "growing_season"),
                                       strict=True):
        part = summary["models"][name]
        usable = table[features].notna().all(axis=1)
        training = usable & ~table["sample_id"].isin(held["sample_id"])
        assert part["n_training"] == int(training.sum())  # the model saw these only
        assert part["n"] == int((usable & table["sample_id"].isin(held["sample_id"])).sum())
        assert part["n"] + part["n_training"] == part["n_samples"]
        assert "probability_sample" in part
        # the forest's bootstrap drew from the training samples: refitting on all would
        # change the trees, so compare with a forest fitted on the training part alone
        again = type(model)(features=list(features), n_estimators=30,
                            min_samples_leaf=cfg.min_samples_leaf, random_state=cfg.seed)
        again.fit(table.loc[training, features], table.loc[training, "landcover"].to_numpy())
        probe = table.loc[usable, features].head(50)
        assert np.allclose(model.predict_proba(probe), again.predict_proba(probe))


def test_a_class_with_one_sample_is_refused_naming_it() -> None:
    table = _table(places=20, years=(2000,))
    table.loc[0, "landcover"] = 7
    table.loc[table["landcover"] == 7, "sample_id"] = "only"
    with pytest.raises(InputDataError, match=r"raw/samples.*\['7 \(mining land"):
        train_landcover_models(table, ["ndvi", "nbr"], [], {}, ClassifyConfig(n_estimators=10))


def test_leaf_off_forest_left_out_when_no_held_out_sample_can_assess_it() -> None:
    """Leaf-off features only where the samples were kept: that forest could not be assessed,
    so land cover is classified without it, with a warning saying why."""
    table = _table(places=60, years=(2000, 2005))
    cfg = ClassifyConfig(n_estimators=10)
    _, _, held = train_landcover_models(table, ["ndvi", "nbr"], [], {}, cfg)
    table.loc[table["sample_id"].isin(held["sample_id"]), "leafoff_ndvi"] = np.nan
    table.loc[~table["sample_id"].isin(held["sample_id"]), "leafoff_ndvi"] = 0.5
    with pytest.warns(UserWarning, match=r"leaf-off observation .* 0 of them held out"):
        models, summary, _ = train_landcover_models(
            table, ["ndvi", "nbr"], ["leafoff_ndvi"], {}, cfg)
    assert [f for _, f in models] == [["ndvi", "nbr"]]
    assert summary["leaf_off_features"] is False and summary["n"] > 0


def test_sparse_forest_trains_as_a_subclass_only_with_enough_samples_that_record_cover(
        ) -> None:
    from minecarbon.pipeline.landcover_series import SPARSE_SUBCLASS, training_labels

    cfg = ClassifyConfig()  # forest below 0.20 canopy cover is sparse
    landcover = [1] * 30 + [2] * 10
    cover = [0.15] * 12 + [0.5] * 18 + [0.4] * 10  # shrubland's cover is not forest's
    table = pd.DataFrame({"landcover": landcover, "cover": cover})
    labels = training_labels(table, cfg)
    assert labels.tolist() == [SPARSE_SUBCLASS] * 12 + [1] * 18 + [2] * 10
    few = table.assign(cover=[0.15] * 9 + [0.5] * 21 + [0.4] * 10)  # 9 sparse: too few
    assert training_labels(few, cfg).tolist() == landcover
    assert training_labels(table.drop(columns="cover"), cfg).tolist() == landcover
    blank = table.assign(cover=[np.nan] * 40)  # cover not recorded: no subclass
    assert training_labels(blank, cfg).tolist() == landcover
