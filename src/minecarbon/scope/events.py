"""Cleaning the mining-event polygon layers that define the assessment units (requirement S3).

Four layers, each a GeoDataFrame of polygons with attributes:

=============  ===============================  =============================================
layer          attributes                       meaning
=============  ===============================  =============================================
damage         form, year                       mining damage (损毁范围) and the year it happened
plan           form, year (the planned year)    planned mining (拟开采范围)
reclamation    year, optional form              reclamation (复垦范围) and the year it was done
disturbance    type, year                       non-mining disturbance (fire, road…), recorded
=============  ===============================  =============================================

Column names are matched case-insensitively, with aliases: ``type``, ``损毁形式`` and ``形式`` for
``form`` (``type`` and ``类型`` only in the damage and plan layers; the disturbance layer's
``type`` is free text), ``planned_year``, ``年份``
and ``年度`` for ``year``, ``类型`` for ``type``. Damage forms are written in English or Chinese:
excavation/挖损, subsidence/塌陷, occupation/压占 (case-insensitive, spaces stripped) and become
:class:`~minecarbon.types.DamageForm` codes.

:func:`clean_events` returns a new GeoDataFrame with the columns ``feature`` (a label naming
the feature: its ``id`` or ``name`` value, else ``row N`` counting from 1), ``form`` (the
DamageForm code, 0 where none), ``year`` (int), ``type`` (disturbance layer only) and
``geometry`` in the project CRS. Every problem is reported at once, naming the layer, the source
and the features, with the fix.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd  # type: ignore[import-untyped, unused-ignore]
import shapely
from pyproj import CRS
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from minecarbon.errors import InputDataError, MissingCRSError, warn
from minecarbon.types import DamageForm

#: The event layers and their Chinese names.
LAYERS: dict[str, str] = {
    "damage": "损毁范围",
    "plan": "拟开采范围",
    "reclamation": "复垦范围",
    "disturbance": "其他扰动",
}

#: Years accepted in an event layer.
YEAR_RANGE = (1900, 2100)

_FORM_NAMES: dict[str, DamageForm] = {}
for _form in DamageForm:
    _FORM_NAMES[_form.en.lower()] = _form
    _FORM_NAMES[_form.zh] = _form
    _FORM_NAMES[_form.name.lower()] = _form

_ALIASES: dict[str, tuple[str, ...]] = {
    "form": ("form", "type", "损毁形式", "形式", "类型"),
    "year": ("year", "planned_year", "年份", "年度"),
    "type": ("type", "类型"),
}

#: How many problem features one message lists before "and N more".
_MAX_LISTED = 10


def parse_form(value: Any) -> DamageForm | None:
    """The :class:`DamageForm` a cell names, or None when it names none.

    Accepts the English or Chinese name (``excavation``/``挖损``, ``subsidence``/``塌陷``,
    ``occupation``/``压占``), case-insensitive, surrounding spaces stripped.
    """
    if isinstance(value, DamageForm):
        return value
    if not isinstance(value, str):
        return None
    return _FORM_NAMES.get(value.strip().lower())


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def _parse_year(value: Any) -> int | None:
    """An integer year from an int, an integral float or a string; None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return int(value) if math.isfinite(value) and float(value).is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            return None
        return int(number) if math.isfinite(number) and number.is_integer() else None
    return None


def _find_column(columns: list[str], key: str, layer: str) -> str | None:
    lower = {str(c).strip().lower(): str(c) for c in columns}
    aliases = _ALIASES[key]
    if key == "form" and layer == "disturbance":
        return None
    if key == "form" and layer == "reclamation":  # a reclamation "type" is not a damage form
        aliases = tuple(a for a in aliases if a not in _ALIASES["type"])
    for alias in aliases:
        if alias in lower:
            return lower[alias]
    return None


def _labels(gdf: Any) -> list[str]:
    """``id`` or ``name`` value of each feature, else ``row N`` (1-based)."""
    lower = {str(c).strip().lower(): c for c in gdf.columns if c != gdf.geometry.name}
    column = lower.get("id", lower.get("name"))
    labels = []
    for n in range(len(gdf)):
        value = gdf[column].iloc[n] if column is not None else None
        labels.append(f"row {n + 1}" if _is_missing(value) else str(value).strip())
    return labels


def _named(label: str, row: int) -> str:
    return label if label.startswith("row ") else f"{label!r} (row {row + 1})"


def _listing(items: list[str]) -> str:
    shown = "; ".join(items[:_MAX_LISTED])
    more = len(items) - _MAX_LISTED
    return shown + (f"; and {more} more" if more > 0 else "")


def clean_events(gdf: Any, layer: str, crs: Any, source: str) -> Any:
    """Validate and normalise one event layer; the input is never modified.

    Parameters
    ----------
    gdf
        The layer as read (GeoDataFrame).
    layer
        ``damage``, ``plan``, ``reclamation`` or ``disturbance``.
    crs
        The project CRS; a layer in another CRS is reprojected to it with a warning.
    source
        Where the layer came from (a file name), named in every message.

    Returns
    -------
    A new GeoDataFrame with columns ``feature``, ``form``, ``year`` (``type`` for the
    disturbance layer) and ``geometry``, empty geometries dropped, invalid ones repaired.

    Raises
    ------
    MissingCRSError
        If the layer has no CRS.
    InputDataError
        If a required column is missing; a form or year is missing, unknown or outside
        1900–2100; or a geometry is not a polygon. The message names the layer, the source
        and each offending feature, with the fix.

    """
    if layer not in LAYERS:
        raise InputDataError(
            f"{source}: unknown event layer {layer!r}", fix=f"use one of {', '.join(LAYERS)}"
        )
    what = f"{layer} layer ({LAYERS[layer]}) of {source}"
    if gdf.crs is None:
        raise MissingCRSError(
            f"{what} has no coordinate reference system",
            fix="assign the CRS it was drawn in (e.g. in QGIS: Layer ▸ Set CRS) and re-export it",
        )
    if crs is None:
        raise InputDataError(f"no project CRS given to clean the {what}",
                             fix="pass the project's CRS ([project] crs)")
    target = CRS.from_user_input(crs)
    columns = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    year_col = _find_column(columns, "year", layer)
    form_col = _find_column(columns, "form", layer)
    type_col = _find_column(columns, "type", layer) if layer == "disturbance" else None
    required = ["year"] + (["form"] if layer in ("damage", "plan") else [])
    found = {"year": year_col, "form": form_col}
    missing = [k for k in required if found[k] is None]
    if missing:
        accepted = "; ".join(f"{k}: {', '.join(_ALIASES[k])}" for k in missing)
        raise InputDataError(
            f"{what} has no column {' or '.join(repr(m) for m in missing)} "
            f"(columns: {', '.join(columns) or 'none'})",
            fix=f"add the column (accepted names — {accepted})",
        )

    labels = _labels(gdf)
    problems: list[str] = []
    years: list[int] = []
    forms: list[int] = []
    low, high = YEAR_RANGE
    accepted_forms = ", ".join(f"{f.en}/{f.zh}" for f in DamageForm)
    for n in range(len(gdf)):
        name = _named(labels[n], n)
        assert year_col is not None
        raw_year = gdf[year_col].iloc[n]
        year = None if _is_missing(raw_year) else _parse_year(raw_year)
        if _is_missing(raw_year):
            problems.append(f"feature {name}: no {year_col}")
        elif year is None:
            problems.append(f"feature {name}: {year_col} {raw_year!r} is not a whole year")
        elif not low <= year <= high:
            problems.append(f"feature {name}: {year_col} {year} is outside {low}–{high}")
        years.append(year if year is not None else 0)
        code = 0
        if form_col is not None:
            raw_form = gdf[form_col].iloc[n]
            if _is_missing(raw_form):
                if layer != "reclamation":
                    problems.append(f"feature {name}: no {form_col}")
            else:
                form = parse_form(raw_form)
                if form is None:
                    problems.append(f"feature {name}: unknown {form_col} {raw_form!r}")
                else:
                    code = int(form)
        forms.append(code)

    geoms: list[BaseGeometry | None] = list(gdf.geometry)
    dropped: list[str] = []
    repaired: list[str] = []
    for n, geom in enumerate(geoms):
        name = _named(labels[n], n)
        if geom is None or geom.is_empty:
            dropped.append(name)
            continue
        if not isinstance(geom, Polygon | MultiPolygon):
            problems.append(f"feature {name}: geometry is a {geom.geom_type}, not a polygon")
            continue
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            fixed = _polygonal(shapely.make_valid(geom))
            if fixed is None:
                dropped.append(f"{name} (no area once repaired: {reason})")
                geoms[n] = None
            else:
                repaired.append(f"{name} ({reason})")
                geoms[n] = fixed

    if problems:
        raise InputDataError(
            f"{what}: {_listing(problems)}",
            fix=(
                f"give every feature a year in {low}–{high}"
                + (
                    f" and a form ({accepted_forms})"
                    if layer != "disturbance"
                    else ""
                )
                + " and polygon geometry, then import the file again"
            ),
        )
    if repaired:
        warn(
            f"{what}: invalid polygon repaired with make_valid: {_listing(repaired)}",
            UserWarning,
            stacklevel=2,
        )
    if dropped:
        warn(
            f"{what}: empty geometry dropped: {_listing(dropped)}", UserWarning, stacklevel=2
        )

    data: dict[str, Any] = {
        "feature": labels,
        "form": np.asarray(forms, dtype="int64"),
        "year": np.asarray(years, dtype="int64"),
    }
    if layer == "disturbance":
        raw_types = gdf[type_col] if type_col is not None else [None] * len(gdf)
        data["type"] = ["" if _is_missing(t) else str(t).strip() for t in raw_types]
    out = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=gdf.crs))
    out = out[~(out.geometry.isna() | out.geometry.is_empty)].reset_index(drop=True)

    layer_crs = CRS.from_user_input(gdf.crs)
    if layer_crs != target:
        warn(
            f"{what} is in {layer_crs.to_string()}; reprojected to the project CRS "
            f"{target.to_string()}",
            UserWarning,
            stacklevel=2,
        )
        out = out.to_crs(target)
    return out


def _polygonal(geom: BaseGeometry) -> BaseGeometry | None:
    """The polygonal part of a repaired geometry, or None if it has no area."""
    if isinstance(geom, Polygon | MultiPolygon):
        return geom if geom.area > 0 else None
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    parts = [g for g in parts if g.area > 0]
    return shapely.union_all(parts) if parts else None
