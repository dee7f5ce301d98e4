"""The TM calibration in the features step: the seasonal fit on every same-year pair, the
TM/ETM+ pairs alone where the season cannot be told from the gain, the table's row with the
reason recorded and a warning unless the table was chosen (the demo site runs it on real
simulated scenes)."""

from __future__ import annotations

import json
import warnings
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import dask.array as da
import numpy as np
import pytest

from minecarbon.config import Config
from minecarbon.features.crosscal import ROLES
from minecarbon.pipeline import harmonise_steps
from minecarbon.pipeline.harmonise_steps import CROSS_CALIBRATION, calibrate_tm


class _Context:
    def __init__(self, root: Path, **features: object) -> None:
        cfg = Config()
        self.config = cfg.model_copy(update={"features": cfg.features.model_copy(
            update=features)})
        self.workspace = SimpleNamespace(path=lambda rel: root / rel, rel=str)

    def publish(self, rel: str, write, **kwargs: object) -> None:
        path = self.workspace.path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        write(path)


def _scene(sensor: str, day: date) -> SimpleNamespace:
    return SimpleNamespace(sensor=sensor, date=day, scene_id=f"{sensor}_{day}", files=[])


def test_no_pair_falls_back_to_the_table_with_a_warning_naming_why(tmp_path: Path) -> None:
    ctx = _Context(tmp_path)
    # 81 days apart; two scenes of one sensor, but no TM/ETM+ pair, within the window
    scenes = [_scene("landsat5", date(2005, 7, 1)), _scene("landsat7", date(2005, 9, 20)),
              _scene("landsat5", date(2005, 7, 17)), _scene("landsat7", date(2006, 7, 9))]
    with pytest.warns(UserWarning, match="within 64 days of each other in one year"):
        doc = calibrate_tm(ctx, None, scenes)  # type: ignore[arg-type]
    assert doc["method"] == "table" and doc["pairs"] == []
    written = json.loads((tmp_path / CROSS_CALIBRATION).read_text(encoding="utf-8"))
    assert written["reason"] == doc["reason"] and "months [6, 7, 8, 9]" in doc["reason"]


def test_the_table_chosen_is_recorded_without_a_warning(tmp_path: Path) -> None:
    ctx = _Context(tmp_path, tm_calibration="table")
    scenes = [_scene("landsat5", date(2005, 7, 1)), _scene("landsat7", date(2005, 7, 9))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        doc = calibrate_tm(ctx, None, scenes)  # type: ignore[arg-type]
    assert doc["method"] == "table" and doc["reason"] == "features.tm_calibration = table"


GAIN = np.array([0.99, 0.92, 0.78, 1.04, 1.01, 0.97])
SEASON = {7: np.ones(6), 8: np.array([0.99, 1.05, 0.88, 1.1, 1.02, 0.96])}


def _archive(monkeypatch: pytest.MonkeyPatch, scenes: list[SimpleNamespace]) -> None:
    """Scenes read as one surface seen in their month, TM's divided by the gain."""
    surface = np.random.default_rng(0).uniform(0.02, 0.4, (6, 3000))

    def read(scene: SimpleNamespace, grid: object, chunk: int) -> object:
        seen = surface * SEASON[scene.date.month][:, None]
        if scene.sensor == "landsat5":
            seen = seen / GAIN[:, None]
        return da.from_array(seen)

    monkeypatch.setattr(harmonise_steps, "_read", read)


def test_one_tm_etm_pair_and_pairs_of_one_sensor_give_the_gain(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenes = [_scene("landsat5", date(2004, 7, 18)), _scene("landsat7", date(2004, 8, 11)),
              _scene("landsat5", date(2007, 7, 11)), _scene("landsat5", date(2007, 8, 12)),
              _scene("landsat7", date(2012, 7, 16))]  # 2012: no TM, not an overlap year
    _archive(monkeypatch, scenes)
    doc = calibrate_tm(_Context(tmp_path), None, scenes)  # type: ignore[arg-type]
    assert doc["method"] == "archive" and doc["model"] == "seasonal"
    assert doc["cross_pairs"] == 1 and len(doc["pairs"]) == 2
    np.testing.assert_allclose([doc["gains"][r]["gain"] for r in ROLES], GAIN, rtol=1e-4)
    np.testing.assert_allclose([doc["seasonal_profile"][r]["8"] for r in ROLES], SEASON[8],
                               rtol=1e-4)
    assert ("2 same-year scene pairs ≤ 64 days apart, 1 of them TM/ETM+, the season's drift "
            "fitted by month" in doc["source"])
    written = json.loads((tmp_path / CROSS_CALIBRATION).read_text(encoding="utf-8"))
    assert written["model"] == "seasonal" and written["max_days"] == 64


def test_without_pairs_of_one_sensor_the_tm_etm_pairs_alone_give_the_gain(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TM in July, ETM+ in August every time: the season and the gain cannot be told apart,
    so the TM/ETM+ pairs' pooled ratio is used (and carries the season, as before)."""
    scenes = [_scene("landsat5", date(2004, 7, 18)), _scene("landsat7", date(2004, 8, 11)),
              _scene("landsat5", date(2007, 7, 11)), _scene("landsat7", date(2007, 8, 4))]
    _archive(monkeypatch, scenes)
    doc = calibrate_tm(_Context(tmp_path), None, scenes)  # type: ignore[arg-type]
    assert doc["method"] == "archive" and doc["model"] == "pairs"
    assert doc["cross_pairs"] == 2 and "seasonal_profile" not in doc
    got = np.array([doc["gains"][r]["gain"] for r in ROLES])
    np.testing.assert_allclose(got, GAIN * SEASON[8], rtol=1e-4)
