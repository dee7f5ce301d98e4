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
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

from minecarbon.errors import InputDataError, MissingDependencyError, PathNotFoundError, warn
from minecarbon.io.files import atomic_path

#: Suffixes this module reads and writes.
POINTCLOUD_SUFFIXES = (".las", ".laz")

#: Suffixes read as ASCII ``x y z`` text by :func:`read_points`.
ASCII_SUFFIXES = (".txt", ".xyz", ".csv")

#: Default number of points per chunk when reading (about 60–100 MB of transient memory).
CHUNK_POINTS = 2_000_000

#: Name of the opaque column standing in for a broken extra-bytes description.
UNPARSED_EXTRA_BYTES = "unparsed_extra_bytes"

FloatArray = npt.NDArray[np.float64]
UInt8Array = npt.NDArray[np.uint8]

#: A horizontal box (x_min, y_min, x_max, y_max) in the cloud's CRS, edges included.
Box = tuple[float, float, float, float]

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


# ------------------------------------------------------------------------------- reading points

#: Per-point columns returned as their own attributes of :class:`PointCloud`, as uint8.
_UINT8_FIELDS = ("classification", "return_number", "number_of_returns")
_XYZ = ("x", "y", "z")


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


class _Kept:
    """Accumulates the points of each chunk that fall inside the box, and the cloud's bounds."""

    def __init__(self, names: Sequence[str], box: Box | None) -> None:
        self.box = box
        self.parts: dict[str, list[npt.NDArray[Any]]] = {n: [] for n in (*_XYZ, *names)}
        self.read = 0
        self.lo = np.full(3, np.inf)
        self.hi = np.full(3, -np.inf)

    def add(self, columns: Mapping[str, npt.NDArray[Any]]) -> None:
        x, y, z = (np.asarray(columns[n], dtype=np.float64) for n in _XYZ)
        if x.size == 0:
            return
        self.read += x.size
        for i, c in enumerate((x, y, z)):
            self.lo[i] = min(self.lo[i], float(np.nanmin(c)))
            self.hi[i] = max(self.hi[i], float(np.nanmax(c)))
        keep: npt.NDArray[np.bool_] | None = None
        if self.box is not None:
            x0, y0, x1, y1 = self.box
            keep = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        for name in self.parts:
            values = x if name == "x" else y if name == "y" else z if name == "z" else None
            arr = np.asarray(columns[name]) if values is None else values
            self.parts[name].append(arr if keep is None else arr[keep])

    def result(self) -> dict[str, npt.NDArray[Any]]:
        return {
            name: np.concatenate(parts) if parts else np.empty(0)
            for name, parts in self.parts.items()
        }

    def bounds_text(self) -> str:
        if self.read == 0:
            return "empty"
        return (
            f"x {self.lo[0]:.2f}–{self.hi[0]:.2f}, y {self.lo[1]:.2f}–{self.hi[1]:.2f}, "
            f"z {self.lo[2]:.2f}–{self.hi[2]:.2f}"
        )


def _check_box(crop: Iterable[float] | None, label: str) -> Box | None:
    if crop is None:
        return None
    values = tuple(float(v) for v in crop)
    if len(values) != 4 or not all(np.isfinite(values)):
        raise InputDataError(
            f"crop box for {label} must be four finite numbers (x_min, y_min, x_max, y_max), "
            f"got {values}",
            fix="pass crop=(x_min, y_min, x_max, y_max) in the cloud's CRS",
        )
    x0, y0, x1, y1 = values
    if x1 < x0 or y1 < y0:
        raise InputDataError(
            f"crop box for {label} has x_max < x_min or y_max < y_min: {values}",
            fix="pass crop=(x_min, y_min, x_max, y_max)",
        )
    return (x0, y0, x1, y1)


def _wanted(fields: Iterable[str], classification: bool) -> tuple[str, ...]:
    """Requested dimensions other than x, y, z, in order, without duplicates."""
    names = [str(f) for f in fields]
    if classification:
        names.append("classification")
    out: list[str] = []
    for name in names:
        if name not in _XYZ and name not in out:
            out.append(name)
    return tuple(out)


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


def _extra_bytes_problem(point_format: Any) -> str | None:
    """Why laspy cannot build a record type for this point format, or ``None`` if it can."""
    try:
        point_format.dtype()
    except (ValueError, TypeError) as error:
        names = list(point_format.extra_dimension_names)
        dupes = sorted({name for name in names if names.count(name) > 1})
        if dupes:
            return f"extra-bytes dimensions named more than once: {', '.join(dupes)}"
        return f"unusable extra-bytes description ({error})"
    return None


def _standard_only(laspy: Any, point_format: Any) -> Any:
    """The same point format without its extra dimensions; their bytes become one opaque array."""
    plain = laspy.PointFormat(point_format.id)
    n_extra = int(point_format.size) - int(plain.size)
    if n_extra > 0:
        plain.add_extra_dimension(laspy.ExtraBytesParams(UNPARSED_EXTRA_BYTES, f"{n_extra}u1"))
    return plain


def _read_las(
    path: Path, box: Box | None, wanted: tuple[str, ...], chunk_points: int, label: str
) -> _Kept:
    laspy = _laspy()
    if path.suffix.lower() == ".laz":
        _require_lazrs(path, "reading")
    kept = _Kept(wanted, box)
    try:
        with laspy.open(path) as reader:
            fmt = reader.header.point_format
            problem = _extra_bytes_problem(fmt)
            if problem is not None:
                warn(
                    f"{path} has a broken extra-bytes description ({problem}); "
                    f"reading only the standard dimensions of point format {fmt.id}",
                    UserWarning,
                    stacklevel=3,
                )
                reader.header.point_format = _standard_only(laspy, fmt)
            available = [
                d for d in reader.header.point_format.dimension_names if d != UNPARSED_EXTRA_BYTES
            ]
            missing = [name for name in wanted if name not in available]
            if missing:
                raise InputDataError(
                    f"{label} has no dimension {', '.join(missing)}; it has {', '.join(available)}",
                    fix="ask only for dimensions the file carries",
                )
            for chunk in reader.chunk_iterator(chunk_points):
                cols = {name: np.asarray(getattr(chunk, name)) for name in _XYZ}
                cols.update({name: np.asarray(chunk[name]) for name in wanted})
                kept.add(cols)
    except laspy.errors.LaspyException as error:
        raise InputDataError(
            f"{label} is not a readable LAS/LAZ file ({error})", fix="re-export it as LAS 1.2–1.4"
        ) from None
    return kept


def _data_lines(f: TextIO) -> Iterator[str]:
    """Non-blank lines that are not ``#`` comments, stripped."""
    for line in f:
        text = line.strip()
        if text and not text.startswith("#"):
            yield text


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _read_ascii(
    path: Path,
    box: Box | None,
    wanted: tuple[str, ...],
    optional: tuple[str, ...],
    chunk_points: int,
    label: str,
) -> _Kept:
    with path.open("r", encoding="utf-8", errors="replace") as f:
        lines = _data_lines(f)
        first = next(lines, None)
        if first is None:
            return _Kept(wanted, box)
        delimiter = "," if "," in first else None
        tokens = [t.strip() for t in first.split(delimiter)]
        if all(_is_number(t) for t in tokens):
            names = None
            rows: Iterator[str] = _chain_first(first, lines)
        else:
            names = [t.lstrip("/#").strip().lower() for t in tokens]
            rows = lines
        index = _ascii_columns(names, len(tokens), wanted, optional, label)
        read = tuple(name for name in wanted if name in index) + tuple(
            name for name in optional if name in index
        )
        kept = _Kept(read, box)
        usecols = [index[name] for name in (*_XYZ, *read)]
        line_no = 1 if names is None else 2
        while block := list(islice(rows, chunk_points)):
            try:
                values = np.loadtxt(
                    block, delimiter=delimiter, usecols=usecols, dtype=np.float64, ndmin=2
                )
            except ValueError as error:
                raise InputDataError(
                    f"{label}: a line among data lines {line_no}–{line_no + len(block) - 1} "
                    f"is not numbers in every column ({error})",
                    fix="give x y z (and the named columns) as numbers on every line",
                ) from None
            line_no += len(block)
            kept.add({name: values[:, i] for i, name in enumerate((*_XYZ, *read))})
    return kept


def _chain_first(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _ascii_columns(
    names: list[str] | None,
    n_columns: int,
    wanted: tuple[str, ...],
    optional: tuple[str, ...],
    label: str,
) -> dict[str, int]:
    """Column index of x, y, z and of each requested field found in the header."""
    if names is None:
        if n_columns < 3:
            raise InputDataError(
                f"{label} has {n_columns} columns; an ASCII cloud needs x y z",
                fix="give x, y and z as the first three columns",
            )
        if wanted:
            raise InputDataError(
                f"{label} has no header line naming its columns, so {', '.join(wanted)} "
                "cannot be found",
                fix="add a header line (e.g. 'x y z intensity') or ask only for x, y, z",
            )
        return {"x": 0, "y": 1, "z": 2}
    index = {name: i for i, name in enumerate(names)}
    missing = [name for name in (*_XYZ, *wanted) if name not in index]
    if missing:
        raise InputDataError(
            f"{label} has no column {', '.join(missing)}; its header names {', '.join(names)}",
            fix="name the columns x, y, z (and the fields asked for) in the header line",
        )
    return {
        name: index[name] for name in (*_XYZ, *wanted, *optional) if name in index
    }


def _crs_text(crs: Any) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} ({crs.name})" if epsg is not None else str(crs.name)


def _horizontal(crs: Any) -> Any:
    return crs.sub_crs_list[0] if crs.is_compound and crs.sub_crs_list else crs


def _resolve_crs(file_crs: Any, expected_crs: Any, label: str) -> Any:
    """The cloud's CRS, checked against the expected one (horizontal parts compared)."""
    if expected_crs is None:
        return file_crs
    pyproj = _pyproj()
    try:
        expected = pyproj.CRS.from_user_input(expected_crs)
    except pyproj.exceptions.CRSError as error:
        raise InputDataError(
            f"expected CRS {expected_crs!r} for {label} is not a recognised CRS ({error})",
            fix="name it as EPSG:nnnn",
        ) from None
    if file_crs is None:
        warn(
            f"{label} carries no CRS; assuming the expected {_crs_text(expected)}",
            UserWarning,
            stacklevel=3,
        )
        return expected
    if _horizontal(file_crs) != _horizontal(expected):
        raise InputDataError(
            f"{label} is in {_crs_text(file_crs)}, but {_crs_text(expected)} is expected",
            fix="reproject the cloud into the project CRS, or correct the expected CRS",
        )
    return file_crs
