"""Report maps: a raster on the project grid with legend, scale bar, north arrow and coordinates.

:func:`map_figure` returns the PNG of one map; :func:`draw_map` draws it onto a Matplotlib Axes
and returns the artists it made (the tests read them). A map is either *continuous* (a colour
bar with the units; ``diverging=True`` centres a diverging colour map on 0, for change and
cumulative effect) or *classes* (a legend of coloured patches listing only the classes present).
Rasters larger than :data:`MAX_MAP_PX` a side are first reduced by whole blocks
(:func:`downsample`: block mean for continuous values, block mode for class codes), lazily
on dask input, so only the reduced raster is ever computed.

The class colours and bilingual labels of the report's class maps are module constants
(:data:`UNIT_L1_CLASSES`, :data:`UNIT_L2_CLASSES`, :data:`TREND_CLASSES`,
:data:`EFFECT_GRADES`, :data:`GISTAR_BINS`): ``{code: (label_zh, label_en, colour)}``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")
import dask.array as dsa
import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.colors import Normalize, TwoSlopeNorm, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator
from pyproj import CRS

from minecarbon.assessment.grading import EffectGrade
from minecarbon.assessment.trend import TREND_LABELS, TrendClass
from minecarbon.errors import GeographicCRSError, InputDataError, warn
from minecarbon.report.document import Lang
from minecarbon.report.fonts import use_cjk_font
from minecarbon.scope.units import unit_names
from minecarbon.types import AssessmentUnit, DamageForm

#: A class map's classes: code → (Chinese label, English label, colour).
ClassStyle = dict[int, tuple[str, str, str]]
#: An overlay: a GeoDataFrame and its drawing style (``label`` names it in the legend).
Overlay = tuple[Any, Mapping[str, Any]]

#: Largest side of a drawn raster in pixels; larger rasters are reduced by whole blocks.
MAX_MAP_PX = 1500
#: Resolution of the PNGs (dots per inch); a 5-inch map is 1000 px wide.
DPI = 200

# ----------------------------------------------------------------------------- class colours
_L1_COLOURS = {
    AssessmentUnit.PERSISTENT: "#1b7837",
    AssessmentUnit.TO_BE_DAMAGED: "#f28e2b",
    AssessmentUnit.DAMAGED: "#c0392b",
    AssessmentUnit.RECLAIMED: "#2c7fb8",
    AssessmentUnit.OTHER_DISTURBANCE: "#9e9ac8",
}
# level 2: one shade per damage form (excavation dark, subsidence mid, occupation light)
_L2_SHADES = {
    AssessmentUnit.TO_BE_DAMAGED: ("#f28e2b", "#b35806", "#f28e2b", "#fdc086"),
    AssessmentUnit.DAMAGED: ("#c0392b", "#7f0000", "#d7301f", "#fc8d59"),
    AssessmentUnit.RECLAIMED: ("#2c7fb8", "#08519c", "#4292c6", "#9ecae1"),
}

#: Level-1 assessment units (:class:`~minecarbon.types.AssessmentUnit`).
UNIT_L1_CLASSES: ClassStyle = {int(u): (u.zh, u.en, _L1_COLOURS[u]) for u in AssessmentUnit}


def _l2_colour(code: int) -> str:
    unit = next(u for u in AssessmentUnit if int(u) == code // 10)
    shades = _L2_SHADES.get(unit)
    return _L1_COLOURS[unit] if shades is None else shades[code % 10]


_L2_CODES = [10, 50] + [int(u) * 10 + f for u in _L2_SHADES for f in (0, *map(int, DamageForm))]

#: Level-2 assessment units (``l1 × 10 + damage form``), labels from :func:`unit_names`.
UNIT_L2_CLASSES: ClassStyle = {
    code: (*unit_names(2, code), _l2_colour(code)) for code in sorted(_L2_CODES)
}


def unit_l2_classes(codes: Iterable[int] | None = None) -> ClassStyle:
    """The level-2 unit classes of ``codes`` (all valid level-2 codes when ``None``).

    Raises :class:`~minecarbon.errors.InputDataError` for a code that is no level-2 unit.
    """
    if codes is None:
        return dict(UNIT_L2_CLASSES)
    out: ClassStyle = {}
    for code in sorted({int(c) for c in codes}):
        if code not in UNIT_L2_CLASSES:
            raise InputDataError(f"{code} is not a level-2 assessment unit code",
                                 fix="use codes of the units_l2 map (l1 × 10 + damage form)")
        out[code] = UNIT_L2_CLASSES[code]
    return out


_TREND_COLOURS = {
    TrendClass.SIGNIFICANT_DECREASE: "#b2182b",
    TrendClass.SLIGHT_DECREASE: "#f4a582",
    TrendClass.STABLE: "#d9d9d9",
    TrendClass.SLIGHT_INCREASE: "#a6dba0",
    TrendClass.SIGNIFICANT_INCREASE: "#1b7837",
}
#: Sen+MK trend classes (−2 … 2); the nodata class is left out (drawn transparent).
TREND_CLASSES: ClassStyle = {
    int(c): (*TREND_LABELS[c], colour) for c, colour in sorted(_TREND_COLOURS.items())
}

_GRADE_COLOURS = ("#b2182b", "#ef8a62", "#d9d9d9", "#7fbf7b", "#1b7837")
#: Cumulative-effect grades 1 … 5 (:class:`~minecarbon.assessment.grading.EffectGrade`).
EFFECT_GRADES: ClassStyle = {
    int(g): (g.zh, g.en, _GRADE_COLOURS[int(g) - 1]) for g in EffectGrade
}

#: Getis–Ord Gi* confidence bins (±3/±2/±1 = 99/95/90 %, 0 not significant).
GISTAR_BINS: ClassStyle = {
    -3: ("冷点（99% 置信度）", "cold spot, 99 % confidence", "#2166ac"),
    -2: ("冷点（95% 置信度）", "cold spot, 95 % confidence", "#67a9cf"),
    -1: ("冷点（90% 置信度）", "cold spot, 90 % confidence", "#d1e5f0"),
    0: ("不显著", "not significant", "#eeeeee"),
    1: ("热点（90% 置信度）", "hot spot, 90 % confidence", "#fddbc7"),
    2: ("热点（95% 置信度）", "hot spot, 95 % confidence", "#ef8a62"),
    3: ("热点（99% 置信度）", "hot spot, 99 % confidence", "#b2182b"),
}

_TEXT = {
    "zh": {"north": "北", "easting": "东向坐标 (m)", "northing": "北向坐标 (m)",
           "crs": "坐标系：", "unknown_crs": "坐标系：未知", "legend": "图例"},
    "en": {"north": "N", "easting": "Easting (m)", "northing": "Northing (m)",
           "crs": "Coordinate system: ", "unknown_crs": "Coordinate system: unknown",
           "legend": "Legend"},
}


# ---------------------------------------------------------------------------- downsampling
def _block_reduce(block: npt.NDArray[Any], factor: int, how: str) -> npt.NDArray[np.float64]:
    """Reduce a 2-D block whose sides are multiples of ``factor`` by block mean or mode."""
    ny, nx = block.shape[0] // factor, block.shape[1] // factor
    cells = (np.asarray(block, dtype=np.float64).reshape(ny, factor, nx, factor)
             .transpose(0, 2, 1, 3).reshape(ny, nx, factor * factor))
    valid = np.isfinite(cells)
    count = valid.sum(axis=-1)
    out = np.full((ny, nx), np.nan)
    if how == "mean":
        total = np.where(valid, cells, 0.0).sum(axis=-1)
        np.divide(total, count, out=out, where=count > 0)
        return out
    codes = np.unique(cells[valid])
    if codes.size:
        counts = np.stack([(cells == c).sum(axis=-1) for c in codes], axis=-1)
        out = np.where(count > 0, codes[np.argmax(counts, axis=-1)], np.nan)
    return out


def downsample(da: xr.DataArray, *, max_px: int = MAX_MAP_PX,
               how: Literal["mean", "mode"] = "mean") -> xr.DataArray:
    """Reduce a (y, x) raster by an integer factor so that no side exceeds ``max_px``.

    Whole ``f × f`` blocks become one pixel: their NaN-skipping mean (``how="mean"``) or
    their most frequent value (``how="mode"``, ties to the lowest code; class codes stay codes).
    The last row and column of blocks are padded with NaN. The result is float64 with
    regularly spaced block-centre coordinates and the non-index coordinates of ``da`` (the
    CRS); it is lazy when ``da`` is dask-backed. A raster already small enough is returned
    unchanged.
    """
    if da.dims != ("y", "x"):
        raise InputDataError(f"the map {da.name!r} has dims {da.dims}, not ('y', 'x')",
                             fix="select one layer, e.g. da.sel(year=2024)")
    factor = math.ceil(max(da.shape) / max_px)
    if factor <= 1:
        return da
    pad = [(0, -n % factor) for n in da.shape]
    data: Any = da.data
    if isinstance(data, dsa.Array):
        data = dsa.pad(data.astype(np.float64), pad,  # type: ignore[no-untyped-call]
                       constant_values=np.nan)
        data = data.rechunk(tuple(max(factor, c[0] // factor * factor) for c in data.chunks))
        reduced: Any = data.map_blocks(
            _block_reduce, factor, how, dtype=np.float64,
            chunks=tuple(tuple(c // factor for c in dim) for dim in data.chunks))
    else:
        padded = np.pad(np.asarray(data, dtype=np.float64), pad, constant_values=np.nan)
        reduced = _block_reduce(padded, factor, how)
    coords: dict[str, Any] = {}
    for dim, n in zip(("y", "x"), reduced.shape, strict=True):
        values = np.asarray(da[dim].values, dtype=np.float64)
        step = _spacing(values, dim)
        coords[dim] = values[0] + step * (np.arange(n) * factor + (factor - 1) / 2)
    out = xr.DataArray(reduced, dims=("y", "x"), coords=coords, name=da.name, attrs=da.attrs)
    extra = {k: v for k, v in da.coords.items() if k not in da.dims and v.ndim == 0}
    return out.assign_coords(extra)


def _spacing(values: npt.NDArray[np.float64], dim: str) -> float:
    if values.size < 2:
        raise InputDataError(f"the map has a single {dim} coordinate",
                             fix="draw a raster of at least 2 × 2 pixels")
    return float(values[-1] - values[0]) / (values.size - 1)


# ------------------------------------------------------------------------ map furniture
def nice_scale_length(width_m: float, fraction: float = 0.25) -> float:
    """The largest 1, 2 or 5 × 10ⁿ metres not longer than ``fraction`` of the map width."""
    if not width_m > 0:
        raise InputDataError(f"map width {width_m} m", fix="draw a map of positive extent")
    target = width_m * fraction
    power = 10.0 ** math.floor(math.log10(target))
    return max(m * power for m in (1.0, 2.0, 5.0) if m * power <= target)


def format_length(length_m: float) -> str:
    """A scale-bar label: ``"500 m"`` below a kilometre, else ``"2 km"``."""
    if length_m >= 1000:
        return f"{length_m / 1000:g} km"
    return f"{length_m:g} m"


def format_coordinate(value: float, _pos: object = None) -> str:
    """A projected coordinate in whole metres with thin groups: ``585000`` → ``"585 000"``."""
    return f"{value:,.0f}".replace(",", " ").replace("-", "−")


def crs_note(crs: Any, lang: Lang = "zh") -> str:
    """The coordinate system of a map in words, e.g. ``"…CM 111E (EPSG:4546)"``."""
    if crs is None:
        return _TEXT[lang]["unknown_crs"]
    parsed = CRS.from_user_input(crs)
    epsg = parsed.to_epsg()
    return _TEXT[lang]["crs"] + parsed.name + (f" (EPSG:{epsg})" if epsg else "")


def _draw_scale_bar(ax: Axes, extent: tuple[float, float, float, float]) -> dict[str, Any]:
    x0, x1, y0, y1 = extent
    length = nice_scale_length(x1 - x0)
    height = (y1 - y0) * 0.012
    left, bottom = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04
    background = Rectangle((left - length * 0.1, bottom - height * 1.2), length * 1.2,
                           height * 5.4, facecolor="white", edgecolor="0.6", linewidth=0.5,
                           alpha=0.9, zorder=9)
    halves = [Rectangle((left + i * length / 2, bottom), length / 2, height, zorder=10,
                        facecolor=("black", "white")[i], edgecolor="black", linewidth=0.8)
              for i in range(2)]
    for patch in (background, *halves):
        ax.add_patch(patch)
    label = ax.text(left + length / 2, bottom + height * 1.6, format_length(length),
                    ha="center", va="bottom", fontsize=8, zorder=11)
    return {"scale_bar": halves, "scale_label": label, "scale_length_m": length}


def _draw_north_arrow(ax: Axes, lang: Lang) -> dict[str, Any]:
    arrow = ax.annotate(
        "", xy=(0.95, 0.90), xytext=(0.95, 0.79), xycoords="axes fraction", zorder=11,
        arrowprops={"facecolor": "black", "edgecolor": "black", "width": 3, "headwidth": 10,
                    "headlength": 10})
    label = ax.text(0.95, 0.915, _TEXT[lang]["north"], transform=ax.transAxes, ha="center",
                    va="bottom", fontsize=11, zorder=11,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 1.0})
    return {"north_arrow": arrow, "north_label": label}


def _draw_vectors(ax: Axes, overlays: Sequence[Overlay], crs: Any,
                  points: Overlay | None) -> tuple[list[Any], list[Any]]:
    """Draw the overlays and points; return their legend handles and the drawn collections."""
    handles: list[Any] = []
    drawn: list[Any] = []
    layers = [(gdf, style, False) for gdf, style in overlays]
    if points is not None:
        layers.append((points[0], points[1], True))
    for gdf, style, as_points in layers:
        frame = gdf if crs is None or gdf.crs is None else gdf.to_crs(crs)
        kwargs = {k: v for k, v in style.items() if k != "label"}
        label = style.get("label")
        if as_points:
            kwargs = {"marker": "^", "color": "black", "markersize": 14, **kwargs}
            handle: Any = Line2D([], [], ls="", marker=kwargs["marker"], color=kwargs["color"],
                                 markersize=math.sqrt(float(kwargs["markersize"])) * 1.3)
        else:
            kwargs = {"facecolor": "none", "edgecolor": "black", "linewidth": 0.8, **kwargs}
            handle = Patch(facecolor=kwargs["facecolor"], edgecolor=kwargs["edgecolor"],
                           linewidth=kwargs["linewidth"], linestyle=kwargs.get("linestyle", "-"),
                           alpha=kwargs.get("alpha"), hatch=kwargs.get("hatch"))
        before = len(ax.collections)
        if len(frame):
            frame.plot(ax=ax, zorder=5, **kwargs)
        drawn.extend(ax.collections[before:])
        if label:
            handle.set_label(str(label))
            handles.append(handle)
    return handles, drawn


def _class_image(values: npt.NDArray[np.float64], classes: Mapping[int, tuple[str, str, str]],
                 name: str) -> tuple[npt.NDArray[np.float64], list[int]]:
    """RGBA image of a class map and the listed codes present (NaN and unlisted: transparent)."""
    finite = values[np.isfinite(values)]
    present = sorted(int(c) for c in np.unique(np.round(finite)))
    unknown = [c for c in present if c not in classes and c != 0]
    if unknown:
        warn(f"the map {name!r} holds codes {unknown} that have no class; they are left blank",
             UserWarning, stacklevel=3)
    rgba = np.zeros((*values.shape, 4))
    shown = [c for c in present if c in classes]
    for code in shown:
        rgba[np.round(values) == code] = to_rgba(classes[code][2])
    return rgba, shown


def _limits(values: npt.NDArray[np.float64], vmin: float | None, vmax: float | None,
            diverging: bool) -> tuple[float, float, str]:
    """Colour limits (1st/99th percentiles unless given; symmetric when diverging) and extend."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        finite = np.zeros(1)
    if diverging and vmin is None and vmax is None:
        vmax = float(np.percentile(np.abs(finite), 99)) or 1.0
        vmin = -vmax
    elif diverging:
        vmin = -abs(vmax if vmax is not None else 1.0) if vmin is None else vmin
        vmax = abs(vmin) if vmax is None else vmax
    low = float(np.percentile(finite, 1)) if vmin is None else float(vmin)
    high = float(np.percentile(finite, 99)) if vmax is None else float(vmax)
    if high <= low:
        high = low + 1.0
    below, above = bool((finite < low).any()), bool((finite > high).any())
    extend = {(True, True): "both", (True, False): "min", (False, True): "max"}.get(
        (below, above), "neither")
    return low, high, extend


# ----------------------------------------------------------------------------------- drawing
def _crs_of(da: xr.DataArray) -> Any:
    crs = da.rio.crs
    if crs is None:
        warn(f"the map {da.name!r} carries no CRS; its coordinate system is noted as unknown",
             UserWarning, stacklevel=4)
        return None
    if CRS.from_user_input(crs).is_geographic:
        raise GeographicCRSError(
            f"the map {da.name!r} is in a geographic CRS ({crs}); scale bars need metres",
            fix="reproject it to the project's projected CRS (e.g. EPSG:4546)")
    return crs


def draw_map(ax: Axes, da: xr.DataArray, *, title: str, lang: Lang = "zh",
             kind: Literal["continuous", "classes"] = "continuous", units: str = "",
             cmap: str | None = None, classes: Mapping[int, tuple[str, str, str]] | None = None,
             vmin: float | None = None, vmax: float | None = None, diverging: bool = False,
             overlays: Sequence[Overlay] | None = None,
             points: Overlay | None = None) -> dict[str, Any]:
    """Draw a map of ``da`` onto ``ax`` with its legend and map furniture.

    Parameters are those of :func:`map_figure`. Returns the artists drawn: ``image``,
    ``colorbar`` (continuous) or ``legend`` (classes; also for overlays of a continuous map),
    ``classes_shown`` (codes in the legend), ``scale_bar`` (two patches), ``scale_label``,
    ``scale_length_m``, ``north_arrow``, ``north_label``, ``crs_note``, ``title``,
    ``vectors`` (the overlay and point collections) and ``extent`` (x0, x1, y0, y1 in metres).
    """
    if kind not in ("continuous", "classes"):
        raise InputDataError(f"map kind {kind!r} of {da.name!r}",
                             fix="use kind='continuous' or kind='classes'")
    if kind == "classes" and not classes:
        raise InputDataError(f"the class map {da.name!r} was given no classes",
                             fix="pass classes={code: (label_zh, label_en, colour)}")
    crs = _crs_of(da)
    small = downsample(da, how="mode" if kind == "classes" else "mean")
    values = np.asarray(small.values, dtype=np.float64)
    xs, ys = (np.asarray(small[d].values, dtype=np.float64) for d in ("x", "y"))
    dx, dy = _spacing(xs, "x"), _spacing(ys, "y")
    if dy > 0:  # rows from south to north: flip to north-up
        values, ys, dy = values[::-1], ys[::-1], -dy
    extent = (xs[0] - dx / 2, xs[-1] + dx / 2, ys[-1] + dy / 2, ys[0] - dy / 2)
    text = _TEXT[lang]
    out: dict[str, Any] = {"extent": extent}
    handles: list[Any] = []
    if kind == "classes":
        assert classes is not None
        rgba, shown = _class_image(values, classes, str(da.name))
        out["image"] = ax.imshow(rgba, extent=extent, origin="upper", interpolation="nearest",
                                 zorder=1)
        out["classes_shown"] = shown
        handles = [Patch(facecolor=classes[c][2], edgecolor="0.35", linewidth=0.4,
                         label=classes[c][0 if lang == "zh" else 1]) for c in shown]
    else:
        low, high, extend = _limits(values, vmin, vmax, diverging)
        norm: Normalize = (TwoSlopeNorm(0.0, low, high) if diverging and low < 0 < high
                           else Normalize(low, high))
        colour_map = plt.get_cmap(cmap or ("RdYlGn" if diverging else "YlGn")).with_extremes(
            bad=(0, 0, 0, 0))
        out["image"] = ax.imshow(np.ma.masked_invalid(values), extent=extent, origin="upper",
                                 cmap=colour_map, norm=norm, interpolation="nearest", zorder=1)
        cax = ax.inset_axes((1.04, 0.42, 0.035, 0.58))
        colorbar = ax.figure.colorbar(out["image"], cax=cax, extend=extend)
        colorbar.ax.set_title(units, fontsize=8, loc="left", pad=6)
        colorbar.ax.tick_params(labelsize=8)
        out["colorbar"] = colorbar
    vector_handles, out["vectors"] = _draw_vectors(ax, overlays or [], crs, points)
    handles += vector_handles
    if handles:
        anchor = (1.03, 1.0) if kind == "classes" else (1.03, 0.36)
        out["legend"] = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=anchor,
                                  frameon=False, fontsize=8, title=text["legend"],
                                  title_fontsize=9, alignment="left", borderaxespad=0.0)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal", adjustable="box")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
        axis.set_major_formatter(FuncFormatter(format_coordinate))
    ax.tick_params(labelsize=7, direction="in", top=True, right=True)
    for label in ax.get_yticklabels():
        label.set(rotation=90, va="center")
    ax.grid(True, color="0.5", linewidth=0.3, linestyle=(0, (4, 4)), alpha=0.6, zorder=2)
    ax.set_xlabel(text["easting"], fontsize=8)
    ax.set_ylabel(text["northing"], fontsize=8)
    out.update(_draw_scale_bar(ax, extent))
    out.update(_draw_north_arrow(ax, lang))
    out["crs_note"] = ax.annotate(crs_note(crs, lang), xy=(0.0, 0.0),
                                  xycoords=("axes fraction", ax.xaxis.label),
                                  xytext=(0, -4), textcoords="offset points", ha="left",
                                  va="top", fontsize=7, color="0.25")
    out["title"] = ax.set_title(title, fontsize=11, pad=8)
    return out


def figure_png(fig: Figure) -> bytes:
    """The PNG bytes of a figure (tight bounding box, no timestamp), and close it."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.12,
                    metadata={"Software": None}, facecolor="white")
    finally:
        plt.close(fig)
    return buffer.getvalue()


def map_figure(da: xr.DataArray, *, title: str, lang: Lang = "zh",
               kind: Literal["continuous", "classes"] = "continuous", units: str = "",
               cmap: str | None = None, classes: Mapping[int, tuple[str, str, str]] | None = None,
               vmin: float | None = None, vmax: float | None = None, diverging: bool = False,
               overlays: Sequence[Overlay] | None = None,
               points: Overlay | None = None) -> bytes:
    """A map of a raster on a projected grid as PNG bytes (a 1000 px wide map at :data:`DPI`).

    Parameters
    ----------
    da
        (y, x) raster with x/y coordinates in metres and its CRS (``da.rio.crs``); numpy or
        dask. Rasters over :data:`MAX_MAP_PX` a side are reduced first (:func:`downsample`).
    title
        Title of the map, in the report's language.
    lang
        ``"zh"`` (Chinese labels) or ``"en"``.
    kind
        ``"continuous"`` (colour bar) or ``"classes"`` (legend of the classes present).
    units
        Units written over the colour bar, e.g. ``"t C/ha"``.
    cmap
        Matplotlib colour map of a continuous map (default ``YlGn``; ``RdYlGn`` diverging).
    classes
        ``{code: (label_zh, label_en, colour)}`` of a class map (e.g. :data:`TREND_CLASSES`);
        NaN, 0 and codes not listed are transparent.
    vmin, vmax
        Colour limits (default: the 1st and 99th percentiles; symmetric when diverging).
    diverging
        Centre a diverging colour map on 0 (change, cumulative effect).
    overlays
        ``[(GeoDataFrame, style)]`` drawn on top (boundaries, damage polygons); ``style`` holds
        GeoPandas ``plot`` keywords and an optional ``label`` for the legend.
    points
        ``(GeoDataFrame, style)`` of points, e.g. plot centres.


    """
    use_cjk_font()
    xs = np.asarray(da["x"].values, dtype=np.float64)
    ys = np.asarray(da["y"].values, dtype=np.float64)
    aspect = abs(_spacing(xs, "x") * xs.size) / abs(_spacing(ys, "y") * ys.size)
    width_in = 5.0
    height_in = min(max(width_in / aspect, 2.5), 7.0)
    fig = plt.figure(figsize=(width_in + 3.2, height_in + 1.4))
    ax = fig.add_axes((0.9 / (width_in + 3.2), 0.9 / (height_in + 1.4),
                       width_in / (width_in + 3.2), height_in / (height_in + 1.4)))
    try:
        draw_map(ax, da, title=title, lang=lang, kind=kind, units=units, cmap=cmap,
                 classes=classes, vmin=vmin, vmax=vmax, diverging=diverging,
                 overlays=overlays, points=points)
    except BaseException:
        plt.close(fig)
        raise
    return figure_png(fig)
