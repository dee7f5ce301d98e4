"""`catalog export --stac DIR` writes a catalogue that moves with the workspace (point 4.4)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pystac

from tests.conftest import write_tif


def _all_hrefs(folder: Path) -> list[str]:
    """Every link and asset href in the JSON files of a STAC catalogue."""
    hrefs = []
    for path in folder.rglob("*.json"):
        doc = json.loads(path.read_text())
        hrefs += [link["href"] for link in doc.get("links", [])]
        hrefs += [asset["href"] for asset in doc.get("assets", {}).values()]
    return hrefs


def _check_resolves(catalog_json: Path, expected_items: int) -> None:
    catalog = pystac.Catalog.from_file(str(catalog_json))
    items = list(catalog.get_items(recursive=True))
    assert len(items) == expected_items
    for item in items:
        for asset in item.assets.values():
            assert not Path(asset.href).is_absolute() and "://" not in asset.href
            assert Path(asset.get_absolute_href() or "").is_file(), asset.href


def test_export_inside_the_workspace_moves_with_it(cli, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    cli("init", ws)
    (tmp_path / "in").mkdir()
    for year in (2020, 2021):
        write_tif(tmp_path / "in" / f"dem_{year}.tif")
        code, _, err = cli("import", "dem", tmp_path / "in" / f"dem_{year}.tif", "-w", ws,
                           "--year", str(year))
        assert code == 0, err
    code, out, err = cli("--json", "catalog", "export", "--stac", "stac", "-w", ws)
    assert code == 0, err
    assert Path(json.loads(out)["catalog"]) == (ws / "stac" / "catalog.json").resolve()
    hrefs = _all_hrefs(ws / "stac")
    assert hrefs and not [h for h in hrefs if Path(h).is_absolute() or "://" in h]
    assert json.loads((ws / "stac/catalog.json").read_text())["type"] == "Catalog"
    assert not [h for h in hrefs if h.endswith("catalog.json") and h.startswith("/")]

    moved = tmp_path / "elsewhere" / "renamed-ws"
    moved.parent.mkdir()
    shutil.move(ws, moved)
    assert not ws.exists()
    _check_resolves(moved / "stac" / "catalog.json", expected_items=2)
    code, out, err = cli("catalog", "verify", "-w", moved)
    assert code == 0, err


def test_export_outside_the_workspace_is_relative_too(cli, tmp_path: Path) -> None:
    project = tmp_path / "project"
    ws = project / "ws"
    cli("init", ws)
    code, _, err = cli("import", "dem", write_tif(tmp_path / "dem.tif"), "-w", ws)
    assert code == 0, err
    code, _, err = cli("catalog", "export", "--stac", project / "exports" / "stac", "-w", ws)
    assert code == 0, err
    assert not [h for h in _all_hrefs(project / "exports") if Path(h).is_absolute()]
    shutil.move(project, tmp_path / "moved")  # the workspace and the export move together
    _check_resolves(tmp_path / "moved" / "exports" / "stac" / "catalog.json", expected_items=1)
