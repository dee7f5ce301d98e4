"""Plot records (样地记录), requirement P2, and the plot squares of requirement P1.

:func:`validate_plots` turns the plot table as delivered (headers as in
``standard/data/column_aliases.csv``; e.g. ``plot_id, x, y, crs, side_m, survey_date, forest_type,
species_group`` or ``样地号, 东坐标, 北坐标, 坐标系, 边长, 调查日期, 森林类型, 优势树种``) into a
GeoDataFrame in the project CRS, one row per plot:

=============  ========  ======================================================================
column         dtype     meaning
=============  ========  ======================================================================
plot_id        str       the plot id
x, y           float     the plot centre in the project CRS (reprojected when recorded in another)
crs            str       the CRS the centre was recorded in (the project CRS when not given)
side_m         float     side of the square plot, m (default: the pixel size)
survey_date    object    :class:`datetime.date`, or None where not given
forest_type    object    as written (e.g. 阔叶林), or None
species_group  object    the dominant species (group) as written, or None
row            int       the row in the input as a spreadsheet shows it (header = row 1)
geometry       Point     the centre, in the project CRS
=============  ========  ======================================================================

Row problems (empty or repeated ids, missing or non-numeric coordinates, an unknown CRS, a centre
outside its CRS's area of use, a bad side or date) are collected and raised together as an
:class:`~minecarbon.survey.trees.InvalidRowsError`. :func:`plot_squares` turns the centres into the
squares that are laid out in the field, axis-aligned in the project CRS.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError

from minecarbon.errors import InputDataError, warn
from minecarbon.grid import require_projected
from minecarbon.survey.trees import (
    FIRST_DATA_ROW,
    InvalidRowsError,
    RowIssue,
    _Rows,
    cell_text,
    clean_id,
    is_empty,
    match_columns,
    parse_number,
)

#: Columns of the plot records, in the order of the canonical table.
PLOT_COLUMNS = (
    "plot_id", "x", "y", "crs", "side_m", "survey_date", "forest_type", "species_group",
)

#: Columns the plot records must have.
REQUIRED_PLOT_COLUMNS = ("plot_id", "x", "y")

#: How many plot ids a warning names before "… and N more".
MAX_NAMED_PLOTS = 10

#: A centre may lie this far (degrees) outside its CRS's published area of use.
AREA_OF_USE_MARGIN_DEG = 1.0

_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_WGS84 = CRS.from_epsg(4326)


def _named(plot_ids: Sequence[str]) -> str:
    """``plot P1`` or ``plots P1, P2`` (at most :data:`MAX_NAMED_PLOTS`, then ``… and N more``)."""
    shown = ", ".join(plot_ids[:MAX_NAMED_PLOTS])
    more = len(plot_ids) - MAX_NAMED_PLOTS
    if more > 0:
        shown = f"{shown} … and {more} more"
    return f"plot {shown}" if len(plot_ids) == 1 else f"plots {shown}"


def _verb(plot_ids: Sequence[object], singular: str, plural: str) -> str:
    return singular if len(plot_ids) == 1 else plural


def parse_date(value: object) -> date:
    """A survey date from a cell.

    Accepted: a date or datetime, ``2024-08-02``, ``2024/8/2``, ``2024.8.2``, ``2024年8月2日``
    or ``20240802``; a time of day after the date is ignored.

    Raises
    ------
    ValueError
        If the cell is none of these, or not a real date. Day-first forms (``02/08/2024``) are
        refused because they are ambiguous.

    """
    if isinstance(value, datetime):  # pandas.Timestamp included
        return value.date()
    if isinstance(value, date):
        return value
    text = unicodedata.normalize("NFKC", cell_text(value)).strip()
    match = _DATE.match(text) or _COMPACT_DATE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a date")
    year, month, day = (int(g) for g in match.groups())
    return date(year, month, day)


def _parse_crs(text: str) -> CRS:
    if text.isdigit():
        text = f"EPSG:{text}"
    return CRS.from_user_input(text)


def _outside_area_of_use(crs: CRS, xs: np.ndarray, ys: np.ndarray) -> list[str | None]:
    """Per point, why it cannot be a point of ``crs``, or None if it lies in its area of use."""
    if crs.is_geographic:
        lon, lat = xs, ys
    else:
        try:
            lon, lat = Transformer.from_crs(crs, _WGS84, always_xy=True).transform(xs, ys)
        except ProjError:
            return ["cannot be transformed to longitude/latitude"] * len(xs)
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    area = crs.area_of_use
    m = AREA_OF_USE_MARGIN_DEG
    reasons: list[str | None] = []
    for x, y in zip(lon, lat, strict=True):
        if not (np.isfinite(x) and np.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
            reasons.append("is not a position on Earth")
            continue
        if area is None:
            reasons.append(None)
            continue
        west, south, east, north = area.bounds
        crosses_antimeridian = west > east
        inside_lon = (
            (x >= west - m or x <= east + m) if crosses_antimeridian else west - m <= x <= east + m
        )
        if inside_lon and south - m <= y <= north + m:
            reasons.append(None)
        else:
            reasons.append(
                f"lies at {x:.3f}°E {y:.3f}°N, outside the area of use of {crs.to_string()}"
            )
    return reasons


def validate_plots(
    raw: pd.DataFrame, source: str, project_crs: Any, pixel_size_m: float
) -> gpd.GeoDataFrame:
    """The plot records as a GeoDataFrame of centre points in the project CRS.

    Parameters
    ----------
    raw
        The plot table as read (e.g. by :func:`minecarbon.io.tables.read_table`).
    source
        The input's name for messages, e.g. ``"plots.csv"``.
    project_crs
        The project's projected CRS (anything pyproj understands).
    pixel_size_m
        The image pixel size: the default plot side (requirement P1).

    Warns
    -----
    UserWarning
        Naming the plots whose centres were reprojected from another CRS, whose CRS was not given
        (taken to be the project CRS), whose side is smaller than a pixel, or that have no
        survey date.

    Raises
    ------
    InvalidRowsError
        If any row is invalid (empty or repeated plot id, missing or non-numeric coordinates, an
        unknown CRS, a centre outside its CRS's area of use, a side that is not a positive
        number, a survey date that is not a date); ``issues`` lists every problem.
    InputDataError
        If a required column is missing, the table has no rows, or ``pixel_size_m`` is not
        positive.

    """
    target = require_projected(project_crs, "the project CRS")
    if not pixel_size_m > 0:
        raise InputDataError(f"pixel size {pixel_size_m!r} m is not positive",
                             fix="set a positive pixel size for the project grid")
    columns = match_columns(list(raw.columns), source, PLOT_COLUMNS, REQUIRED_PLOT_COLUMNS)
    table = _Rows(raw, columns)
    blank = [all(is_empty(v) for v in row) for row in zip(
        *(table.values(c) for c in columns), strict=True)]
    n = len(table.raw)

    plot_ids = [clean_id(v) for v in table.values("plot_id")]
    xs = np.full(n, np.nan)
    ys = np.full(n, np.nan)
    for axis, out in (("x", xs), ("y", ys)):
        for i, value in enumerate(table.values(axis)):
            if blank[i]:
                continue
            if is_empty(value):
                table.add(i, axis, value, f"the centre's {axis} coordinate is missing",
                          "write the plot centre's coordinates (GNSS) in both x and y")
                continue
            try:
                out[i] = parse_number(value)
            except ValueError:
                table.add(i, axis, value, f"{cell_text(value)!r} is not a coordinate",
                          "write the coordinate as a number (decimal degrees for EPSG:4326)")

    crs_texts = [clean_id(v) for v in table.values("crs")]
    crs_of: dict[str, CRS] = {}
    for i, text in enumerate(crs_texts):
        if blank[i] or not text or text in crs_of:
            continue
        try:
            crs_of[text] = _parse_crs(text)
        except CRSError:
            table.add(i, "crs", text, f"{text!r} is not a recognised CRS",
                      "name the CRS as EPSG:nnnn, e.g. EPSG:4546 or EPSG:4326 for GNSS "
                      "longitude/latitude")
    record_crs = [crs_of.get(t, target) if t else target for t in crs_texts]

    sides = np.full(n, float(pixel_size_m))
    for i, value in enumerate(table.values("side_m")):
        if blank[i] or is_empty(value):
            continue
        try:
            side = parse_number(value)
        except ValueError:
            side = float("nan")
        if not side > 0:
            table.add(i, "side_m", value, f"{cell_text(value)!r} is not a plot side in m",
                      "write the side of the square plot in m, or leave it empty for the "
                      "pixel size")
        else:
            sides[i] = side

    dates: list[date | None] = [None] * n
    for i, value in enumerate(table.values("survey_date")):
        if blank[i] or is_empty(value):
            continue
        try:
            dates[i] = parse_date(value)
        except ValueError:
            table.add(i, "survey_date", value, f"{cell_text(value)!r} is not a date",
                      "write the date as YYYY-MM-DD, e.g. 2024-08-02")

    groups: dict[str, list[int]] = {}
    for i, plot in enumerate(plot_ids):
        if blank[i]:
            continue
        if not plot:
            table.add(i, "plot_id", "", "the plot id is empty", "give every plot an id")
        else:
            groups.setdefault(plot, []).append(i)
    for plot, members in groups.items():
        if len(members) > 1:
            listed = ", ".join(str(m + FIRST_DATA_ROW) for m in members)
            for i in members:
                table.add(i, "plot_id", plot,
                          f"plot id {plot!r} appears {len(members)} times (rows {listed})",
                          "give every plot its own id, or delete the repeated record")

    bad_rows = {issue.row - FIRST_DATA_ROW for issue in table.issues}
    checked: dict[str, list[int]] = {}
    for i in range(n):
        if not blank[i] and i not in bad_rows:
            checked.setdefault(record_crs[i].to_string(), []).append(i)
    for members in checked.values():
        idx = np.asarray(members)
        reasons = _outside_area_of_use(record_crs[members[0]], xs[idx], ys[idx])
        for i, why in zip(members, reasons, strict=True):
            if why is None:
                continue
            table.issues.append(RowIssue(
                row=i + FIRST_DATA_ROW,
                column=f"{columns['x']}, {columns['y']}",
                value=f"{cell_text(xs[i])}, {cell_text(ys[i])}",
                problem=f"the centre {why}",
                fix="check the coordinates and the CRS: are x (easting) and y (northing) "
                "swapped (in Chinese surveying X is the northing)? Is the CRS right?",
            ))
    if table.issues:
        raise InvalidRowsError(source, table.sorted_issues(), hint="fix them in the plot records")

    keep = [i for i in range(n) if not blank[i]]
    if not keep:
        raise InputDataError(f"{source} has no plot rows", fix="check that this is the plot table")

    px = xs.copy()
    py = ys.copy()
    by_crs: dict[str, list[int]] = {}
    for i in keep:
        by_crs.setdefault(record_crs[i].to_string(), []).append(i)
    for members in by_crs.values():
        crs = record_crs[members[0]]
        if crs == target:
            continue
        idx = np.asarray(members)
        px[idx], py[idx] = Transformer.from_crs(crs, target, always_xy=True).transform(
            xs[idx], ys[idx]
        )
        warn(
            f"{source}: the centres of {_named([plot_ids[i] for i in members])} "
            f"{_verb(members, 'is', 'are')} in {crs.to_string()}; reprojected to the project "
            f"CRS {target.to_string()}",
            UserWarning,
            stacklevel=2,
        )
    if "crs" not in columns:
        warn(
            f"{source} has no CRS column; the plot centres are taken to be in the project CRS "
            f"{target.to_string()}",
            UserWarning,
            stacklevel=2,
        )
    else:
        assumed = [plot_ids[i] for i in keep if not crs_texts[i]]
        if assumed:
            warn(
                f"{source}: {_named(assumed)} {_verb(assumed, 'has', 'have')} no CRS; the "
                f"centres are taken to be in the project CRS {target.to_string()}",
                UserWarning,
                stacklevel=2,
            )
    small = [plot_ids[i] for i in keep if sides[i] < pixel_size_m]
    if small:
        warn(
            f"{source}: {_named(small)} {_verb(small, 'is', 'are')} smaller than one "
            f"{pixel_size_m:g} m pixel; the guide matches the plot side to the pixel",
            UserWarning,
            stacklevel=2,
        )
    undated = [plot_ids[i] for i in keep if dates[i] is None]
    if undated:
        warn(
            f"{source}: {_named(undated)} {_verb(undated, 'has', 'have')} no survey date",
            UserWarning,
            stacklevel=2,
        )

    def texts(canonical: str) -> list[str | None]:
        values = table.values(canonical)
        return [cell_text(values[i]).strip() or None for i in keep]

    frame = pd.DataFrame({
        "plot_id": pd.Series([plot_ids[i] for i in keep], dtype=str),
        "x": px[keep],
        "y": py[keep],
        "crs": pd.Series([crs_texts[i] or target.to_string() for i in keep], dtype=str),
        "side_m": sides[keep],
        "survey_date": pd.Series([dates[i] for i in keep], dtype=object),
        "forest_type": pd.Series(texts("forest_type"), dtype=object),
        "species_group": pd.Series(texts("species_group"), dtype=object),
        "row": (np.asarray(keep) + FIRST_DATA_ROW).astype("int64"),
    })
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["x"], frame["y"]),
                            crs=target)


def plot_squares(plots: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The plots as squares of ``side_m`` around their centres, axis-aligned in their CRS.

    ``plots`` is a frame from :func:`validate_plots` (point geometries, a ``side_m`` column, a
    projected CRS); every other column is kept.

    Raises
    ------
    InputDataError
        If ``plots`` has no ``side_m`` column, or a geometry that is not a point.
    MissingCRSError, GeographicCRSError
        If ``plots`` has no CRS or a geographic one (a side in metres needs a metric CRS).

    """
    require_projected(plots.crs, "the plots")
    if "side_m" not in plots.columns:
        raise InputDataError("the plots have no side_m column",
                             fix="build them with minecarbon.survey.plots.validate_plots")
    geoms = np.asarray(plots.geometry.array, dtype=object)
    if len(geoms) and not all(
        g is not None and g.geom_type == "Point" and not g.is_empty for g in geoms
    ):
        raise InputDataError("the plots' geometries must be centre points",
                             fix="build them with minecarbon.survey.plots.validate_plots")
    cx = shapely.get_x(geoms).astype(float)
    cy = shapely.get_y(geoms).astype(float)
    half = plots["side_m"].to_numpy(dtype=float) / 2.0
    squares = shapely.box(cx - half, cy - half, cx + half, cy + half)
    name = plots.geometry.name
    out = pd.DataFrame(plots.drop(columns=name))
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(squares, index=plots.index, crs=plots.crs),
                            crs=plots.crs)
