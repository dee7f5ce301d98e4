"""The TM calibration's fallbacks in the features step: the table's row, the reason recorded,
a warning unless the table was chosen (the fitted case runs on the demo site)."""

from __future__ import annotations

import json
import warnings
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from minecarbon.config import Config
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
