"""The workspace and its monitoring database (requirement R2)."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import numpy as np
import pytest

from minecarbon.catalog import Workspace
from minecarbon.catalog.stac import export_stac
from minecarbon.errors import (
    CatalogError,
    GeographicCRSError,
    InputDataError,
    MissingCRSError,
    NotAWorkspaceError,
    PathNotFoundError,
)
from minecarbon.grid import AnalysisGrid
from minecarbon.io.files import TMP_MARKER, sha256_file
from minecarbon.io.raster import to_grid_dataarray, write_geotiff
from tests.conftest import shared_path, write_tif


def test_init_creates_layout_config_and_database(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "p")
    for sub in ("raw", "work", "products/agc", "products/assessment", "reports"):
        assert (ws.root / sub).is_dir(), sub
    assert ws.config.scope.buffer_m == 500.0
    tables = {r[0] for r in sqlite3.connect(ws.root / "catalog.sqlite").execute(
        "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"datasets", "lineage", "step_runs", "meta"} <= tables
    ws.close()


def test_init_refuses_existing_workspace_and_non_empty_folder(tmp_path: Path) -> None:
    Workspace.init(tmp_path / "p").close()
    with pytest.raises(InputDataError, match="already a minecarbon workspace"):
        Workspace.init(tmp_path / "p")
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "x.txt").write_text("x")
    with pytest.raises(InputDataError, match="not an empty folder"):
        Workspace.init(tmp_path / "q")


def test_open_refuses_missing_and_non_workspace(tmp_path: Path) -> None:
    with pytest.raises(PathNotFoundError, match="does not exist"):
        Workspace.open(tmp_path / "nope")
    with pytest.raises(NotAWorkspaceError, match="not a minecarbon workspace"):
        Workspace.open(tmp_path)


def test_import_copies_read_only_with_checksum(ws: Workspace, projected_tif: Path) -> None:
    (rec,) = ws.import_raw("dem", projected_tif, time="2020")
    target = ws.root / "raw/dem/dem.tif"
    assert rec.path == "raw/dem/dem.tif"
    assert rec.kind == "raw:dem"
    assert rec.sha256 == sha256_file(projected_tif) == sha256_file(target)
    assert rec.crs == "EPSG:4546"
    assert rec.bbox == pytest.approx((500_000, 4_100_000 - 600, 500_600, 4_100_000))
    assert rec.time == "2020"
    assert rec.source == str(projected_tif.resolve())
    assert not target.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert rec.versions["minecarbon"]


def test_import_same_file_twice_is_a_no_op_but_different_content_is_refused(
    ws: Workspace, projected_tif: Path, tmp_path: Path
) -> None:
    ws.import_raw("dem", projected_tif)
    ws.import_raw("dem", projected_tif)
    assert len(ws.catalog.datasets(kind="raw")) == 1
    (tmp_path / "other").mkdir()
    other = write_tif(tmp_path / "other" / "dem.tif", size=10)
    with pytest.raises(InputDataError, match="never overwritten"):
        ws.import_raw("dem", other)
    assert ws.catalog.get("raw/dem/dem.tif").sha256 == sha256_file(projected_tif)


def test_import_refuses_raster_without_crs_or_geographic(ws: Workspace, tmp_path: Path) -> None:
    no_crs = write_tif(tmp_path / "nocrs.tif", crs=None)
    with pytest.raises(MissingCRSError, match="nocrs.tif"):
        ws.import_raw("scene", no_crs)
    geo = write_tif(tmp_path / "geo.tif", crs="EPSG:4326", x0=112.0, y0=37.5, pixel=0.0003)
    with pytest.raises(GeographicCRSError, match=r"geo\.tif.*EPSG:4546"):
        ws.import_raw("scene", geo)
    assert ws.catalog.datasets() == []
    assert not any((ws.root / "raw").rglob("*.tif"))
    (rec,) = ws.import_raw("scene", geo, allow_geographic=True)
    assert rec.crs == "EPSG:4326"


def test_import_unknown_kind_and_missing_path(ws: Workspace, projected_tif: Path) -> None:
    with pytest.raises(InputDataError, match="unknown import kind 'dems'.*use one of"):
        ws.import_raw("dems", projected_tif)
    with pytest.raises(PathNotFoundError):
        ws.import_raw("dem", projected_tif.with_name("absent.tif"))


def test_import_shapefile_brings_sidecars(ws: Workspace) -> None:
    shp = shared_path("libpysal_columbus", "columbus.shp")
    paths = sorted(r.path for r in ws.import_raw("boundary", shp))
    assert paths == ["raw/boundary/columbus.dbf", "raw/boundary/columbus.shp",
                     "raw/boundary/columbus.shx"]
    assert ws.catalog.get("raw/boundary/columbus.shp").bbox is not None


def test_publish_records_lineage_parameters_and_spatial_info(
    ws: Workspace, projected_tif: Path
) -> None:
    ws.import_raw("dem", projected_tif)
    from minecarbon.io.raster import read_raster

    dem = read_raster(ws.path("raw/dem/dem.tif"))
    rec = ws.publish(
        "products/features/slope.tif", lambda p: write_geotiff(dem * 2, p),
        kind="product:feature", step="features", inputs=["raw/dem/dem.tif"],
        parameters={"scale": 2}, time="2020",
    )
    assert rec.inputs == (("raw/dem/dem.tif", sha256_file(projected_tif)),)
    assert rec.parameters == {"scale": 2}
    assert rec.crs == "EPSG:4546" and rec.step == "features" and rec.time == "2020"
    assert rec.sha256 == sha256_file(ws.path("products/features/slope.tif"))
    # re-publishing keeps one row per path
    ws.publish("products/features/slope.tif", lambda p: write_geotiff(dem * 3, p),
               kind="product:feature", step="features", inputs=["raw/dem/dem.tif"])
    assert len(ws.catalog.datasets(kind="product")) == 1


def test_publish_failure_leaves_no_file_and_no_row(ws: Workspace) -> None:
    def broken(path: Path) -> None:
        path.write_text("half")
        raise RuntimeError("writer crashed")

    with pytest.raises(RuntimeError):
        ws.publish("products/agc/agc_2020.tif", broken, kind="product:agc")
    assert not list((ws.root / "products/agc").iterdir())
    assert ws.catalog.datasets() == []


def test_publish_refuses_unknown_input(ws: Workspace) -> None:
    with pytest.raises(CatalogError, match="no dataset 'raw/x.tif'"):
        ws.publish("products/a.txt", lambda p: p.write_text("a"), kind="product:x",
                   inputs=["raw/x.tif"])
    assert not ws.path("products/a.txt").exists()


def test_database_error_during_record_leaves_old_file(ws: Workspace, monkeypatch) -> None:
    ws.publish("products/a.txt", lambda p: p.write_text("old"), kind="product:x")

    def fail(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(ws.catalog, "upsert", fail)
    with pytest.raises(sqlite3.OperationalError):
        ws.publish("products/a.txt", lambda p: p.write_text("new"), kind="product:x")
    assert ws.path("products/a.txt").read_text() == "old"
    assert not any(TMP_MARKER in p.name for p in ws.path("products").iterdir())
    assert ws.verify() == []


def test_verify_reports_changed_missing_and_untracked(ws: Workspace, projected_tif: Path) -> None:
    ws.import_raw("dem", projected_tif)
    ws.publish("products/a.txt", lambda p: p.write_text("a"), kind="product:x")
    ws.publish("products/b.txt", lambda p: p.write_text("b"), kind="product:x")
    assert ws.verify() == []
    ws.path("products/a.txt").write_text("tampered")
    ws.path("products/b.txt").unlink()
    ws.path("products/stray.txt").write_text("?")
    found = {(p.path, p.status) for p in ws.verify()}
    assert found == {("products/a.txt", "changed"), ("products/b.txt", "missing"),
                     ("products/stray.txt", "untracked")}


def test_quick_check_trusts_size_and_mtime_but_full_check_rehashes(ws: Workspace) -> None:
    rec = ws.publish("products/a.txt", lambda p: p.write_text("aaaa"), kind="product:x")
    path = ws.path("products/a.txt")
    path.write_text("bbbb")  # same size
    os.utime(path, ns=(rec.mtime_ns, rec.mtime_ns))
    assert ws.check(rec, quick=True) is None
    problem = ws.check(rec)
    assert problem is not None and problem.status == "changed"


def test_register_untracked_raw(ws: Workspace, projected_tif: Path) -> None:
    (ws.root / "raw/scene").mkdir()
    write_tif(ws.root / "raw/scene/l8_2020.tif")
    (ws.root / "raw/notes.txt").write_text("hand-made")
    added = {r.path: r.kind for r in ws.register_untracked_raw()}
    assert added == {"raw/scene/l8_2020.tif": "raw:scene", "raw/notes.txt": "raw:other"}
    assert ws.register_untracked_raw() == []


def test_not_a_database(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "p")
    ws.close()
    (tmp_path / "p/catalog.sqlite").write_bytes(b"this is not sqlite" * 100)
    for extra in ("-wal", "-shm"):
        (tmp_path / f"p/catalog.sqlite{extra}").unlink(missing_ok=True)
    with pytest.raises(CatalogError, match="not a minecarbon monitoring database"):
        Workspace.open(tmp_path / "p")


def test_stac_export_lists_rasters_with_projection_and_time(
    ws: Workspace, tmp_path: Path, projected_tif: Path
) -> None:
    import pystac

    ws.import_raw("dem", projected_tif, time="2020")
    ws.publish("products/a.txt", lambda p: p.write_text("a"), kind="product:x")
    grid = AnalysisGrid("EPSG:4546", 30.0, 500_000.0, 4_100_000.0, 5, 4)
    grid_da = to_grid_dataarray(np.ones(grid.shape, dtype="float32"), grid, "agc")
    ws.publish("products/agc/agc_2021.tif", lambda p: write_geotiff(grid_da, p),
               kind="product:agc", step="mapping", inputs=["raw/dem/dem.tif"], time="2021")
    path = export_stac(ws, tmp_path / "stac")
    cat = pystac.Catalog.from_file(str(path))
    items = {i.id: i for i in cat.get_items(recursive=True)}
    assert len(items) == 2  # the text product is not a raster
    agc = next(i for i in items.values() if "agc_2021" in i.id)
    assert agc.properties["proj:code"] == "EPSG:4546" or agc.properties.get("proj:epsg") == 4546
    assert agc.properties["start_datetime"].startswith("2021-01-01")
    assert agc.properties["minecarbon:inputs"] == ["raw/dem/dem.tif"]
    lon0, lat0, lon1, lat1 = agc.bbox
    assert 110.9 < lon0 < lon1 < 111.1 and 36.9 < lat0 < lat1 < 37.1
    assert Path(agc.assets["data"].get_absolute_href()).exists()
    json.loads(path.read_text())
