"""The bad-input catalogue (issue 15): every case is refused with one line, exit 2, no change.

A workspace with one valid file of every kind is built once; each case runs the CLI in-process
on a fresh copy of it and asserts

- exit code 2,
- stderr is exactly one line, which names the input (file, option value or path) and the fix,
- every file of the workspace and every catalogue row is as before, byte for byte.

The kinds follow the issue: tables, vectors, rasters, point clouds, options and commands.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, Polygon, box

from minecarbon.cli.main import main
from tests.pipeline._inputs import (
    CRS,
    ORDER,
    SCENE,
    SCENE_BANDS,
    SIDE,
    X0,
    Y0,
    boundary_frame,
    scene_values,
    write_raster,
)


def snapshot(root: Path) -> tuple[dict[str, str], dict[str, list[tuple[object, ...]]]]:
    """Every file's sha256 (the catalogue file aside) and every catalogue row."""
    files = {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(root.rglob("*"))
             if p.is_file() and not p.name.startswith("catalog.sqlite")}
    uri = f"file:{root / 'catalog.sqlite'}?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        rows = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}
    return files, rows


# ------------------------------------------------------------------------------ file makers
def text(tmp: Path, name: str, content: str) -> Path:
    path = tmp / name
    path.write_text(content, encoding="utf-8")
    return path


def raw_bytes(tmp: Path, name: str, content: bytes) -> Path:
    path = tmp / name
    path.write_bytes(content)
    return path


def truncated(src: Path, tmp: Path, name: str, keep: float = 0.6) -> Path:
    data = src.read_bytes()
    return raw_bytes(tmp, name, data[: int(len(data) * keep)])


def vector(tmp: Path, name: str, frame: gpd.GeoDataFrame) -> Path:
    path = tmp / name
    frame.to_file(path, engine="pyogrio")
    return path


def polys(columns: dict[str, list[object]], geoms: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=CRS)


INSIDE = box(X0 + 100, Y0 + 100, X0 + 500, Y0 + 500)
FAR = box(X0 + 40_000, Y0 + 40_000, X0 + 40_500, Y0 + 40_500)
PLOTS_HEAD = "plot_id,x,y,crs,side_m,survey_date\n"
TREES_HEAD = "plot_id,tree_id,species,dbh_cm,height_m\n"
CLIMATE_HEAD = "year,temperature_c,precipitation_mm\n"


def plots_row(pid: str = "Q1", x: object = X0 + 300, y: object = Y0 + 300,
              crs: str = "EPSG:4546", date: str = "2020-08-01") -> str:
    return f"{pid},{x},{y},{crs},30,{date}\n"


def climate(rows: str) -> str:
    return CLIMATE_HEAD + rows


OTHER_SCENE = "LC08_L2SP_125034_20200816_20200912_02_T1_SR.tif"


def scene(tmp: Path, data: np.ndarray, *, dtype: str = "uint16", name: str = OTHER_SCENE,
          descriptions: tuple[str, ...] = SCENE_BANDS, **kw: object) -> Path:
    folder = tmp / "scene"
    folder.mkdir(exist_ok=True)
    return write_raster(folder / name, data, dtype=dtype, nodata=kw.pop("nodata", 0),
                        descriptions=descriptions, **kw)  # type: ignore[arg-type]


Case = Callable[[Path, dict[str, Path]], tuple[list[str], str]]
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        assert name not in CASES
        CASES[name] = fn
        return fn
    return register


def imp(kind: str, path: Path, *extra: str) -> list[str]:
    return ["import", kind, str(path), *extra]


# ---- tables: plots
for _kind in ("plots", "trees", "climate", "models"):
    def _empty(tmp: Path, good: dict[str, Path], k: str = _kind) -> tuple[list[str], str]:
        return imp(k, raw_bytes(tmp, f"{k}_empty.csv", b"")), f"{k}_empty.csv"

    def _xlsx(tmp: Path, good: dict[str, Path], k: str = _kind) -> tuple[list[str], str]:
        return imp(k, text(tmp, f"{k}.xlsx", "this is not a workbook")), f"{k}.xlsx"

    def _garbage(tmp: Path, good: dict[str, Path], k: str = _kind) -> tuple[list[str], str]:
        data = np.random.default_rng(3).integers(0, 256, 4000, dtype=np.uint8).tobytes()
        return imp(k, raw_bytes(tmp, f"{k}_garbage.csv", data)), f"{k}_garbage.csv"

    case(f"{_kind}-zero-bytes")(_empty)
    case(f"{_kind}-text-named-xlsx")(_xlsx)
    case(f"{_kind}-binary-garbage")(_garbage)


@case("plots-header-only")
def _(tmp, good):
    return imp("plots", text(tmp, "p.csv", PLOTS_HEAD)), "p.csv"


@case("plots-missing-y")
def _(tmp, good):
    return imp("plots", text(tmp, "p.csv", "plot_id,x\nQ1,587300\n")), "p.csv"


@case("plots-coordinate-not-a-number")
def _(tmp, good):
    return imp("plots", text(tmp, "p.csv", PLOTS_HEAD + plots_row(x="abc"))), "p.csv"


@case("plots-duplicate-id")
def _(tmp, good):
    return imp("plots", text(tmp, "p.csv", PLOTS_HEAD + plots_row() + plots_row())), "p.csv"


@case("plots-all-outside-extent")
def _(tmp, good):
    return imp("plots", text(tmp, "p.csv", PLOTS_HEAD + plots_row(x=X0 + 60_000))), "p.csv"


@case("plots-ids-already-imported")
def _(tmp, good):
    return imp("plots", text(tmp, "p2.csv", PLOTS_HEAD + plots_row("P1"))), "p2.csv"


@case("plots-bad-date")
def _(tmp, good):
    return imp("plots", text(tmp, "p.csv", PLOTS_HEAD + plots_row(date="2020-13-45"))), "p.csv"


@case("plots-unknown-crs")
def _(tmp, good):
    return imp("plots", text(tmp, "p.csv", PLOTS_HEAD + plots_row(crs="EPSG:999999"))), "p.csv"


@case("plots-semicolon-separated")
def _(tmp, good):
    return imp("plots", text(tmp, "p.csv", "plot_id;x;y\nQ1;587300;4093300\n")), "p.csv"


@case("climate-tab-separated")
def _(tmp, good):
    return imp("climate", text(tmp, "c.csv", "year\ttemperature_c\tprecipitation_mm\n"
                               "2030\t9\t500\n")), "c.csv"


@case("plots-given-as-raster")
def _(tmp, good):
    return imp("plots", good["dem"]), "dem.tif"


# ---- tables: trees
def trees(tmp: Path, rows: str, head: str = TREES_HEAD) -> tuple[list[str], str]:
    return imp("trees", text(tmp, "t.csv", head + rows)), "t.csv"


case("trees-dbh-9999")(lambda tmp, good: trees(tmp, "P0,X1,刺槐,9999,9\n"))
case("trees-dbh-negative")(lambda tmp, good: trees(tmp, "P0,X1,刺槐,-3,9\n"))
case("trees-dbh-text")(lambda tmp, good: trees(tmp, "P0,X1,刺槐,big,9\n"))
case("trees-unknown-plot")(lambda tmp, good: trees(tmp, "P9,X1,刺槐,12,9\n"))
case("trees-duplicate-tree")(lambda tmp, good: trees(tmp, "P0,X1,刺槐,12,9\nP0,X1,刺槐,13,9\n"))
case("trees-no-dbh-column")(lambda tmp, good: trees(tmp, "P0,X1,刺槐,9\n",
                                                     "plot_id,tree_id,species,height_m\n"))
case("trees-height-500")(lambda tmp, good: trees(tmp, "P0,X1,刺槐,12,500\n"))
case("trees-header-only")(lambda tmp, good: trees(tmp, ""))
case("trees-blank-species-and-dbh")(lambda tmp, good: trees(tmp, "P0,X1,,,9\n"))


# ---- tables: climate
def clim(tmp: Path, body: str, name: str = "c.csv") -> tuple[list[str], str]:
    return imp("climate", text(tmp, name, body)), name


case("climate-temperature-warm")(lambda tmp, good: clim(tmp, climate("2025,warm,500\n")))
case("climate-year-abc")(lambda tmp, good: clim(tmp, climate("abc,9,500\n")))
case("climate-year-3000")(lambda tmp, good: clim(tmp, climate("3000,9,500\n")))
case("climate-duplicate-year")(lambda tmp, good: clim(tmp, climate("2025,9,500\n2025,9,510\n")))
case("climate-temperature-300")(lambda tmp, good: clim(tmp, climate("2025,300,500\n")))
case("climate-negative-precipitation")(lambda tmp, good: clim(tmp, climate("2025,9,-40\n")))
case("climate-missing-column")(lambda tmp, good: clim(tmp, "year,temperature_c\n2025,9\n"))
case("climate-years-already-imported")(
    lambda tmp, good: clim(tmp, climate("2010,9,500\n2011,9,500\n"), "c2.csv"))
case("climate-given-as-vector")(lambda tmp, good: (imp("climate", good["damage"]), "damage.gpkg"))


# ---- tables: biomass models, TLS tallies
@case("models-missing-columns")
def _(tmp, good):
    return imp("models", text(tmp, "m.csv", "model_id,a\nx,1\n")), "m.csv"


@case("models-coefficient-not-a-number")
def _(tmp, good):
    import csv
    import io

    rows = list(csv.reader(io.StringIO(good["models"].read_text(encoding="utf-8"))))
    rows[1][rows[0].index("a")] = "abc"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return imp("models", text(tmp, "m.csv", out.getvalue())), "m.csv"


@case("models-as-excel")
def _(tmp, good):
    return imp("models", raw_bytes(tmp, "m.xlsx", b"PK\x03\x04 not really")), "m.xlsx"


@case("tls-tally-dbh-text")
def _(tmp, good):
    return imp("tls", text(tmp, "tally.csv", TREES_HEAD + "P0,X1,刺槐,big,9\n")), "tally.csv"


# ---- vectors
def vec(kind: str, tmp: Path, frame: gpd.GeoDataFrame, name: str = "v.gpkg"
        ) -> tuple[list[str], str]:
    return imp(kind, vector(tmp, name, frame)), name


case("boundary-point")(lambda tmp, good: vec("boundary", tmp, polys({}, [Point(X0, Y0)])))
case("boundary-line")(
    lambda tmp, good: vec("boundary", tmp, polys({}, [LineString([(X0, Y0), (X0 + SIDE, Y0)])])))
case("boundary-moved-3000-km")(
    lambda tmp, good: vec("boundary", tmp, boundary_frame(dy=3_000_000.0)))
case("boundary-off-every-image")(lambda tmp, good: vec("boundary", tmp, boundary_frame(dx=60_000)))
case("boundary-bowtie")(lambda tmp, good: vec("boundary", tmp, polys({}, [Polygon(
    [(X0, Y0), (X0 + SIDE, Y0 + SIDE), (X0 + SIDE, Y0), (X0, Y0 + SIDE)])])))
case("boundary-no-features")(lambda tmp, good: vec("boundary", tmp, boundary_frame().iloc[:0]))
case("influence-line")(
    lambda tmp, good: vec("influence", tmp, polys({}, [LineString([(X0, Y0), (X0, Y0 + 9)])])))


@case("boundary-shapefile-without-prj")
def _(tmp, good):
    path = tmp / "b.shp"
    boundary_frame().to_file(path, engine="pyogrio")
    path.with_suffix(".prj").unlink()
    return imp("boundary", path), "b.shp"


case("boundary-text-named-gpkg")(
    lambda tmp, good: (imp("boundary", text(tmp, "b.gpkg", "not a geopackage")), "b.gpkg"))
case("boundary-truncated-gpkg")(
    lambda tmp, good: (imp("boundary", truncated(good["boundary"], tmp, "b.gpkg", 0.3)), "b.gpkg"))
case("boundary-given-as-table")(lambda tmp, good: (imp("boundary", good["plots"]), "plots.csv"))
case("boundary-given-as-raster")(lambda tmp, good: (imp("boundary", good["dem"]), "dem.tif"))
case("damage-unknown-form")(
    lambda tmp, good: vec("damage", tmp, polys({"form": ["爆炸"], "year": [2012]}, [INSIDE])))
case("damage-no-year")(lambda tmp, good: vec("damage", tmp, polys({"form": ["挖损"]}, [INSIDE])))
case("damage-year-1800")(
    lambda tmp, good: vec("damage", tmp, polys({"form": ["挖损"], "year": [1800]}, [INSIDE])))
case("damage-outside-extent")(
    lambda tmp, good: vec("damage", tmp, polys({"form": ["挖损"], "year": [2012]}, [FAR])))
case("damage-points")(lambda tmp, good: vec(
    "damage", tmp, polys({"form": ["挖损"], "year": [2012]}, [Point(X0 + 50, Y0 + 50)])))
case("damage-given-as-table")(lambda tmp, good: (imp("damage", good["climate"]), "climate.csv"))
case("plan-no-form")(lambda tmp, good: vec("plan", tmp, polys({"year": [2030]}, [INSIDE])))
case("reclamation-outside-extent")(
    lambda tmp, good: vec("reclamation", tmp, polys({"year": [2019]}, [FAR])))
case("disturbance-outside-extent")(lambda tmp, good: vec(
    "disturbance", tmp, polys({"type": ["fire"], "year": [2019]}, [FAR])))
case("zones-points")(lambda tmp, good: vec("zones", tmp, polys({"zone_id": [1]}, [Point(X0, Y0)])))
case("zones-outside-extent")(lambda tmp, good: vec("zones", tmp, polys({"zone_id": [1]}, [FAR])))
case("samples-polygons")(lambda tmp, good: vec("samples", tmp, polys(
    {"sample_id": [1], "year": [2020], "landcover": [1]}, [INSIDE])))
case("samples-no-landcover")(lambda tmp, good: vec("samples", tmp, polys(
    {"sample_id": [1], "year": [2020]}, [Point(X0 + 50, Y0 + 50)])))
case("samples-unknown-code")(lambda tmp, good: vec("samples", tmp, polys(
    {"sample_id": [1], "year": [2020], "landcover": [42]}, [Point(X0 + 50, Y0 + 50)])))
case("samples-outside-extent")(lambda tmp, good: vec("samples", tmp, polys(
    {"sample_id": [1], "year": [2020], "landcover": [1]}, [Point(X0 + 40_000, Y0)])))
case("samples-year-text")(lambda tmp, good: vec("samples", tmp, polys(
    {"sample_id": [1], "year": ["last"], "landcover": [1]}, [Point(X0 + 50, Y0 + 50)])))
case("reference-polygons")(lambda tmp, good: vec("reference", tmp, polys(
    {"trend": ["stable"]}, [INSIDE])))
case("reference-no-trend")(lambda tmp, good: vec("reference", tmp, polys(
    {"label": ["stable"]}, [Point(X0 + 50, Y0 + 50)])))
case("reference-unknown-label")(lambda tmp, good: vec("reference", tmp, polys(
    {"trend": ["stable", "going up"]}, [Point(X0 + 50, Y0 + 50), Point(X0 + 80, Y0 + 50)])))
case("reference-unknown-checked-label")(lambda tmp, good: vec("reference", tmp, polys(
    {"trend": ["stable", "increase"], "trend_checked": [None, "going up"]},
    [Point(X0 + 50, Y0 + 50), Point(X0 + 80, Y0 + 50)])))


# ---- rasters
def nodata_scene(tmp: Path) -> Path:
    return scene(tmp, np.zeros((7, 80, 80)))


case("scene-truncated")(lambda tmp, good: (
    imp("scene", truncated(good["scene"], tmp, OTHER_SCENE, 0.5)), OTHER_SCENE))
case("scene-text-named-tif")(
    lambda tmp, good: (imp("scene", text(tmp, OTHER_SCENE, "no image")), OTHER_SCENE))
case("scene-no-overlap")(lambda tmp, good: (
    imp("scene", scene(tmp, scene_values(), x0=X0 + 60_000)), OTHER_SCENE))
case("scene-two-bands")(lambda tmp, good: (
    imp("scene", scene(tmp, scene_values()[:2], descriptions=SCENE_BANDS[:2])), OTHER_SCENE))
case("scene-all-nodata")(lambda tmp, good: (imp("scene", nodata_scene(tmp)), OTHER_SCENE))
case("scene-reflectance-times-3-float")(lambda tmp, good: (imp("scene", scene(
    tmp, np.concatenate([(scene_values()[:6] * 2.75e-5 - 0.2) * 3, scene_values()[6:]]),
    dtype="float32")), OTHER_SCENE))
case("scene-reflectance-float")(lambda tmp, good: (imp("scene", scene(
    tmp, np.concatenate([scene_values()[:6] * 2.75e-5 - 0.2, scene_values()[6:]]),
    dtype="float32")), OTHER_SCENE))
case("scene-unnamed-bands")(lambda tmp, good: (
    imp("scene", scene(tmp, scene_values(), descriptions=("a", "b", "c", "d", "e", "f", "g"))),
    OTHER_SCENE))
case("scene-no-crs")(
    lambda tmp, good: (imp("scene", scene(tmp, scene_values(), crs=None)), OTHER_SCENE))
case("scene-no-date-or-sensor")(lambda tmp, good: (
    imp("scene", scene(tmp, scene_values(), name="image.tif")), "image.tif"))


def dem(tmp: Path, data: np.ndarray, **kw: object) -> tuple[list[str], str]:
    path = write_raster(tmp / "d.tif", data, dtype="float32",
                        nodata=kw.pop("nodata", -9999.0), **kw)  # type: ignore[arg-type]
    return imp("dem", path), "d.tif"


case("dem-no-overlap")(lambda tmp, good: dem(tmp, np.full((80, 80), 800.0), x0=X0 + 60_000))
case("dem-all-nodata")(lambda tmp, good: dem(tmp, np.full((80, 80), -9999.0)))
case("dem-in-centimetres")(lambda tmp, good: dem(tmp, np.full((80, 80), 80_000.0)))
case("dem-no-crs")(lambda tmp, good: dem(tmp, np.full((80, 80), 800.0), crs=None))
case("dem-all-nan")(lambda tmp, good: dem(tmp, np.full((80, 80), np.nan), nodata=None))
case("dem-truncated")(lambda tmp, good: (imp("dem", truncated(good["dem"], tmp, "d.tif")), "d.tif"))
case("dem-given-a-scene")(lambda tmp, good: (imp("dem", good["scene"]), SCENE))


def landcover(tmp: Path, data: np.ndarray, name: str = "lc_2021.tif", *extra: str,
              dtype: str = "uint8", **kw: object) -> tuple[list[str], str]:
    path = write_raster(tmp / name, data, dtype=dtype, nodata=kw.pop("nodata", 0),
                        **kw)  # type: ignore[arg-type]
    return imp("landcover", path, *extra), name


case("landcover-unknown-codes")(lambda tmp, good: landcover(tmp, np.full((80, 80), 55)))
case("landcover-all-nodata")(lambda tmp, good: landcover(tmp, np.zeros((80, 80))))
case("landcover-second-map-of-a-year")(
    lambda tmp, good: landcover(tmp, np.ones((80, 80)), "lc_b_2020.tif"))
case("landcover-second-map-of-a-year-by-option")(
    lambda tmp, good: landcover(tmp, np.ones((80, 80)), "lc.tif", "--year", "2020"))
case("landcover-without-year")(lambda tmp, good: landcover(tmp, np.ones((80, 80)), "lc.tif"))
case("landcover-fractions")(
    lambda tmp, good: landcover(tmp, np.full((80, 80), 1.5), dtype="float32", nodata=-1))
case("landcover-same-name-other-content")(
    lambda tmp, good: landcover(tmp, np.full((80, 80), 2), "landcover_2020.tif"))
case("landcover-no-overlap")(
    lambda tmp, good: landcover(tmp, np.ones((80, 80)), x0=X0 + 60_000))


# ---- point clouds
case("tls-truncated-laz")(lambda tmp, good: (
    imp("tls", truncated(good["tls"], tmp, "tls_P2.laz")), "tls_P2.laz"))
case("als-truncated-laz")(lambda tmp, good: (
    imp("als", truncated(good["als"], tmp, "als_b.laz")), "als_b.laz"))
case("tls-text-named-laz")(lambda tmp, good: (
    imp("tls", text(tmp, "tls_P3.laz", "no points")), "tls_P3.laz"))
case("tls-zero-bytes")(lambda tmp, good: (
    imp("tls", raw_bytes(tmp, "tls_P4.laz", b"")), "tls_P4.laz"))
case("cloud-given-as-dem")(lambda tmp, good: (imp("dem", good["als"]), "als_tile.laz"))


@case("als-no-crs")
def _(tmp, good):
    from minecarbon.io.pointcloud import write_las

    xyz = np.column_stack([np.linspace(X0, X0 + 100, 50), np.linspace(Y0, Y0 + 100, 50),
                           np.full(50, 800.0)])
    return imp("als", write_las(tmp / "als_c.laz", xyz)), "als_c.laz"


@case("als-outside-extent")
def _(tmp, good):
    from minecarbon.io.pointcloud import write_las

    xyz = np.column_stack([np.linspace(X0 + 40_000, X0 + 40_100, 50),
                           np.linspace(Y0, Y0 + 100, 50), np.full(50, 800.0)])
    return imp("als", write_las(tmp / "als_d.laz", xyz, crs_epsg=4546)), "als_d.laz"


# ---- `minecarbon tls`: the cloud and tally are checked first, taken back if measuring fails
case("tls-command-truncated-cloud")(lambda tmp, good: (
    ["tls", str(truncated(good["tls"], tmp, "tls_P1.laz"))], "tls_P1.laz"))
case("tls-command-text-cloud")(lambda tmp, good: (
    ["tls", str(text(tmp, "tls_P1.laz", "no points"))], "tls_P1.laz"))
case("tls-command-bad-tally")(lambda tmp, good: (
    ["tls", str(good["tls"]), "--tally", str(text(tmp, "tally_P1.csv", TREES_HEAD
                                                   + "P1,X1,刺槐,big,9\n"))], "tally_P1.csv"))


@case("tls-command-cloud-without-ground")
def _(tmp, good):
    from minecarbon.io.pointcloud import write_las

    rng = np.random.default_rng(5)  # a cloud over plot P1 (centre X0 + 450, Y0 + 600)
    xyz = np.column_stack([rng.uniform(-15, 15, 3000) + X0 + 450,
                           rng.uniform(-15, 15, 3000) + Y0 + 600, rng.uniform(0, 15, 3000)])
    cloud = write_las(tmp / "P1.laz", xyz, crs_epsg=4546)
    tally = text(tmp, "tally_P1.csv", TREES_HEAD + "P1,X1,刺槐,12,9\n")
    return ["tls", str(cloud), "--tally", str(tally)], "P1.laz"


@case("tls-command-cloud-of-another-plot-name")
def _(tmp, good):
    path = tmp / "tls_P2.laz"
    shutil.copy(good["tls"], path)
    tally = text(tmp, "tally_P2.csv", TREES_HEAD + "P1,X1,刺槐,12,9\n")
    return ["tls", str(path), "--tally", str(tally)], "tls_P2.laz"


# ---- options and commands
case("import-year-abc")(lambda tmp, good: (imp("climate", good["climate"], "--year", "abc"), "abc"))
case("import-year-3024")(lambda tmp, good: (imp("dem", good["dem"], "--year", "3024"), "3024"))
case("import-unknown-kind")(lambda tmp, good: (imp("lidar", good["als"]), "lidar"))
case("import-missing-path")(lambda tmp, good: (imp("dem", tmp / "nowhere.tif"), "nowhere.tif"))
case("report-lang-fr")(lambda tmp, good: (["report", "--lang", "fr"], "fr"))
case("run-scheduler-bogus")(lambda tmp, good: (["run", "--scheduler", "bogus"], "bogus"))
case("run-scheduler-unreachable")(
    lambda tmp, good: (["run", "--scheduler", "tcp://127.0.0.1:9"], "127.0.0.1:9"))
case("report-scheduler-bogus")(lambda tmp, good: (["report", "--scheduler", "nope"], "nope"))
case("run-until-unknown-step")(lambda tmp, good: (["run", "--until", "everything"], "everything"))
case("run-force-unknown-step")(lambda tmp, good: (["run", "--force", "nothing"], "nothing"))
case("remove-a-product-path")(
    lambda tmp, good: (["remove", "products/agc/agc_2020.tif"], "products/agc/agc_2020.tif"))
case("remove-unknown-raw-path")(
    lambda tmp, good: (["remove", "raw/dem/other.tif"], "raw/dem/other.tif"))
case("remove-one-good-one-unknown")(
    lambda tmp, good: (["remove", "raw/dem/dem.tif", "raw/dem/x.tif"], "raw/dem/x.tif"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_refused_with_one_line_and_changes_nothing(
        name: str, base: Path, good: dict[str, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(base, ws)
    files = tmp_path / "input"
    files.mkdir()
    args, names = CASES[name](files, good)
    before = snapshot(ws)
    capsys.readouterr()
    code = main([*args, "-w", str(ws)])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1, err
    assert names in lines[0], lines[0]
    assert "fix" in lines[0].lower() or "usage" in lines[0].lower(), lines[0]
    after = snapshot(ws)
    assert after[0] == before[0]
    assert after[1] == before[1]
    assert len(before[0]) >= len(ORDER)  # the comparison covered the imported files


def test_the_catalogue_holds_at_least_ninety_cases() -> None:
    assert len(CASES) >= 90


@pytest.mark.parametrize("lang", ["fr", "de"])
def test_demo_refuses_an_unknown_language_before_simulating(
        lang: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "-w", str(tmp_path / "demo"), "--lang", lang])
    err = capsys.readouterr().err
    assert code == 2
    assert len([x for x in err.splitlines() if x.strip()]) == 1, err
    assert lang in err
    assert not (tmp_path / "demo").exists()


def test_every_good_input_was_admitted(base: Path) -> None:
    kinds = {p.parent.name for p in (base / "raw").rglob("*") if p.is_file()}
    assert kinds == set(ORDER)
