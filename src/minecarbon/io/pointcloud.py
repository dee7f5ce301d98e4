"""Point clouds: a LAS/LAZ writer, a header reader and a chunked, cropping point reader.

Files are written as LAS 1.4 point format 6 with a scale of 0.001 m on every axis and offsets at
the (floored) minimum coordinates, so that coordinates survive a round trip within 0.5 mm. The CRS
is stored as an OGC WKT coordinate-system VLR (the only CRS record LAS 1.4 allows for point
formats 6–10). A ``.laz`` path is compressed with lazrs; a ``.las`` path is written uncompressed.
Writes are atomic (:func:`minecarbon.io.files.atomic_path`).

Reading (:func:`read_points`) streams the file with ``laspy.open(...).chunk_iterator``: each
chunk is cropped to the requested box at once and only the kept points are accumulated, so a
plot square cut out of a 20-million-point tile needs memory for the plot's points plus one chunk.
ASCII ``x y z`` files (``.txt``, ``.xyz``, ``.csv``; whitespace or comma separated, an optional
header line naming the columns) are read the same way, a block of lines at a time, with numpy.

A file whose extra-bytes description is broken (two extra dimensions with the same name, as in
real files written by some MLS software: numpy cannot build a record type with a duplicate field,
so laspy raises ``ValueError`` on the first read) is still read: the header's point format is
replaced by the standard point format of the same id plus one opaque ``uint8`` array covering
all the extra bytes, so the record length is unchanged and laspy (and lazrs, for LAZ) decode the
standard dimensions as usual. The extra dimensions are then unavailable, and a ``UserWarning``
names the file and the problem.

laspy and pyproj ship no type information, so they are imported through :func:`_laspy` and
:func:`_pyproj` as untyped modules.

The pieces live in private siblings and are re-exported here: the header, the optional imports
and the CRS check in :mod:`minecarbon.io._pointcloud_header`, the writer in
:mod:`minecarbon.io._pointcloud_writer`, and the chunked LAS/LAZ and ASCII readers behind
:func:`read_points` in :mod:`minecarbon.io._pointcloud_chunks`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from minecarbon.errors import InputDataError, PathNotFoundError
from minecarbon.io._pointcloud_chunks import _XYZ, _check_box, _read_ascii, _read_las, _wanted
from minecarbon.io._pointcloud_chunks import UNPARSED_EXTRA_BYTES as UNPARSED_EXTRA_BYTES
from minecarbon.io._pointcloud_chunks import Box as Box
from minecarbon.io._pointcloud_chunks import _Kept as _Kept
from minecarbon.io._pointcloud_header import POINTCLOUD_SUFFIXES as POINTCLOUD_SUFFIXES
from minecarbon.io._pointcloud_header import LasHeaderInfo as LasHeaderInfo
from minecarbon.io._pointcloud_header import _pyproj, _resolve_crs
from minecarbon.io._pointcloud_header import is_pointcloud as is_pointcloud
from minecarbon.io._pointcloud_header import read_las_header as read_las_header
from minecarbon.io._pointcloud_writer import LAS_VERSION as LAS_VERSION
from minecarbon.io._pointcloud_writer import POINT_FORMAT as POINT_FORMAT
from minecarbon.io._pointcloud_writer import SCALE_M as SCALE_M
from minecarbon.io._pointcloud_writer import write_las as write_las

#: Suffixes read as ASCII ``x y z`` text by :func:`read_points`.
ASCII_SUFFIXES = (".txt", ".xyz", ".csv")

#: Default number of points per chunk when reading (about 60–100 MB of transient memory).
CHUNK_POINTS = 2_000_000

FloatArray = npt.NDArray[np.float64]
UInt8Array = npt.NDArray[np.uint8]


# ------------------------------------------------------------------------------- reading points

#: Per-point columns returned as their own attributes of :class:`PointCloud`, as uint8.
_UINT8_FIELDS = ("classification", "return_number", "number_of_returns")


@dataclass(frozen=True, eq=False)
class PointCloud:
    """Points read from a file (and cropped to a box), as plain numpy arrays.

    Attributes
    ----------
    path
        The file read.
    xyz
        Coordinates (n, 3), float64, in the file's CRS (metres for a projected CRS).
    crs
        The file's CRS as a :class:`pyproj.CRS`; the expected CRS when the file has none and
        one was given; ``None`` otherwise.
    header
        The LAS/LAZ header (:class:`LasHeaderInfo`); ``None`` for an ASCII file.
    crop
        The box (x_min, y_min, x_max, y_max) the points were cropped to, or ``None``.
    classification
        ASPRS class per point (uint8) when asked for; ``None`` when not asked or when the file
        carries no classes (an ASCII file without a ``classification`` column).
    return_number, number_of_returns
        Per point (uint8, 1-based) when named in ``fields``; else ``None``.
    columns
        Every other dimension named in ``fields`` (``intensity``, ``gps_time``, an extra-bytes
        dimension, an ASCII column), by name, as read.

    """

    path: Path
    xyz: FloatArray
    crs: Any
    header: LasHeaderInfo | None
    crop: Box | None = None
    classification: UInt8Array | None = None
    return_number: UInt8Array | None = None
    number_of_returns: UInt8Array | None = None
    columns: Mapping[str, npt.NDArray[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.xyz.shape[0])

    @property
    def n_points(self) -> int:
        """Number of points."""
        return len(self)

    @property
    def bounds(self) -> Box:
        """Horizontal bounds of the points (x_min, y_min, x_max, y_max)."""
        lo = self.xyz[:, :2].min(axis=0)
        hi = self.xyz[:, :2].max(axis=0)
        return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))


def read_points(
    path: Path | str,
    *,
    crop: Iterable[float] | None = None,
    fields: Iterable[str] = _XYZ,
    classification: bool = False,
    chunk_points: int = CHUNK_POINTS,
    expected_crs: Any = None,
    what: str | None = None,
) -> PointCloud:
    """Read a point cloud (LAS, LAZ or ASCII x y z), keeping only the points inside a box.

    The file is read ``chunk_points`` points (or lines) at a time and every chunk is cropped at
    once, so memory holds the kept points plus one chunk, whatever the file's size.

    Parameters
    ----------
    path
        A ``.las``/``.laz`` file, or an ASCII ``.txt``/``.xyz``/``.csv`` file with x, y, z in
        the first three columns (whitespace or comma separated; an optional header line naming
        the columns, ``x``/``y``/``z`` among them, lets other columns be asked for by name).
    crop
        Box (x_min, y_min, x_max, y_max) in the cloud's CRS; points on its edges are kept.
        ``None`` keeps every point.
    fields
        Dimensions to read besides x, y, z: ``return_number``, ``number_of_returns``,
        ``classification``, ``intensity``, ``gps_time``, any extra-bytes dimension, or an ASCII
        header's column name.
    classification
        Also read the ASPRS classes (same as naming ``classification`` in ``fields``, except
        that an ASCII file without classes gives ``None`` instead of an error).
    chunk_points
        Points (or text lines) per chunk.
    expected_crs
        The CRS the cloud must be in (anything pyproj understands). A file in another CRS is
        refused; a file without a CRS is assumed to be in this one, with a warning.
    what
        How messages name the cloud (e.g. ``"TLS cloud of plot P07"``); the path follows it.

    Returns
    -------
    PointCloud
        The kept points, their requested dimensions, the CRS and the header.

    Raises
    ------
    PathNotFoundError
        If the file does not exist.
    InputDataError
        If the file is unreadable or holds no points, no point lies within ``crop``, a field is
        missing, or the file's CRS differs from ``expected_crs``.
    MissingDependencyError
        If the file is LAZ and the lazrs backend is not installed.

    Warns
    -----
    UserWarning
        If the file's extra-bytes description is broken (only the standard dimensions are read),
        or the file has no CRS while ``expected_crs`` is given.

    """
    path = Path(path)
    label = f"point cloud {path}" if what is None else f"{what} ({path})"
    if not path.exists():
        raise PathNotFoundError(f"{label} does not exist", fix="check the path")
    box = _check_box(crop, label)
    if int(chunk_points) < 1:
        raise InputDataError(
            f"chunk_points must be at least 1, got {chunk_points}", fix="pass e.g. 2_000_000"
        )
    fields = tuple(fields)
    wanted = _wanted(fields, classification)
    suffix = path.suffix.lower()
    header: LasHeaderInfo | None = None
    if suffix in POINTCLOUD_SUFFIXES:
        header = read_las_header(path)
        file_crs = _pyproj().CRS.from_wkt(header.crs_wkt) if header.crs_wkt else None
        crs = _resolve_crs(file_crs, expected_crs, label)
        kept = _read_las(path, box, wanted, int(chunk_points), label)
    elif suffix in ASCII_SUFFIXES:
        crs = _resolve_crs(None, expected_crs, label)
        strict = _wanted(fields, False)
        optional = ("classification",) if classification and "classification" not in strict else ()
        kept = _read_ascii(path, box, strict, optional, int(chunk_points), label)
    else:
        raise InputDataError(
            f"{label}: cannot read {suffix or 'suffix-less'} files as point clouds",
            fix="give a .las, .laz, or an ASCII .txt/.xyz/.csv file of x y z",
        )

    if kept.read == 0:
        raise InputDataError(f"no points in {label}", fix="check the file: it holds no points")
    columns = kept.result()
    n = columns["x"].size
    if n == 0:
        assert box is not None
        x0, y0, x1, y1 = box
        raise InputDataError(
            f"no points in {label} within the plot square x {x0:.2f}–{x1:.2f}, "
            f"y {y0:.2f}–{y1:.2f}; the cloud's bounds are {kept.bounds_text()}",
            fix="check the plot centre/CRS (plot coordinates and the cloud must share one CRS)",
        )
    xyz = np.column_stack([columns.pop(name).astype(np.float64) for name in _XYZ])
    special = {
        name: columns.pop(name).astype(np.uint8) if name in columns else None
        for name in _UINT8_FIELDS
    }
    return PointCloud(
        path=path,
        xyz=xyz,
        crs=crs,
        header=header,
        crop=box,
        classification=special["classification"],
        return_number=special["return_number"],
        number_of_returns=special["number_of_returns"],
        columns=columns,
    )
