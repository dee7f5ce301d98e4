"""Chunked, cropping point readers behind :func:`minecarbon.io.pointcloud.read_points`.

A LAS/LAZ file is streamed with ``laspy.open(...).chunk_iterator`` (:func:`_read_las`), an ASCII
``x y z`` file a block of lines at a time with numpy (:func:`_read_ascii`); every chunk is cropped
to the box at once and :class:`_Kept` accumulates only the kept points (and the cloud's bounds,
for messages). A file whose extra-bytes description is broken is read with the standard point
format plus one opaque ``uint8`` column, :data:`UNPARSED_EXTRA_BYTES` (:func:`_standard_only`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

from minecarbon.errors import InputDataError, warn
from minecarbon.io._pointcloud_header import _laspy, _require_lazrs

#: Name of the opaque column standing in for a broken extra-bytes description.
UNPARSED_EXTRA_BYTES = "unparsed_extra_bytes"

#: A horizontal box (x_min, y_min, x_max, y_max) in the cloud's CRS, edges included.
Box = tuple[float, float, float, float]

_XYZ = ("x", "y", "z")


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
