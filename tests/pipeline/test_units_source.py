"""Where the assessment units take their annual forest masks from (scope.forest_source)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from minecarbon.config import Config
from minecarbon.errors import InputDataError
from minecarbon.pipeline.scope_steps import forest_source

YEARS = range(2020, 2023)


def _ctx(tmp_path: Path, imported: list[int], classified: list[int], choice: str) -> object:
    (tmp_path / "raw/landcover").mkdir(parents=True, exist_ok=True)
    (tmp_path / "products/classification").mkdir(parents=True, exist_ok=True)
    records = []
    for y in imported:
        rel = f"raw/landcover/lc_{y}.tif"
        (tmp_path / rel).write_bytes(b"")
        records.append(SimpleNamespace(kind="raw:landcover", path=rel, time=str(y)))
    for y in classified:
        (tmp_path / f"products/classification/landcover_{y}.tif").write_bytes(b"")
    config = Config.model_validate({"project": {"first_year": 2020, "last_year": 2022},
                                    "scope": {"forest_source": choice}})
    workspace = SimpleNamespace(path=lambda rel: tmp_path / rel)
    return SimpleNamespace(config=config, inputs=records, workspace=workspace)


@pytest.mark.parametrize(("imported", "classified", "choice", "expected"), [
    ([2020, 2021, 2022], [2020, 2021, 2022], "auto", "imported"),
    ([2020, 2021], [2020, 2021, 2022], "auto", "classified"),
    ([], [2020, 2021, 2022], "auto", "classified"),
    ([2020, 2021, 2022], [2020, 2021, 2022], "classified", "classified"),
    ([2020, 2021, 2022], [], "imported", "imported"),
])
def test_auto_prefers_complete_imported_maps(tmp_path: Path, imported: list[int],
                                             classified: list[int], choice: str,
                                             expected: str) -> None:
    source, maps = forest_source(_ctx(tmp_path, imported, classified, choice), YEARS)  # type: ignore[arg-type]
    assert source == expected
    assert sorted(maps) == list(YEARS)
    folder = "raw/landcover" if expected == "imported" else "products/classification"
    assert all(folder in p.as_posix() for p in maps.values())


def test_missing_years_are_named(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, [2020], [2020, 2021], "auto")
    with pytest.raises(InputDataError, match=r"imported land-cover maps are missing for years "
                       r"\[2021, 2022\]"):
        forest_source(ctx, YEARS)  # type: ignore[arg-type]
    with pytest.raises(InputDataError, match="no classified land-cover maps"):
        forest_source(_ctx(tmp_path / "b", [2020], [], "classified"), YEARS)  # type: ignore[arg-type]
