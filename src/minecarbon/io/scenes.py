"""Finding and reading satellite scenes as providers deliver them (requirement F2).

Three layouts are understood, mixed freely:

- one multi-band GeoTIFF per scene whose band descriptions name the bands (``SR_B4``, ``B04``,
  ``QA_PIXEL``, ``SCL``) — what the demo delivers and what a GEE export looks like;
- one GeoTIFF per band, Landsat Collection-2 style:
  ``LC08_L2SP_125034_20200715_20200912_02_T1_SR_B4.TIF`` and ``…_QA_PIXEL.TIF``;
- one file per band, Sentinel-2 SAFE style: ``T49SFB_20220715T031541_B04_10m.jp2`` and
  ``…_SCL_20m.jp2`` (the level and processing baseline are read from the ``.SAFE`` folder name,
  ``S2A_MSIL2A_20220715T031541_N0400_…``, however deep below it the files lie, as in
  ``GRANULE/…/IMG_DATA/R10m/``; a band delivered at several resolutions is read at its finest).

Providers' bundles (a Landsat ``.tar``, a ``.SAFE.zip``) are unpacked at import
(:mod:`minecarbon.io.bundles`).

The sensor comes from the name's prefix (``LC08`` → landsat8, ``S2A`` → sentinel2, ``GF6`` →
gf6_wfv; a ``SENSOR_ID`` tag overrides), the date from an ``ACQUISITION_DATE`` tag or the first
8-digit date in the name, the level from ``L2SP``/``L1TP``/``MSIL2A``/``MSIL1C``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import xarray as xr

from minecarbon.errors import InputDataError
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import is_raster, raster_bands, read_on_grid
from minecarbon.standard.sensors import QA_PRODUCT, detect_sensor, sensor

QA_NAMES = {"QA_PIXEL": "landsat_c2_qa_pixel", "SCL": "sentinel2_scl"}
_DATE = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})([01][0-9])([0-3][0-9])(?![0-9]{2})")
_LANDSAT_BAND = re.compile(r"^(?P<stem>.+?)_(?P<band>(?:SR|ST|TOA)_B[0-9]+|B[0-9]+|QA_PIXEL)$",
                           re.IGNORECASE)
_S2_BAND = re.compile(r"^(?P<stem>T[0-9]{2}[A-Z]{3}_[0-9]{8}T[0-9]{6})_(?P<band>B[0-9]{2}|B8A|SCL)"
                      r"(?:_[0-9]+m)?$", re.IGNORECASE)
_BASELINE = re.compile(r"_N([0-9]{2})([0-9]{2})_")


@dataclass
class SceneFiles:
    """One acquisition: where each of its bands is stored.

    Attributes
    ----------
    scene_id
        The product name the bands share.
    sensor
        Sensor id (:mod:`minecarbon.standard.sensors`).
    date
        Acquisition date.
    product_level
        ``"sr"`` (surface reflectance), ``"toa"`` or ``"dn"``.
    bands
        Band id (``B4``) → (file, 1-based band index).
    qa
        (file, band index, QA product) of the quality band, if any.
    boa_add_offset
        Sentinel-2 ``BOA_ADD_OFFSET`` in DN when stated.
    processing_baseline
        Sentinel-2 processing baseline when known (4.0 for ``N0400``).

    """

    scene_id: str
    sensor: str
    date: date
    product_level: str
    bands: dict[str, tuple[Path, int]] = field(default_factory=dict)
    qa: tuple[Path, int, str] | None = None
    boa_add_offset: float | None = None
    processing_baseline: float | None = None

    @property
    def files(self) -> list[Path]:
        """Every file of the scene."""
        paths = [p for p, _ in self.bands.values()] + ([self.qa[0]] if self.qa else [])
        return sorted(set(paths))


def _date_of(name: str, tags: dict[str, str]) -> date | None:
    text = tags.get("ACQUISITION_DATE") or tags.get("DATE_ACQUIRED")
    if text:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            pass
    for m in _DATE.finditer(name):
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            continue
    return None


def _level_of(text: str, sensor_id: str) -> str:
    upper = text.upper()
    if "L2SP" in upper or "L2SR" in upper or "MSIL2A" in upper or "_SR" in upper:
        return "sr"
    if "L1TP" in upper or "L1GT" in upper or "L1GS" in upper or "MSIL1C" in upper:
        return "toa"
    return "dn" if sensor_id.startswith("gf") else "sr"


def _float_tag(tags: dict[str, str], key: str) -> float | None:
    try:
        return float(tags[key]) if key in tags else None
    except ValueError:
        return None


def band_of_file(path: Path) -> tuple[str, str] | None:
    """(scene stem, band as named) of a one-band file named the provider's way, else None.

    ``LC08_L2SP_…_T1_SR_B4.TIF`` → (``LC08_L2SP_…_T1``, ``SR_B4``);
    ``T49SFB_20220715T031541_B04_10m.jp2`` → (``T49SFB_20220715T031541``, ``B04``).
    """
    stem = path.stem
    for pattern in (_S2_BAND, _LANDSAT_BAND):
        m = pattern.match(stem)
        if m:
            return m.group("stem"), m.group("band").upper()
    return None


def find_scenes(paths: list[Path]) -> list[SceneFiles]:
    """Group raster files into scenes, sorted by date; files that are not scenes are ignored.

    A band (or quality layer) delivered at several resolutions, as a Sentinel-2 L2A product
    delivers B04 at 10, 20 and 60 m, is read from its finest file.

    A file whose sensor or date cannot be told raises :class:`InputDataError` naming it.
    """
    scenes: dict[str, SceneFiles] = {}
    finest: dict[tuple[str, str], float] = {}  # (scene, band) → pixel size read so far
    for path in sorted(p for p in paths if is_raster(p)):
        info = raster_bands(path)
        per_band = band_of_file(path) if info.count == 1 else None
        context = "/".join(p.name for p in path.parents[:3][::-1]) + "/" + path.name
        safe = next((part for part in path.parts[::-1] if part.upper().endswith(".SAFE")), "")
        context = f"{safe}/{context}" if safe and safe not in context else context
        scene_id = per_band[0] if per_band else path.stem
        sensor_id = info.tags.get("SENSOR_ID") or detect_sensor(scene_id) or next(
            (s for part in path.parts[::-1] if (s := detect_sensor(part))), None)
        when = _date_of(scene_id, info.tags) or _date_of(context, {})
        if sensor_id is None or when is None:
            missing = "sensor" if sensor_id is None else "acquisition date"
            raise InputDataError(
                f"cannot tell the {missing} of scene file {path.name}",
                fix="keep the provider's file name (e.g. LC08_L2SP_125034_20200715_…_SR_B4.TIF"
                " or S2A_MSIL2A_20220715T…), or set the SENSOR_ID / ACQUISITION_DATE tags",
            )
        sen = sensor(sensor_id)
        key = f"{sen.id}:{scene_id}"
        scene = scenes.setdefault(key, SceneFiles(
            scene_id, sen.id, when, _level_of(context, sen.id),
            boa_add_offset=_float_tag(info.tags, "BOA_ADD_OFFSET"),
            processing_baseline=_baseline(context)))
        names = (per_band[1],) if per_band else info.descriptions
        for index, name in enumerate(names, start=1):
            upper = name.upper()
            band = QA_NAMES.get(upper) or (b.band if name and (b := sen.band_by_id(name))
                                           else None)
            if band is None or finest.get((key, band), float("inf")) <= info.resolution[0]:
                continue  # not a band of the sensor, or a coarser copy (Sentinel-2 R20m, R60m)
            finest[(key, band)] = info.resolution[0]
            if upper in QA_NAMES:
                scene.qa = (path, index, band)
            else:
                scene.bands[band] = (path, index)
    out = [sc for sc in scenes.values() if sc.bands]
    return sorted(out, key=lambda sc: (sc.date, sc.scene_id))


def _baseline(text: str) -> float | None:
    m = _BASELINE.search(text)
    return int(m.group(1)) + int(m.group(2)) / 100 if m else None


def read_scene(scene: SceneFiles, grid: AnalysisGrid, *, chunks: int = 1024) -> xr.Dataset:
    """The scene's bands (stored values, NaN at nodata) and its QA band, on the grid, lazily.

    Variables are the band ids (``B4``) as float32 and ``qa`` in its stored integer type.
    Bands finer than the grid are averaged onto it, coarser ones interpolated bilinearly; the
    QA band is resampled by nearest neighbour.
    """
    s = sensor(scene.sensor)
    out: dict[str, xr.DataArray] = {}
    for band_id, (path, index) in scene.bands.items():
        finer = s.band_by_id(band_id)
        resampling = ("average" if finer is not None and finer.resolution_m < grid.pixel_size_m
                      else "bilinear")
        da = read_on_grid(path, grid, resampling=resampling, chunks=chunks, band=index)
        out[band_id] = da.astype("float32")
    if scene.qa is not None:
        path, index, _ = scene.qa
        out["qa"] = read_on_grid(path, grid, resampling="nearest", chunks=chunks, band=index,
                                 masked=False)
    ds = xr.Dataset(out)
    ds.attrs.update(scene_id=scene.scene_id, sensor=scene.sensor, date=scene.date.isoformat(),
                    product_level=scene.product_level,
                    qa_product=scene.qa[2] if scene.qa else QA_PRODUCT.get(scene.sensor, ""))
    if scene.boa_add_offset is not None:
        ds.attrs["boa_add_offset"] = scene.boa_add_offset
    if scene.processing_baseline is not None:
        ds.attrs["processing_baseline"] = scene.processing_baseline
    return ds
