"""LAS/LAZ point clouds: a small writer and a header reader (laspy, LAZ through lazrs).

Files are written as LAS 1.4 point format 6 with a scale of 0.001 m on every axis and offsets at
the (floored) minimum coordinates, so that coordinates survive a round trip within 0.5 mm. The CRS
is stored as an OGC WKT coordinate-system VLR (the only CRS record LAS 1.4 allows for point
formats 6–10). A ``.laz`` path is compressed with lazrs; a ``.las`` path is written uncompressed.
Writes are atomic (:func:`minecarbon.io.files.atomic_path`).

laspy and pyproj ship no type information, so they are imported through :func:`_laspy` and
:func:`_pyproj` as untyped modules.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from minecarbon.errors import InputDataError, MissingDependencyError, PathNotFoundError
from minecarbon.io.files import atomic_path

#: Suffixes this module reads and writes.
POINTCLOUD_SUFFIXES = (".las", ".laz")

#: Coordinate resolution of written files (metres per integer step), x, y and z.
SCALE_M = 0.001

#: LAS version and point format of written files.
LAS_VERSION = "1.4"
POINT_FORMAT = 6

_INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class LasHeaderInfo:
    """What a LAS/LAZ header says about its file, without reading the points."""

    path: Path
    version: str
    point_format: int
    point_count: int
    compressed: bool
    scales: tuple[float, float, float]
    offsets: tuple[float, float, float]
    mins: tuple[float, float, float]
    maxs: tuple[float, float, float]
    crs_wkt: str | None
    crs_epsg: int | None
    dimensions: tuple[str, ...]
    extra_dimensions: tuple[str, ...]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Horizontal bounds (xmin, ymin, xmax, ymax)."""
        return (self.mins[0], self.mins[1], self.maxs[0], self.maxs[1])


def is_pointcloud(path: Path) -> bool:
    """Whether the file name says LAS or LAZ."""
    return path.suffix.lower() in POINTCLOUD_SUFFIXES


def _laspy() -> Any:
    try:
        return importlib.import_module("laspy")
    except ImportError:
        raise MissingDependencyError(
            "reading or writing LAS/LAZ point clouds needs laspy", fix="pip install laspy lazrs"
        ) from None


def _pyproj() -> Any:
    try:
        return importlib.import_module("pyproj")
    except ImportError:
        raise MissingDependencyError(
            "storing or reading a point cloud's CRS needs pyproj", fix="pip install pyproj"
        ) from None


def _lazrs_available() -> bool:
    """Whether the lazrs LAZ backend is importable (a function, so tests can pretend it is not)."""
    return importlib.util.find_spec("lazrs") is not None


def _require_lazrs(path: Path, action: str) -> None:
    if not _lazrs_available():
        raise MissingDependencyError(
            f"{action} the LAZ file {path} needs the LAZ backend lazrs, which is not installed",
            fix="pip install lazrs (or use a .las path for an uncompressed file)",
        )


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


def read_las_header(path: Path | str) -> LasHeaderInfo:
    """Read a LAS/LAZ file's header (counts, bounds, scales, CRS, dimensions), not its points.

    Raises
    ------
    PathNotFoundError
        If the file does not exist.
    InputDataError
        If the file is not a readable LAS/LAZ file.
    MissingDependencyError
        If the file is compressed and lazrs is not installed.

    """
    path = Path(path)
    if not path.exists():
        raise PathNotFoundError(f"point cloud {path} does not exist", fix="check the path")
    laspy = _laspy()
    if path.suffix.lower() == ".laz":
        _require_lazrs(path, "reading")
    try:
        with laspy.open(path) as reader:
            header = reader.header
    except laspy.errors.LaspyException as error:
        raise InputDataError(
            f"{path} is not a readable LAS/LAZ file ({error})", fix="re-export it as LAS 1.2–1.4"
        ) from None

    crs_wkt: str | None = None
    crs_epsg: int | None = None
    try:
        crs = header.parse_crs()
    except Exception:  # a malformed CRS VLR: report no CRS rather than fail the header read
        crs = None
    if crs is not None:
        crs_wkt = str(crs.to_wkt())
        epsg = crs.to_epsg()
        crs_epsg = int(epsg) if epsg is not None else None

    fmt = header.point_format
    return LasHeaderInfo(
        path=path,
        version=f"{header.version.major}.{header.version.minor}",
        point_format=int(fmt.id),
        point_count=int(header.point_count),
        compressed=bool(header.are_points_compressed),
        scales=_triple(header.scales),
        offsets=_triple(header.offsets),
        mins=_triple(header.mins),
        maxs=_triple(header.maxs),
        crs_wkt=crs_wkt,
        crs_epsg=crs_epsg,
        dimensions=tuple(str(d) for d in fmt.dimension_names),
        extra_dimensions=tuple(str(d) for d in fmt.extra_dimension_names),
    )


def _triple(values: Any) -> tuple[float, float, float]:
    a, b, c = (float(v) for v in values)
    return (a, b, c)
