"""Admission of vector layers: boundaries, event polygons, zones, training samples, plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from minecarbon.catalog.workspace import RAW_KINDS
from minecarbon.errors import InputDataError, warn
from minecarbon.pipeline.admission.context import Project

#: Kinds of polygon layers, and the event layers among them (checked by the scope's cleaner).
POLYGON_KINDS = ("boundary", "influence", "damage", "plan", "reclamation", "disturbance",
                 "zones", "plots")
EVENT_KINDS = ("damage", "plan", "reclamation", "disturbance")

#: Columns the training samples need.
SAMPLE_COLUMNS = ("sample_id", "year", "landcover")

#: Distance (degrees) a boundary may lie outside its CRS's area of use.
AREA_MARGIN_DEG = 1.0


def _kinds_of_geometry(frame: Any) -> set[str]:
    types = frame.geometry.geom_type.dropna()
    return {str(t).removeprefix("Multi") for t in types.unique()}


def check_vector(project: Project, kind: str, path: Path, time: str | None) -> None:
    """Check a vector layer of ``kind``: geometry type, validity, CRS, attributes, overlap."""
    from minecarbon.io.vector import read_vector

    if kind in ("scene", "dem", "landcover", "tls", "als", "trees", "climate", "models"):
        raise InputDataError(f"{path} is a vector file, but {RAW_KINDS[kind][1]} is not",
                             fix="check the kind (`minecarbon import --help` lists them)")
    if path.suffix.lower() in (".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx"):
        return  # a shapefile's sidecar: checked with its .shp
    frame = read_vector(path)
    name = f"{RAW_KINDS[kind][1]} {path}"
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
    if frame.empty:
        raise InputDataError(f"{name} holds no geometry", fix="export the layer with its features")
    types = _kinds_of_geometry(frame)
    if kind == "samples":
        _samples(project, path, frame, types)
        return
    if kind == "reference":
        _reference(path, frame, types)
        return
    if types != {"Polygon"}:
        raise InputDataError(
            f"{name} holds {', '.join(sorted(types))} geometries; it must be polygons",
            fix="export the polygon layer (not its outline or centroids)")
    if kind in EVENT_KINDS:
        from minecarbon.scope.events import clean_events

        frame = clean_events(frame, kind, project.crs, str(path))
    else:
        invalid = np.flatnonzero(~frame.geometry.is_valid.to_numpy())
        if invalid.size:
            from shapely.validation import explain_validity

            raise InputDataError(
                f"{name}: feature {int(invalid[0]) + 1} is not a valid polygon "
                f"({explain_validity(frame.geometry.iloc[int(invalid[0])])})"
                + (f" and {invalid.size - 1} more" if invalid.size > 1 else ""),
                fix="repair it (QGIS: Vector ▸ Geometry Tools ▸ Fix Geometries) and export again")
        frame = frame.to_crs(project.crs)
    if kind in ("boundary", "influence"):
        _boundary(project, name, frame)
    else:
        project.overlap(name, frame.geometry.union_all())


def _boundary(project: Project, name: str, frame: Any) -> None:
    """A boundary must lie where the project's CRS is used and under the imported rasters."""
    from pyproj import CRS, Transformer
    from shapely.geometry import box

    crs = CRS.from_user_input(project.crs)
    area = crs.area_of_use
    x0, y0, x1, y1 = frame.total_bounds
    if area is not None:
        lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(
            [x0, x1, x0, x1], [y0, y0, y1, y1])
        m = AREA_MARGIN_DEG
        if (max(lon) < area.west - m or min(lon) > area.east + m
                or max(lat) < area.south - m or min(lat) > area.north + m):
            raise InputDataError(
                f"{name} lies at {np.mean(lon):.2f}° E, {np.mean(lat):.2f}° N, outside the area "
                f"of use of the project CRS {project.crs} ({area.west:g}–{area.east:g}° E)",
                fix="check the coordinates and the layer's CRS, or set [project] crs to the "
                "CRS of the mine's zone")
    footprint = box(x0, y0, x1, y1)
    rasters = [r for k in ("scene", "dem") for r in project.imported(k) if r.bbox and r.crs]
    if rasters:
        from rasterio.warp import transform_bounds

        covered = [box(*transform_bounds(r.crs, project.crs, *(r.bbox or ()))) for r in rasters]
        if not any(c.intersects(footprint) for c in covered):
            raise InputDataError(
                f"{name} overlaps none of the {len(rasters)} imported scenes and DEMs",
                fix="check the coordinates and the layer's CRS (a wrong .prj moves it far away)")


def _reference(path: Path, frame: Any, types: set[str]) -> None:
    from minecarbon.assessment.trend_reference import (
        CHECKED_COLUMN,
        TREND_REFERENCE,
        checked_labels,
        reference_labels,
    )

    if types != {"Point"}:
        raise InputDataError(
            f"reference sample {path} holds {', '.join(sorted(types))} geometries; it must be "
            "points", fix="export the sample points (one point per interpreted sample)")
    if "trend" not in frame.columns:
        raise InputDataError(
            f"reference sample {path} has no column trend", fix="give every point its "
            f"interpreted trend: {', '.join(f'{en} ({zh})' for en, zh in TREND_REFERENCE)}")
    reference_labels(frame["trend"], str(path))
    if CHECKED_COLUMN in frame.columns:  # a checked subsample: blank where not checked
        checked_labels(frame[CHECKED_COLUMN], str(path))


def _samples(project: Project, path: Path, frame: Any, types: set[str]) -> None:
    if types != {"Point"}:
        raise InputDataError(
            f"training samples {path} hold {', '.join(sorted(types))} geometries; they must be "
            "points", fix="export the sample points (one point per sample)")
    missing = [c for c in SAMPLE_COLUMNS if c not in frame.columns]
    if missing:
        raise InputDataError(
            f"training samples {path} have no column {', '.join(missing)} (columns: "
            f"{', '.join(str(c) for c in frame.columns if c != frame.geometry.name)})",
            fix="give every sample sample_id, year and landcover (a land-cover code)")
    import pandas as pd

    from minecarbon.types import LandCover

    for column in ("year", "landcover"):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy())
        if bad.size:
            raise InputDataError(
                f"training samples {path}: feature {int(bad[0]) + 1}, column {column}: "
                f"{frame[column].iloc[int(bad[0])]!r} is not a number"
                + (f" (and {bad.size - 1} more)" if bad.size > 1 else ""),
                fix=f"give every sample its {column} as a number")
    codes = set(pd.to_numeric(frame["landcover"]).astype(int))
    known = {int(c) for c in LandCover}
    unknown = sorted(codes - known)
    if unknown:
        raise InputDataError(
            f"training samples {path}: landcover codes {unknown[:10]} are not codes of the "
            f"project ({', '.join(f'{int(c)} {c.en}' for c in LandCover)})",
            fix="recode the samples to these codes")
    years = pd.to_numeric(frame["year"]).astype(int)
    cfg = project.ws.config.project
    outside = sorted({int(y) for y in years if not cfg.first_year <= y <= cfg.last_year})
    if outside:
        warn(f"training samples {path}: years {outside[:10]} are outside the project years "
             f"{cfg.first_year}–{cfg.last_year} and will not be used")
    points = frame.to_crs(project.crs)
    project.overlap(f"training samples {path}", points.geometry.union_all().buffer(1.0))
