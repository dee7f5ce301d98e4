"""From delivered scenes to a clear-sky reflectance composite per year (requirement F2).

A scene arrives as stored digital numbers on the project grid (``io.scenes.read_scene``):
variables named by band id (``B4``) plus a ``qa`` band. :func:`scene_reflectance` applies the
product's scale and offset from the sensor registry and renames bands to their roles;
:func:`cloud_mask` reads the QA band (Landsat QA_PIXEL bits or Sentinel-2 SCL classes);
:func:`check_reflectance` catches digital numbers passed as reflectance; :func:`composite`
takes the per-pixel median of the clear observations of several scenes and counts them.
Everything is lazy: on dask input nothing is computed here except a small strided sample in
:func:`check_reflectance`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import xarray as xr

from minecarbon.errors import GridMismatchError, InputDataError, warn
from minecarbon.standard.harmonisation import BandTransform
from minecarbon.standard.sensors import QA_PRODUCT, qa_flags, sensor, sentinel2_offset

#: Plausible surface reflectance: a little below 0 (atmospheric over-correction) to a little
#: above 1 (specular, snow). Outside this, the scale or offset is wrong.
REFLECTANCE_RANGE = (-0.2, 1.6)


def scene_reflectance(raw: xr.Dataset | Mapping[str, xr.DataArray], *, what: str = "scene",
                      sensor_id: str | None = None, scale: float | None = None,
                      offset: float | None = None) -> xr.Dataset:
    """Reflectance (float32) per band role from a scene's stored values.

    Parameters
    ----------
    raw
        Variables named by band id (``B4``, ``SR_B4``, ``B04``) and optionally ``qa``; attrs
        ``sensor`` and, for Sentinel-2, ``boa_add_offset`` / ``processing_baseline`` / ``date``.
        A mapping of band id → DataArray is accepted too (bands on different grids are then
        refused, where a Dataset would have aligned them silently with NaN).
    what
        How to name the scene in messages.
    sensor_id
        The sensor, when ``raw`` does not say it in ``attrs["sensor"]``.
    scale, offset
        Override the registry's (needed for Gaofen DN, which have none).

    """
    attrs: dict[str, Any] = dict(raw.attrs) if isinstance(raw, xr.Dataset) else {}
    bands: dict[str, xr.DataArray] = (
        {str(k): raw[k] for k in raw.data_vars} if isinstance(raw, xr.Dataset)
        else {str(k): v for k, v in raw.items()})
    s = sensor(sensor_id or str(attrs.get("sensor", "")))
    ref = next((bands[n] for n in bands if n != "qa"), None)
    if ref is None:
        raise InputDataError(f"{what} has no bands", fix="check the scene files")
    ref_name = next(n for n in bands if n != "qa")
    out: dict[str, xr.DataArray] = {}
    for name in bands:
        if name == "qa":
            continue
        band = s.band_by_id(str(name))
        if band is None:
            continue
        da = bands[name]
        if da.shape != ref.shape or not (
            np.array_equal(da["x"].values, ref["x"].values)
            and np.array_equal(da["y"].values, ref["y"].values)
        ):
            raise GridMismatchError(
                f"band {name} of {what} is not on the same grid as band {ref_name}",
                fix="read every band onto the project grid first (io.scenes.read_scene)",
            )
        b_scale = scale if scale is not None else band.scale
        b_offset = offset if offset is not None else band.offset
        if b_scale is None or b_offset is None:
            raise InputDataError(
                f"{what}: {s.name} band {band.band} is delivered as digital numbers without a "
                "standard scale and offset",
                fix="give the calibration (CRESDA absolute calibration for the year) and "
                "atmospherically correct the scene, or pass scale= and offset=",
            )
        if s.id == "sentinel2" and offset is None:
            b_offset = sentinel2_offset(_num(attrs.get("processing_baseline")),
                                        _num(attrs.get("boa_add_offset")))
            if (attrs.get("processing_baseline") is None
                    and attrs.get("boa_add_offset") is None
                    and str(attrs.get("date", "")) >= "2022-01-25"):
                b_offset = -0.1
                warn(
                    f"{what}: Sentinel-2 processing baseline unknown; assuming the −1000 DN "
                    "offset of baseline 04.00 (acquired after 2022-01-25)",
                    UserWarning, stacklevel=2)
        if band.unit == "kelvin":  # thermal bands are not reflectance features
            continue
        out[band.role] = (da * b_scale + b_offset).astype("float32")
    if not out:
        raise InputDataError(f"{what} has no reflectance band of {s.name}",
                             fix=f"bands are named like {s.bands[0].band}; check the files")
    ds = xr.Dataset(out)
    ds.attrs.update({k: v for k, v in attrs.items() if isinstance(v, str | int | float)})
    ds.attrs["sensor"] = s.id
    ds.attrs["product_level"] = str(attrs.get("product_level", "sr"))
    return ds


def _num(value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(str(value))
    except ValueError:
        return None


def cloud_mask(qa: xr.DataArray, product: str, *,
               masked: Sequence[str] | None = None) -> xr.DataArray:
    """True where a pixel is cloud, shadow, fill or another flag that hides the ground.

    Parameters
    ----------
    qa
        Landsat Collection-2 ``QA_PIXEL`` (bit flags) or Sentinel-2 ``SCL`` (classes).
    product
        ``landsat_c2_qa_pixel`` or ``sentinel2_scl``.
    masked
        Meanings of the flags to mask (``data/qa_masks.csv``); default the flags marked
        ``masked_by_default`` (Landsat: fill, dilated cloud, cirrus, cloud, shadow, snow;
        Sentinel-2: no data, saturated, cloud shadows, cloud medium/high, cirrus, snow).

    """
    flags = qa_flags(product)
    chosen = [f for f in flags if (f.masked_by_default if masked is None else f.meaning in masked)]
    if masked is not None:
        unknown = set(masked) - {f.meaning for f in flags}
        if unknown:
            raise InputDataError(
                f"unknown {product} flag(s) {sorted(unknown)}",
                fix=f"use meanings from {', '.join(f.meaning for f in flags)}")
    values = qa.astype("int64")
    hidden = xr.zeros_like(values, dtype=bool)
    for f in chosen:
        hit = (values & (1 << f.value)) != 0 if f.kind == "bit" else values == f.value
        hidden = hidden | hit
    return hidden.rename("cloud_mask")


def harmonise(refl: xr.Dataset, to_sensor: str | None,
              fitted: Mapping[str, Mapping[str, BandTransform]] | None = None) -> xr.Dataset:
    """Surface reflectance of one sensor expressed as another's (Roy et al. 2016 for ETM+/TM).

    Applied after scaling and before any index: ``to = intercept + slope × from`` per band role
    (:mod:`minecarbon.standard.harmonisation`), ``from`` the band the row names
    (Sentinel-2's NIR from B8A) as delivered. The result's ``sensor`` attribute becomes
    ``to_sensor`` and ``harmonised_from`` names the original; a sensor the table has no
    functions for is returned unchanged with ``harmonised_from`` unset. ``to_sensor`` None:
    unchanged. ``fitted`` (sensor id → role → transform, e.g. a TM → OLI function fitted on
    the archive by :mod:`minecarbon.features.crosscal`) takes the place of the table's rows
    for the sensors it names. A scene that has a role but not the band it is computed from
    (Sentinel-2 without B8A) is refused: its NIR would stay the other band's.
    """
    from minecarbon.standard.harmonisation import transforms

    sensor_id = str(refl.attrs.get("sensor", ""))
    if to_sensor is None or not sensor_id:
        return refl
    table = (fitted or {}).get(sensor_id) or transforms(sensor_id, to_sensor)
    if table is None:
        return refl
    out = refl.copy()
    for role, t in table.items():
        if role in refl and t.source_role not in refl:
            scene = refl.attrs.get("scene_id") or f"a {sensor_id} scene"
            raise InputDataError(
                f"{scene}: its {role} band is harmonised to {to_sensor} from its "
                f"{t.source_role} band, which the scene does not have",
                fix=f"import the scene with its {t.source_role} band (Sentinel-2: B8A), or set "
                    "features.harmonise_to = \"off\"")
        if role in refl:
            out[role] = (refl[t.source_role] * t.slope + t.intercept).astype("float32")
    out.attrs["sensor"] = to_sensor
    if sensor_id != to_sensor:
        out.attrs["harmonised_from"] = sensor_id
    return out


def clear_reflectance(raw: xr.DataArray | xr.Dataset, *, what: str = "scene",
                      masked: Sequence[str] | None = None,
                      harmonise_to: str | None = None,
                      fitted: Mapping[str, Mapping[str, BandTransform]] | None = None,
                      ) -> xr.Dataset:
    """Reflectance with cloudy, shadowed and fill pixels set to NaN (see :func:`cloud_mask`).

    With ``harmonise_to`` (a sensor id, e.g. ``landsat8``) the reflectance is transformed to
    that sensor's (:func:`harmonise`, with the ``fitted`` functions where given) before
    anything is computed from it.
    """
    if not isinstance(raw, xr.Dataset):
        raise InputDataError(f"{what} must be a Dataset of bands", fix="use io.scenes.read_scene")
    refl = harmonise(scene_reflectance(raw, what=what), harmonise_to, fitted)
    if "qa" in raw:
        product = str(raw.attrs.get("qa_product") or QA_PRODUCT.get(str(raw.attrs["sensor"]), ""))
        if product:
            refl = refl.where(~cloud_mask(raw["qa"], product, masked=masked))
    return refl


def check_reflectance(ds: xr.Dataset, what: str, *, sample_px: int = 128) -> None:
    """Refuse digital numbers passed as reflectance; warn about values out of range.

    Looks at five windows of at most ``sample_px`` × ``sample_px`` pixels per band (the
    centre and the four quarter points; on dask input only the blocks under them are read,
    never the whole raster). Raises :class:`InputDataError` naming the scene and band when
    the median exceeds 1.5 (DN, or reflectance × 10 000); warns when more than 1 % of the
    sample lies outside :data:`REFLECTANCE_RANGE`.
    """
    from dask.base import compute

    ny, nx = ds.sizes["y"], ds.sizes["x"]
    half = sample_px // 2
    windows = [(int(ny * fy), int(nx * fx))
               for fy, fx in ((0.5, 0.5), (0.25, 0.25), (0.25, 0.75), (0.75, 0.25), (0.75, 0.75))]
    parts = {str(n): [ds[n].isel(y=slice(max(0, cy - half), cy + half),
                                 x=slice(max(0, cx - half), cx + half)).data
                      for cy, cx in windows]
             for n in ds.data_vars}
    (samples,) = compute(parts)  # type: ignore[no-untyped-call]
    for name, pieces in samples.items():
        sample = np.concatenate([np.ravel(np.asarray(p, float)) for p in pieces])
        values = sample[np.isfinite(sample)]
        if values.size == 0:
            continue
        median = float(np.median(values))
        if median > 1.5:
            raise InputDataError(
                f"band {name} of {what} looks like digital numbers, not reflectance "
                f"(median {median:.4g})",
                fix="apply the product's scale and offset (features.preprocess."
                "scene_reflectance), e.g. Landsat C2 L2 ×2.75e-5 − 0.2, Sentinel-2 L2A ×1e-4",
            )
        lo, hi = REFLECTANCE_RANGE
        share = float(np.mean((values < lo) | (values > hi)))
        if share > 0.01:
            warn(
                f"band {name} of {what}: {share:.1%} of values outside reflectance "
                f"{lo}…{hi}; wrong scale or offset?", UserWarning, stacklevel=2)


def composite(scenes: Sequence[xr.Dataset], *, what: str = "composite",
              method: str = "median", left_out: list[str] | None = None
              ) -> tuple[xr.Dataset, xr.DataArray]:
    """Per-pixel median (or mean) of the clear observations of several scenes.

    Returns the composite (one variable per role present in every scene) and the number of
    clear observations per pixel (``clear_count``, uint8). Lazy: the scene axis is one chunk.
    The bands not in every scene are left out with a warning, or, given ``left_out``, added
    to it for the caller to report (once for many composites).
    """
    if not scenes:
        raise InputDataError(f"{what}: no scene to composite", fix="import scenes for it")
    roles = [r for r in scenes[0].data_vars if all(r in s for s in scenes)]
    dropped = sorted({str(r) for s in scenes for r in s.data_vars} - {str(r) for r in roles})
    if dropped and left_out is not None:
        left_out.extend(dropped)
    elif dropped:
        warn(f"{what}: bands {dropped} are not in every scene and are left out",
             UserWarning, stacklevel=2)
    if method not in ("median", "mean"):
        raise InputDataError(f"unknown composite method {method!r}", fix="use median or mean")
    stacked = xr.concat([s[roles] for s in scenes], dim="scene", join="exact",
                        combine_attrs="drop")
    if stacked.chunks:
        stacked = stacked.chunk({"scene": -1})
    reduced = xr.apply_ufunc(
        _nan_reduce, stacked, input_core_dims=[["scene"]], dask="parallelized",
        kwargs={"method": method}, output_dtypes=[np.float32], keep_attrs=False)
    clear = stacked[roles[0]].notnull()
    for r in roles[1:]:
        clear = clear & stacked[r].notnull()
    count = clear.sum("scene").astype("uint8").rename("clear_count")
    reduced = reduced.astype("float32").where(count > 0)
    reduced.attrs.update(method=method, scenes=len(scenes))
    return reduced, count


def gap_fill(composites: Mapping[int, xr.Dataset], year: int, max_years: int
             ) -> tuple[xr.Dataset, xr.DataArray]:
    """Fill the pixels of ``year`` that were never clear from the nearest years' composites.

    Years ±1, then ±2 … up to ``max_years`` are tried, the earlier year first on a tie; a pixel
    takes all its bands from one year. Returns the filled composite and the year offset each
    pixel came from (0 = its own year, NaN = still empty). Lazy.
    """
    own = composites[year]
    first = next(iter(own.data_vars))
    filled = own
    offset = xr.zeros_like(own[first], dtype="float32").where(own[first].notnull())
    for distance in range(1, max_years + 1):
        for other_year in (year - distance, year + distance):
            other = composites.get(other_year)
            if other is None:
                continue
            need = filled[first].isnull() & other[first].notnull()
            filled = xr.Dataset({r: filled[r].where(~need, other[r]) for r in own.data_vars},
                                attrs=own.attrs)
            offset = offset.where(~need, float(other_year - year))
    return filled, offset.rename("gap_fill_offset_years")


def _nan_reduce(values: np.ndarray, method: str) -> np.ndarray:
    """NaN-median or NaN-mean over the last axis; all-NaN pixels give NaN without a warning.

    (No ``warnings.catch_warnings`` here: it is not thread-safe and runs in dask's threads.)
    """
    empty = np.isnan(values).all(axis=-1)
    if empty.any():
        values = values.copy()
        values[empty] = 0.0
    out = np.nanmedian(values, axis=-1) if method == "median" else np.nanmean(values, axis=-1)
    out = np.asarray(out, dtype=np.float32)
    out[empty] = np.nan
    return out


def season_scenes(dates: Sequence[date], year: int, months: Sequence[int]) -> list[int]:
    """Indices of the dates that fall in ``year`` and in one of ``months``."""
    return [i for i, d in enumerate(dates) if d.year == year and d.month in months]
