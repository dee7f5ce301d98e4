"""Admission of point clouds (TLS, ALS): read to the last point, counted, placed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from minecarbon.catalog.workspace import RAW_KINDS
from minecarbon.errors import InputDataError, warn
from minecarbon.pipeline.admission.context import Project

#: Points read at a time while checking a cloud to its end.
CHUNK_POINTS = 2_000_000


def check_cloud(project: Project, kind: str, path: Path, time: str | None) -> None:
    """Check a LAS/LAZ file: complete, with points, units of metres, over the extent (ALS)."""
    import laspy

    from minecarbon.io.pointcloud import read_las_header

    if kind not in ("tls", "als"):
        raise InputDataError(f"{path} is a point cloud, but {RAW_KINDS[kind][1]} is not",
                             fix="import it as tls or als")
    header = read_las_header(path)
    if header.point_count == 0:
        raise InputDataError(f"{path} holds no points", fix="export the scan again")
    read = 0
    with laspy.open(path) as reader:
        for points in reader.chunk_iterator(CHUNK_POINTS):
            read += len(points)
            xyz = np.column_stack([points.x, points.y, points.z])
            if not np.isfinite(xyz).all():
                raise InputDataError(f"{path}: coordinates that are not numbers near point "
                                     f"{read}", fix="export the scan again")
    if read != header.point_count:
        raise InputDataError(
            f"{path} is truncated: its header announces {header.point_count} points, the file "
            f"holds {read}", fix="copy or export the file again completely")
    span = max(header.maxs[i] - header.mins[i] for i in range(3))
    if kind == "tls" and span > 2000:
        warn(f"{path}: the scan spans {span:.0f} units; a plot scan spans tens of metres — are "
             "its units metres?")
    if kind == "als":
        if header.crs_wkt is None:
            raise InputDataError(f"{path} has no coordinate reference system in its header",
                                 fix="assign the CRS (e.g. las2las -epsg …, PDAL "
                                 "writers.las a_srs) and export it again")
        from pyproj import CRS
        from shapely.geometry import box

        crs = CRS.from_wkt(header.crs_wkt)
        if crs.is_geographic:
            raise InputDataError(f"{path} is in a geographic CRS ({crs.name})",
                                 fix="reproject it to the project's projected CRS")
        from pyproj import Transformer

        t = Transformer.from_crs(crs, project.crs, always_xy=True)
        xs, ys = t.transform([header.mins[0], header.maxs[0]], [header.mins[1], header.maxs[1]])
        project.overlap(f"{RAW_KINDS[kind][1]} {path}", box(min(xs), min(ys), max(xs), max(ys)))
