"""The web viewer as static files: 25 years of maps, a year slider, a pixel's and a unit's history.

:func:`export_viewer` writes a folder that opens offline, from disk (``file://``) or any static
web server: ``index.html``, the viewer's script and style, OpenLayers (shipped inside the
package, from the npm registry), and under ``data/``:

* ``img/<layer>[_<year>].png`` — every layer pre-rendered in the colours of the report's maps,
  at most ``max_px`` pixels a side (a grid larger than that is read decimated: block means for
  continuous layers, the nearest pixel for classes);
* ``meta.js`` — the grid, the years, the layers and their bilingual legends, the vectors (extent,
  damage, reclamation, plots with their AGC) as GeoJSON in the project CRS, the unit names and
  every unit's totals with their 95 % intervals (``products/assessment/totals.csv``);
* ``values_<year>.js`` — the AGC and its interval bounds (hundredths of t C/ha in uint16, so
  exact to 0.005 t C/ha) and the unit codes (uint8) of every displayed pixel of the year,
  deflated and base64-encoded, read when a pixel is clicked; ``values_static.js`` the trend
  class. A 1000 × 1000-pixel site of 25 years takes about 80 MB, a 200 × 200 one 3 MB.

Data are JavaScript files (``window.MC = …``) rather than JSON so that a page opened from disk
can read them: browsers refuse ``fetch`` from ``file://``. The map is drawn in the project's own
CRS (OpenLayers takes any metric projection), so a clicked coordinate maps to its grid cell
exactly, with no reprojection of the rasters.
"""

from __future__ import annotations

import base64
import json
import math
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import rasterio
from matplotlib import colormaps
from matplotlib.colors import Normalize, TwoSlopeNorm, to_rgba
from PIL import Image
from rasterio.enums import Resampling

from minecarbon.assessment.trend import TREND_LABELS
from minecarbon.errors import InputDataError
from minecarbon.io.vector import read_vector
from minecarbon.report.maps import (
    EFFECT_GRADES,
    GISTAR_BINS,
    TREND_CLASSES,
    UNIT_L1_CLASSES,
    UNIT_L2_CLASSES,
)
from minecarbon.scope.units import unit_names
from minecarbon.types import AssessmentUnit, ForestType, LandCover
from minecarbon.view.limits import MAX_PX

STATIC = Path(__file__).with_name("static")

_LANDCOVER_COLOURS = {1: "#1b7837", 2: "#a6dba0", 3: "#e6f5d0", 4: "#f6e8c3", 5: "#4393c3",
                      6: "#bababa", 7: "#8c510a"}
_FOREST_TYPE_COLOURS = {1: "#1b9e77", 2: "#66a61e", 3: "#7570b3", 4: "#e6ab02"}
LANDCOVER_CLASSES = {int(c): (c.zh, c.en, _LANDCOVER_COLOURS.get(int(c), "#999999"))
                     for c in LandCover}
FOREST_TYPE_CLASSES = {int(c): (c.zh, c.en, _FOREST_TYPE_COLOURS[int(c)]) for c in ForestType}


@dataclass
class _Grid:
    transform: Any
    width: int
    height: int
    crs: str
    factor: int = 1
    shape: tuple[int, int] = (0, 0)
    extent: list[float] = field(default_factory=list)


def _grid(root: Path, max_px: int) -> _Grid:
    probe = next(iter(sorted((root / "products/agc").glob("agc_[0-9][0-9][0-9][0-9].tif"))),
                 None)
    if probe is None:
        raise InputDataError(f"{root / 'products/agc'} holds no annual AGC map",
                             fix="run the pipeline (`minecarbon run -w WS`) before viewing it")
    with rasterio.open(probe) as src:
        g = _Grid(src.transform, src.width, src.height, str(src.crs))
    g.factor = max(1, math.ceil(max(g.width, g.height) / max_px))
    g.shape = (math.ceil(g.height / g.factor), math.ceil(g.width / g.factor))
    x0, y1 = g.transform.c, g.transform.f
    # the displayed image covers whole blocks: its extent may pass the grid's by < factor px
    px = g.transform.a * g.factor
    g.extent = [x0, y1 - g.shape[0] * px, x0 + g.shape[1] * px, y1]
    return g


def _read(path: Path, grid: _Grid, classes: bool) -> np.ndarray:
    with rasterio.open(path) as src:
        resampling = Resampling.nearest if classes else Resampling.average
        data = src.read(1, out_shape=grid.shape, resampling=resampling, masked=True)
        out: np.ndarray = data.astype("float64").filled(np.nan)
    return out


def _ramp_legend(cmap: str, low: float, high: float, units: str,
                 diverging: bool) -> dict[str, Any]:
    stops = np.linspace(0, 1, 9)
    norm: Normalize = (TwoSlopeNorm(0.0, low, high) if diverging and low < 0 < high
                       else Normalize(low, high))
    values = norm.inverse(stops)
    colours = ["#" + "".join(f"{int(v):02x}" for v in colormaps[cmap](norm(x), bytes=True)[:3])
               for x in values]
    return {"type": "ramp", "min": round(low, 2), "max": round(high, 2), "units": units,
            "colors": colours}


def _class_legend(classes: dict[int, tuple[str, str, str]], present: set[int]) -> dict[str, Any]:
    return {"type": "classes", "items": [[code, zh, en, colour]
                                         for code, (zh, en, colour) in classes.items()
                                         if code in present]}


def _b64(array: np.ndarray) -> str:
    """Deflated (zlib) and base64-encoded bytes of ``array`` (little-endian)."""
    raw = np.ascontiguousarray(array).tobytes()
    return base64.b64encode(zlib.compress(raw, 6)).decode("ascii")


def _q16(values: np.ndarray) -> np.ndarray:
    """T C/ha to hundredths in uint16 (0–655.34), 65535 where NaN: exact to 0.005 t C/ha."""
    finite = np.isfinite(values)
    q = np.where(finite, np.round(np.where(finite, values, 0.0) * 100), 65535)
    return np.clip(q, 0, 65535).astype("<u2")


def _js(path: Path, name: str, payload: Any) -> None:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    path.write_text(f"{name} = {text};\n", encoding="utf-8")


def _geojson(path: Path, crs: str, columns: list[str]) -> dict[str, Any] | None:
    if not path.exists():
        return None
    frame = read_vector(path).to_crs(crs)
    keep = [c for c in columns if c in frame.columns]
    data: dict[str, Any] = json.loads(frame[[*keep, "geometry"]].to_json(na="null"))
    data.pop("crs", None)
    return data


def _years(root: Path) -> list[int]:
    years = []
    for path in (root / "products/agc").glob("agc_[0-9][0-9][0-9][0-9].tif"):
        years.append(int(path.stem.split("_")[1]))
    return sorted(years)


class _Writer:
    """Renders the layers into ``out/data`` and collects their descriptions."""

    def __init__(self, root: Path, out: Path, grid: _Grid) -> None:
        self.root, self.out, self.grid = root, out, grid
        self.layers: list[dict[str, Any]] = []
        (out / "data" / "img").mkdir(parents=True, exist_ok=True)

    def _png_ramp(self, name: str, values: np.ndarray, cmap: str, low: float, high: float,
                  diverging: bool) -> str:
        """A palette PNG of 255 steps of the colour ramp (index 0 transparent)."""
        rel = f"data/img/{name}.png"
        norm: Normalize = (TwoSlopeNorm(0.0, low, high) if diverging and low < 0 < high
                           else Normalize(low, high, clip=True))
        finite = np.isfinite(values)
        scaled = np.clip(np.asarray(norm(np.where(finite, values, 0.0))), 0.0, 1.0)
        index = np.where(finite, 1 + np.round(scaled * 254), 0).astype(np.uint8)
        colours = colormaps[cmap](np.linspace(0, 1, 255), bytes=True)[:, :3]
        image = Image.fromarray(index, mode="P")
        image.putpalette([0, 0, 0, *colours.ravel().tolist()])
        image.save(self.out / rel, transparency=0)
        return rel

    def _png_classes(self, name: str, values: np.ndarray,
                     classes: dict[int, tuple[str, str, str]]) -> str:
        """A palette PNG (index 0 transparent): a fraction of an RGBA one's size."""
        rel = f"data/img/{name}.png"
        index = np.zeros(values.shape, dtype=np.uint8)
        palette = [0, 0, 0]
        for i, (code, (_, _, colour)) in enumerate(classes.items(), start=1):
            index[values == code] = i
            palette += [round(c * 255) for c in to_rgba(colour)[:3]]
        image = Image.fromarray(index, mode="P")
        image.putpalette(palette)
        image.save(self.out / rel, transparency=0)
        return rel

    def classes(self, layer_id: str, zh: str, en: str, pattern: str,
                classes: dict[int, tuple[str, str, str]], years: list[int] | None) -> None:
        files, present = {}, set()
        keys: list[int | None] = list(years) if years else [None]
        for key in keys:
            path = self.root / (pattern.format(year=key) if key is not None else pattern)
            if not path.exists():
                continue
            values = _read(path, self.grid, classes=True)
            present |= {int(v) for v in np.unique(values[np.isfinite(values)])}
            files[str(key) if key is not None else "all"] = self._png_classes(
                f"{layer_id}_{key}" if key is not None else layer_id, values, classes)
        if files:
            self.layers.append({"id": layer_id, "zh": zh, "en": en, "annual": years is not None,
                                "files": files, "legend": _class_legend(classes, present)})

    def ramp(self, layer_id: str, zh: str, en: str, pattern: str, years: list[int] | None,
             cmap: str, units: str, diverging: bool) -> None:
        keys: list[int | None] = list(years) if years else [None]
        paths = {k: self.root / (pattern.format(year=k) if k is not None else pattern)
                 for k in keys}
        arrays = {k: _read(p, self.grid, classes=False) for k, p in paths.items() if p.exists()}
        if not arrays:
            return
        finite = np.concatenate([a[np.isfinite(a)] for a in arrays.values()] or [np.zeros(1)])
        if finite.size == 0:
            finite = np.zeros(1)
        if diverging:
            span = float(np.percentile(np.abs(finite), 98)) or 1.0
            low, high = -span, span
        else:
            low, high = 0.0, float(np.percentile(finite, 98)) or 1.0
        files = {str(k) if k is not None else "all": self._png_ramp(
            f"{layer_id}_{k}" if k is not None else layer_id, a, cmap, low, high, diverging)
            for k, a in arrays.items()}
        self.layers.append({"id": layer_id, "zh": zh, "en": en, "annual": years is not None,
                            "files": files,
                            "legend": _ramp_legend(cmap, low, high, units, diverging)})


def _values(root: Path, out: Path, grid: _Grid, years: list[int]) -> None:
    for year in years:
        payload: dict[str, str] = {}
        for key, rel, classes in (
                ("agc", f"products/agc/agc_{year}.tif", False),
                ("lo", f"products/agc/agc_{year}_lower.tif", False),
                ("hi", f"products/agc/agc_{year}_upper.tif", False),
                ("l1", f"products/units/units_l1_{year}.tif", True),
                ("l2", f"products/units/units_l2_{year}.tif", True)):
            path = root / rel
            if path.exists():
                values = _read(path, grid, classes=classes)
                payload[key] = _b64(np.nan_to_num(values, nan=0.0).astype("uint8") if classes
                                    else _q16(values))
        _js(out / f"data/values_{year}.js", f"MC_VALUES[{year}]", payload)
    static: dict[str, str] = {}
    path = root / "products/assessment/trend_class.tif"
    if path.exists():  # trend class + 128 in uint8; 0: no trend (-128 or NaN)
        values = _read(path, grid, classes=True)
        static["trend"] = _b64(np.where(np.isfinite(values) & (values != -128), values + 128,
                                        0).astype("uint8"))
    _js(out / "data/values_static.js", "MC_STATIC", static)


def _totals(root: Path) -> dict[str, Any]:
    path = root / "products/assessment/totals.csv"
    if not path.exists():
        return {}
    frame = pd.read_csv(path)
    out = {}
    for zone, group in frame.groupby("zone", sort=False):
        group = group.sort_values("year")
        out[str(zone)] = {"zh": str(group["zone_zh"].iloc[0]), "en": str(group["zone_en"].iloc[0]),
                          "years": group["year"].astype(int).tolist(),
                          **{k: group[c].round(1).tolist() for k, c in (
                              ("agc", "agc_t"), ("lo", "agc_t_ci_low"), ("hi", "agc_t_ci_high"),
                              ("mapped", "mapped_agc_t"))}}
    return out


def _plots(root: Path, crs: str) -> dict[str, Any] | None:
    from minecarbon.catalog import Workspace
    from minecarbon.pipeline.records import read_plot_records

    if not (root / "catalog.sqlite").exists():
        return None  # a folder of products without a catalogue: no plot records to read
    with Workspace.open(root) as ws:
        paths = [ws.path(r.path) for r in ws.catalog.datasets(kind="raw:plots")]
        records = read_plot_records(ws, paths) if paths else None
    if records is None or not len(records):
        return None
    frame = records[["plot_id", "geometry"]].copy()
    agc_path = root / "products/plots/plot_agc.csv"
    if agc_path.exists():
        agc = pd.read_csv(agc_path, encoding="utf-8-sig")
        frame = frame.merge(agc[["plot_id", "agc_t_per_ha", "agc_ci_low", "agc_ci_high"]],
                            on="plot_id", how="left")
    frame = frame.set_geometry(frame.geometry.centroid).to_crs(crs)
    data: dict[str, Any] = json.loads(frame.to_json(na="null"))
    data.pop("crs", None)
    return data


def export_viewer(root: Path, out: Path, *, max_px: int = MAX_PX) -> Path:
    """Write the viewer of the workspace ``root`` into the folder ``out``; returns index.html.

    Parameters
    ----------
    root
        A workspace whose pipeline has run (at least the AGC maps).
    out
        The folder to write (created; files of an earlier export are replaced).
    max_px
        Largest side, in pixels, of the displayed rasters and of the clickable values.

    Returns
    -------
    pathlib.Path
        ``out/index.html``.

    """
    grid = _grid(root, max_px)
    years = _years(root)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("index.html", "viewer.js", "viewer.css"):
        shutil.copy2(STATIC / name, out / name)
    shutil.copytree(STATIC / "vendor", out / "vendor", dirs_exist_ok=True)
    w = _Writer(root, out, grid)
    a = "products/assessment/"
    w.ramp("agc", "地上碳储量 (t C/ha)", "above-ground carbon (t C/ha)",
           "products/agc/agc_{year}.tif", years, "YlGn", "t C/ha", diverging=False)
    w.classes("landcover", "土地覆盖", "land cover",
              "products/classification/landcover_{year}.tif", LANDCOVER_CLASSES, years)
    w.classes("forest_type", "森林类型", "forest type",
              "products/classification/forest_type_{year}.tif", FOREST_TYPE_CLASSES, years)
    w.classes("units_l1", "一级监测评估单元", "level-1 assessment units",
              "products/units/units_l1_{year}.tif", UNIT_L1_CLASSES, years)
    w.classes("units_l2", "二级监测评估单元", "level-2 assessment units",
              "products/units/units_l2_{year}.tif", UNIT_L2_CLASSES, years)
    for path in sorted((root / a).glob("change_[0-9]*_[0-9]*.tif")):
        y0, y1 = path.stem.split("_")[1:3]
        w.ramp(path.stem, f"{y0}—{y1} 年变化量 (t C/ha)", f"change {y0}–{y1} (t C/ha)",
               f"{a}{path.name}", None, "RdYlGn", "t C/ha", diverging=True)
    w.classes("trend_class", "变化趋势（Sen+MK）", "trend (Sen + Mann–Kendall)",
              f"{a}trend_class.tif", TREND_CLASSES, None)
    w.classes("cumulative_grade", "累积效应等级", "cumulative-effect grade",
              f"{a}cumulative_grade.tif", EFFECT_GRADES, None)
    for path in sorted((root / a).glob("gistar_bin_*.tif")):
        what = path.stem.removeprefix("gistar_bin_")
        w.classes(path.stem, f"冷热点 Gi*：{what}", f"hot spots (Gi*): {what}",
                  f"{a}{path.name}", GISTAR_BINS, None)
    _values(root, out, grid, years)
    vectors = {"extent": _geojson(root / "products/units/extent.gpkg", grid.crs, []),
               "plots": _plots(root, grid.crs)}
    for kind, columns in (("damage", ["form", "year"]), ("reclamation", ["year"])):
        found = sorted((root / "raw" / kind).glob("*.gpkg"))
        vectors[kind] = _geojson(found[0], grid.crs, columns) if found else None
    units = {"l1": {int(u): [u.zh, u.en] for u in AssessmentUnit},
             "l2": {code: list(unit_names(2, code)) for code in UNIT_L2_CLASSES}}
    name = ""
    toml = root / "minecarbon.toml"
    if toml.exists():
        import tomllib

        name = str(tomllib.loads(toml.read_text(encoding="utf-8")).get("project", {}).get(
            "name", ""))
    meta = {"name": name, "crs": grid.crs, "extent": grid.extent,
            "width": grid.shape[1], "height": grid.shape[0], "factor": grid.factor,
            "full": [grid.width, grid.height], "years": years, "layers": w.layers,
            "vectors": {k: v for k, v in vectors.items() if v is not None},
            "units": units, "totals": _totals(root),
            "trend_labels": {int(k): list(v) for k, v in TREND_LABELS.items()}}
    _js(out / "data/meta.js", "window.MC", meta)
    return out / "index.html"
