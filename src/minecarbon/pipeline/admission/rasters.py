"""Admission of rasters: satellite scenes, DEMs and land-cover maps, read to the last block."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from minecarbon.catalog.workspace import RAW_KINDS
from minecarbon.errors import InputDataError, warn
from minecarbon.pipeline.admission.context import Project

#: Kinds delivered as rasters.
RASTER_KINDS = ("scene", "dem", "landcover")

#: Plausible elevations of a DEM in metres (Dead Sea shore to above Everest).
ELEVATION_RANGE_M = (-500.0, 9000.0)

#: Reflectance bands every scene must bring where its sensor has them (the features need them).
SCENE_ROLES = ("blue", "green", "red", "nir", "swir1", "swir2")

#: Reflectance bounds (``features.preprocess.REFLECTANCE_RANGE``) and the share of a band's
#: valid pixels allowed outside them: above it the scale or offset is wrong and the scene is
#: refused; above ``WARN_OUTSIDE`` it gets a warning.
REFUSE_OUTSIDE, WARN_OUTSIDE = 0.05, 0.01

#: Values kept per band and block for the statistics (every k-th pixel).
SAMPLE_PER_BLOCK = 4096


@dataclass
class _BandStats:
    valid: int = 0
    total: int = 0
    sample: list[np.ndarray] = field(default_factory=list)
    codes: set[int] = field(default_factory=set)


def _read_all(src: Any, path: Path, want_codes: bool) -> list[_BandStats]:
    """Read every block of every band: a truncated file fails here, not in the pipeline."""
    stats = [_BandStats() for _ in range(src.count)]
    nodata = src.nodata
    for _, window in src.block_windows(1):
        block = src.read(window=window)
        for i, values in enumerate(block):
            flat = values.ravel()
            ok = np.ones(flat.shape, bool)
            if np.issubdtype(flat.dtype, np.floating):
                ok &= np.isfinite(flat)
            if nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata)):
                ok &= flat != nodata
            good = flat[ok]
            s = stats[i]
            s.valid += int(good.size)
            s.total += int(flat.size)
            if good.size:
                step = max(1, good.size // SAMPLE_PER_BLOCK)
                s.sample.append(good[::step].astype("float64"))
                if want_codes and i == 0:
                    s.codes.update(int(v) for v in np.unique(good))
    return stats


def read_stats(path: Path, kind: str) -> list[_BandStats] | None:
    """Every block of every band read, with the statistics the checks use; None if unreadable.

    Run ahead of the checks on other threads (GDAL reads and decompresses without the GIL), so
    that an import of many scenes reads several at once; an unreadable file gives None and is
    read again by :func:`check_raster`, which names the fault.
    """
    import rasterio

    if kind not in RASTER_KINDS:
        return None
    try:
        with rasterio.open(path) as src:
            return _read_all(src, path, want_codes=kind == "landcover")
    except Exception:  # check_raster reads it again and says why
        return None


def _footprint(project: Project, src: Any) -> Any:
    from rasterio.warp import transform_bounds
    from shapely.geometry import box

    if src.crs is None:
        return None
    return box(*transform_bounds(src.crs, project.crs, *src.bounds))


def check_raster(project: Project, kind: str, path: Path, time: str | None) -> None:
    """Check a raster of ``kind``: readable, in a CRS, over the extent, values of its kind."""
    import rasterio

    from minecarbon.io.raster import check_raster_crs

    if kind not in RASTER_KINDS:
        raise InputDataError(
            f"{path} is a raster, but {RAW_KINDS[kind][1]} must be a "
            + ("table" if kind in ("plots", "trees", "climate", "models") else
               "point cloud" if kind in ("tls", "als") else "vector file"),
            fix="check the kind (`minecarbon import --help` lists them) or the file")
    check_raster_crs(path, allow_geographic=project.allow_geographic)
    read_ahead = project.read_ahead.pop(path, None)
    with rasterio.open(path) as src:
        stats = read_ahead or _read_all(src, path, want_codes=kind == "landcover")
        footprint = _footprint(project, src)
        descriptions = tuple(d or "" for d in src.descriptions)
        dtypes = src.dtypes
    if all(s.valid == 0 for s in stats):
        raise InputDataError(f"{path} has no valid pixel: every value is nodata",
                             fix="export the data again (check the nodata value it declares)")
    project.overlap(f"{RAW_KINDS[kind][1]} {path}", footprint, covers=True)
    {"scene": _scene, "dem": _dem, "landcover": _landcover}[kind](
        project, path, stats, descriptions, dtypes)


def _scene(project: Project, path: Path, stats: list[_BandStats],
           descriptions: tuple[str, ...], dtypes: tuple[str, ...]) -> None:
    from minecarbon.features.preprocess import REFLECTANCE_RANGE
    from minecarbon.io.scenes import QA_NAMES, band_of_file, find_scenes
    from minecarbon.standard.sensors import sensor

    scenes = find_scenes([path])
    per_band = band_of_file(path) if len(descriptions) == 1 else None
    if not scenes and per_band is not None and per_band[1] in QA_NAMES:
        return  # a quality layer delivered as its own file (…_QA_PIXEL.TIF, …_SCL_20m.jp2)
    if not scenes:
        raise InputDataError(
            f"{path}: no band of a known sensor (band names: "
            f"{', '.join(d or '–' for d in descriptions)})",
            fix="name the bands as the provider does (SR_B4, B04, …) in the band descriptions, "
            "or import one file per band with the provider's file names")
    scene = scenes[0]
    s = sensor(scene.sensor)
    if len(descriptions) > 1:  # a multi-band file must be a whole scene
        have = {b.role for band_id in scene.bands if (b := s.band_by_id(band_id)) is not None}
        need = [r for r in SCENE_ROLES if r in s.roles and r not in have]
        if need:
            raise InputDataError(
                f"{path}: the scene lacks the {', '.join(need)} band"
                f"{'s' if len(need) > 1 else ''} ({len(descriptions)} bands: "
                f"{', '.join(d or '–' for d in descriptions)})",
                fix=f"export every reflectance band of {s.name} "
                f"({', '.join(s.band(r).band for r in SCENE_ROLES if r in s.roles)})")
    lo, hi = REFLECTANCE_RANGE
    for band_id, (_, index) in scene.bands.items():
        band = s.band_by_id(band_id)
        st = stats[index - 1]
        if band is None or band.unit == "kelvin" or band.scale is None or not st.sample:
            continue
        if st.valid == 0:
            warn(f"{path}: band {band_id} has no valid pixel")
            continue
        offset = band.offset or 0.0
        reflectance = np.concatenate(st.sample) * band.scale + offset
        outside = float(np.mean((reflectance < lo) | (reflectance > hi)))
        median = float(np.median(reflectance))
        if outside > REFUSE_OUTSIDE or not -0.1 <= median <= 1.0:
            stored = "floats" if np.issubdtype(np.dtype(dtypes[index - 1]), np.floating) else (
                "integers")
            raise InputDataError(
                f"{path}: band {band_id} is not {s.name} surface reflectance as delivered "
                f"(stored as {stored}): with the product's scale {band.scale:g} and offset "
                f"{offset:g} its median reflectance is {median:.3g} and {outside:.0%} of its "
                f"values fall outside {lo:g}…{hi:g}",
                fix="import the provider's product unchanged (e.g. Landsat C2 L2 integers), not "
                "rescaled or converted values")
        if outside > WARN_OUTSIDE:
            warn(f"{path}: band {band_id}: {outside:.1%} of values outside reflectance "
                 f"{lo:g}…{hi:g}")
    _nodata_share(path, stats)


def _nodata_share(path: Path, stats: list[_BandStats]) -> None:
    total = max(s.total for s in stats)
    valid = max(s.valid for s in stats)
    if total and valid / total < 0.05:
        warn(f"{path}: only {valid / total:.1%} of its pixels hold data")


def _dem(project: Project, path: Path, stats: list[_BandStats],
         descriptions: tuple[str, ...], dtypes: tuple[str, ...]) -> None:
    if len(stats) > 1:
        warn(f"{path}: the DEM has {len(stats)} bands; band 1 is used as elevation")
    st = stats[0]
    if st.valid == 0:
        raise InputDataError(f"{path}: band 1 (elevation) has no valid pixel",
                             fix="export the DEM again (check its nodata value)")
    values = np.concatenate(st.sample)
    lo, hi = ELEVATION_RANGE_M
    vmin, vmax = float(values.min()), float(values.max())
    if vmin < lo or vmax > hi:
        raise InputDataError(
            f"{path}: elevations {vmin:.6g}…{vmax:.6g} are outside {lo:g}…{hi:g} m",
            fix="give elevations in metres, with the nodata value declared in the file")
    _nodata_share(path, stats)


def _landcover(project: Project, path: Path, stats: list[_BandStats],
               descriptions: tuple[str, ...], dtypes: tuple[str, ...]) -> None:
    from minecarbon.types import LandCover

    codes = stats[0].codes
    forest = set(project.ws.config.scope.landcover_forest_codes)
    known = {int(c) for c in LandCover} | forest
    if np.issubdtype(np.dtype(dtypes[0]), np.floating):
        values = np.concatenate(stats[0].sample)
        if not np.all(values == np.round(values)):
            raise InputDataError(f"{path}: land-cover values are not whole class codes",
                                 fix="export the map with integer class codes")
    if not codes & known:
        raise InputDataError(
            f"{path}: none of its codes {sorted(codes)[:10]} is a land-cover code of the project "
            f"({', '.join(f'{int(c)} {c.en}' for c in LandCover)})",
            fix="recode the map to these codes, or set scope.landcover_forest_codes to its "
            "forest codes")
    if not codes & forest:
        warn(f"{path}: no pixel has a forest code {sorted(forest)} "
             "(scope.landcover_forest_codes)")
    unknown = sorted(codes - known)
    if unknown:
        warn(f"{path}: codes {unknown[:10]} are not land-cover codes of the project; those "
             "pixels count as non-forest")
