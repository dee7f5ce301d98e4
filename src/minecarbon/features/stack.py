"""The feature stack of one year (requirement F8): every feature on the grid, lazily.

:func:`feature_stack` turns a growing-season reflectance composite (variables named by band
role) into one ``xr.Dataset`` whose variables are the model features, each named so that it
explains itself: ``sr_<role>`` (surface reflectance 0–1), spectral indices (``ndvi``,
``rvi_nir_red``, ``ndwi_mcfeeters`` …), tasseled cap (``tc_brightness`` … ``tc_disturbance``),
texture (``glcm_<band>_<measure>``) and terrain (``elevation_m``, ``slope_deg`` …). Nothing is
computed here: on dask input the result is a dask graph that the pipeline writes block by
block, so any area fits in memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import xarray as xr

from minecarbon.config import FeaturesConfig
from minecarbon.errors import InputDataError
from minecarbon.features.spectral import compute_indices
from minecarbon.features.tasseled_cap import (
    DisturbanceStats,
    disturbance_stats,
    tasseled_cap,
    tasseled_cap_derived,
)
from minecarbon.features.texture import glcm_texture


@dataclass
class StackInfo:
    """What went into a stack, for the catalogue and the report."""

    sensor: str
    variables: dict[str, dict[str, str]] = field(default_factory=dict)
    disturbance_stats: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _record(info: StackInfo, ds: xr.Dataset, group: str, prefix: str = "") -> None:
    """Add every variable of ``ds`` to ``info`` with its group, units and description."""
    for n in ds.data_vars:
        attrs = ds[n].attrs
        text = attrs.get("long_name") or attrs.get("description") or f"{prefix}{n}"
        info.variables[str(n)] = {"group": group, "units": str(attrs.get("units", "")),
                                  "description": str(text)}


def feature_stack(
    composite: xr.Dataset,
    sensor_id: str,
    cfg: FeaturesConfig,
    *,
    terrain: xr.Dataset | None = None,
    forest_mask: xr.DataArray | None = None,
    disturbance_stats_in: Mapping[str, Any] | None = None,
    product_level: str = "sr",
    check_scale: bool = True,
) -> tuple[xr.Dataset, StackInfo]:
    """All features of one year on the composite's grid.

    Parameters
    ----------
    composite
        Reflectance 0–1 per band role (``blue``, ``red``, ``nir`` …), NaN where not observed.
    sensor_id
        The sensor the composite comes from (tasseled-cap coefficients depend on it).
    cfg
        The ``[features]`` section.
    terrain
        Terrain features of the DEM on the same grid (added unchanged), or None.
    forest_mask
        Forest pixels for the disturbance index's normalisation (``disturbance_normalisation =
        "forest"``); None falls back to all valid pixels, with a note.
    disturbance_stats_in
        Precomputed means and standard deviations of the tasseled-cap components (so that
        several years share one normalisation), or None to compute them over the mask.
    product_level
        ``"sr"`` or ``"toa"``: picks the tasseled-cap coefficient set.
    check_scale
        Look at a sample for digital numbers passed as reflectance (the pipeline checks every
        scene already and turns this off).

    Returns
    -------
    (stack, info)
        The lazy Dataset and a record of every variable's group, units and description.

    """
    info = StackInfo(sensor_id)
    parts: list[xr.Dataset] = []
    bands = xr.Dataset({f"sr_{role}": composite[role] for role in composite.data_vars})
    for name in bands.data_vars:
        bands[name].attrs.update(units="reflectance",
                                 long_name=f"surface reflectance, {str(name)[3:]} band, "
                                 f"growing-season {composite.attrs.get('method', 'median')}")
    parts.append(bands)
    _record(info, bands, "reflectance")
    if cfg.indices:
        idx = compute_indices(composite, cfg.indices, check_scale=check_scale)
        parts.append(idx)
        _record(info, idx, "spectral index")
    if cfg.tasseled_cap:
        try:
            tc = tasseled_cap(composite, sensor_id, coefficient_set=cfg.tasseled_cap_set,
                              product_level="toa" if product_level == "toa" else "sr",
                              check_scale=check_scale)
        except InputDataError as error:
            info.notes.append(f"tasseled cap left out: {error}")
        else:
            mask = forest_mask if cfg.disturbance_normalisation == "forest" else None
            if mask is None and disturbance_stats_in is None:
                info.notes.append("disturbance index normalised over all valid pixels")
            used = (DisturbanceStats.from_dict(disturbance_stats_in) if disturbance_stats_in
                    else disturbance_stats(tc, forest_mask=mask))
            derived = tasseled_cap_derived(tc, stats=used)
            info.disturbance_stats = {k: float(v) for k, v in used.to_dict().items()
                                      if isinstance(v, int | float)}
            for ds in (tc, derived):
                parts.append(ds)
                _record(info, ds, "tasseled cap")
    for role in cfg.glcm_bands:
        if role not in composite:
            raise InputDataError(
                f"GLCM texture band {role!r} is not in the composite "
                f"(it has {', '.join(map(str, composite.data_vars))})",
                fix="set features.glcm_bands to bands the sensor has")
        tex = glcm_texture(composite[role], window=cfg.glcm_window, levels=cfg.glcm_levels,
                           directions=cfg.glcm_directions_deg, distance=cfg.glcm_distance_px,
                           convention=cfg.glcm_convention,
                           value_range=tuple(cfg.glcm_value_range),
                           min_valid_fraction=cfg.glcm_min_valid_fraction)
        tex = tex.rename({n: f"glcm_{role}_{str(n).removeprefix('glcm_')}"
                          for n in tex.data_vars})
        parts.append(tex)
        _record(info, tex, "texture", prefix=f"GLCM of {role}: ")
    if terrain is not None:
        parts.append(terrain)
        _record(info, terrain, "terrain")
    stack = xr.merge(parts, join="exact", compat="override", combine_attrs="drop_conflicts")
    stack = stack.astype("float32")
    stack.attrs = {"sensor": sensor_id, "product_level": product_level}
    return stack, info
