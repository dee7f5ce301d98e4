"""The LAS/LAZ writer: LAS 1.4 point format 6, 1 mm coordinates, the CRS as a WKT VLR.

:func:`write_las` writes a ``.las`` path uncompressed and a ``.laz`` path compressed with lazrs,
with offsets at the (floored) minimum coordinates so that coordinates survive a round trip
within 0.5 mm, atomically (:func:`minecarbon.io.files.atomic_path`). Re-exported by
:mod:`minecarbon.io.pointcloud`, the module to import.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from minecarbon.errors import InputDataError
from minecarbon.io._pointcloud_header import POINTCLOUD_SUFFIXES, _laspy, _pyproj, _require_lazrs
from minecarbon.io.files import atomic_path

#: Coordinate resolution of written files (metres per integer step), x, y and z.
SCALE_M = 0.001

#: LAS version and point format of written files.
LAS_VERSION = "1.4"
POINT_FORMAT = 6

_INT32_MAX = 2**31 - 1


def _column(name: str, values: Any, n: int, dtype: type[np.generic], lo: int, hi: int) -> Any:
    """Validate an integer per-point column: length n, whole numbers within [lo, hi]."""
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise InputDataError(
            f"point cloud column {name!r} has shape {arr.shape}, expected ({n},)",
            fix="give one value per point",
        )
    if arr.size and (not np.all(np.isfinite(arr)) or arr.min() < lo or arr.max() > hi):
        raise InputDataError(
            f"point cloud column {name!r} has values outside {lo}–{hi}",
            fix=f"clip or rescale {name} to {lo}–{hi}",
        )
    return arr.astype(dtype)


def write_las(
    path: Path | str,
    xyz: np.ndarray,
    classification: np.ndarray | None = None,
    intensity: np.ndarray | None = None,
    crs_epsg: int | None = None,
    extra: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """Write points to a LAS (``.las``) or LAZ (``.laz``) file, atomically.

    Parameters
    ----------
    path
        The file to write; the suffix chooses compression.
    xyz
        Coordinates, shape (n, 3), metres (any projected CRS).
    classification
        ASPRS class per point (0–255), e.g. 2 ground, 1 unclassified, 7 noise; default 1.
    intensity
        Return intensity per point (0–65535); default 0.
    crs_epsg
        EPSG code of the coordinates' CRS, stored as a WKT VLR; ``None`` stores no CRS.
    extra
        More per-point columns. A name that is a dimension of point format 6
        (``return_number``, ``number_of_returns``, ``gps_time``, ``user_data``,
        ``point_source_id``, ``scan_angle``, …) fills that dimension; any other name becomes an
        extra-bytes dimension with the array's dtype.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    InputDataError
        If the arrays are malformed, the coordinates do not fit the 1 mm integer grid, the EPSG
        code is unknown, or the suffix is not .las/.laz.
    MissingDependencyError
        If a ``.laz`` path is asked for and lazrs is not installed.

    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in POINTCLOUD_SUFFIXES:
        raise InputDataError(
            f"{path} is not a .las or .laz path", fix="name the point-cloud file *.las or *.laz"
        )
    compress = suffix == ".laz"
    laspy = _laspy()
    if compress:
        _require_lazrs(path, "writing")

    pts = np.asarray(xyz, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise InputDataError(
            f"points for {path} have shape {pts.shape}, expected (n, 3)", fix="pass x, y, z columns"
        )
    if not np.all(np.isfinite(pts)):
        raise InputDataError(
            f"points for {path} contain NaN or infinite coordinates", fix="drop those points"
        )
    n = pts.shape[0]

    header = laspy.LasHeader(point_format=POINT_FORMAT, version=LAS_VERSION)
    header.scales = np.full(3, SCALE_M)
    offsets = np.floor(pts.min(axis=0)) if n else np.zeros(3)
    header.offsets = offsets
    if n and np.any((pts.max(axis=0) - offsets) / SCALE_M > _INT32_MAX):
        raise InputDataError(
            f"points for {path} span more than {_INT32_MAX * SCALE_M / 1000:.0f} km on an axis",
            fix="split the cloud into tiles",
        )
    if crs_epsg is not None:
        pyproj = _pyproj()
        try:
            crs = pyproj.CRS.from_epsg(int(crs_epsg))
        except pyproj.exceptions.CRSError:
            raise InputDataError(
                f"EPSG:{crs_epsg} for {path} is not a known CRS", fix="check the EPSG code"
            ) from None
        header.add_crs(crs)

    standard = set(laspy.PointFormat(POINT_FORMAT).dimension_names)
    extra = dict(extra or {})
    for name, values in extra.items():
        arr = np.asarray(values)
        if arr.shape != (n,):
            raise InputDataError(
                f"extra column {name!r} for {path} has shape {arr.shape}, expected ({n},)",
                fix="give one value per point",
            )
        if name not in standard:
            header.add_extra_dim(laspy.ExtraBytesParams(name=name, type=arr.dtype))

    las = laspy.LasData(header)
    las.x = pts[:, 0]
    las.y = pts[:, 1]
    las.z = pts[:, 2]
    las.classification = (
        np.ones(n, np.uint8)
        if classification is None
        else _column("classification", classification, n, np.uint8, 0, 255)
    )
    if intensity is not None:
        las.intensity = _column("intensity", intensity, n, np.uint16, 0, 65535)
    for name, values in extra.items():
        las[name] = np.asarray(values)
    las.update_header()

    backend = laspy.LazBackend.Lazrs if compress else None
    with atomic_path(path) as tmp, tmp.open("wb") as f:
        las.write(f, do_compress=compress, laz_backend=backend)
    return path
