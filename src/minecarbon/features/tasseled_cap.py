"""Tasseled-cap components and the indices derived from them (requirement F4).

:func:`tasseled_cap` applies a coefficient set of :mod:`minecarbon.standard.tasseled_cap` to
reflectance bands named by role: component = Σ coefficient × band, no offset. A set is defined on
its full band set and is refused on a subset. The default set depends on the sensor and product
level (``sr`` or ``toa``): Landsat 4/5/7 SR → Crist (1985); Landsat 7 TOA → Huang et al. (2002);
Landsat 8/9 SR → Zhai et al. (2022); Landsat 8/9 TOA → Baig et al. (2014); Sentinel-2 → Shi & Xu
(2019, L1C TOA: there is no published surface-reflectance set, so SR input warns). A set applied
to another product level than its own warns.

:func:`tasseled_cap_derived` adds:

- ``tc_angle_deg`` — the tasseled-cap angle arctan(greenness / brightness) in degrees (Powell et
  al. 2010), computed with ``atan2`` so the quadrant is kept;
- ``tc_distance`` — the Euclidean distance from the origin in the brightness–greenness plane,
  √(B² + G²);
- ``tc_disturbance`` — the disturbance index of Healey et al. (2005), DI = B_r − (G_r + W_r),
  X_r = (X − μ_X) / σ_X with μ and σ (population, ddof 0) of each component over a
  normalisation domain: the forest pixels of ``forest_mask``, or ``stats`` shared between scenes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import xarray as xr
from dask.base import compute

from minecarbon.errors import GridMismatchError, InputDataError, warn
from minecarbon.features.spectral import band_dataset, check_reflectance, check_same_grid
from minecarbon.standard import tasseled_cap as tc_standard
from minecarbon.standard.tasseled_cap import CoefficientSet, coefficient_sets, default_set

#: Components returned by :func:`tasseled_cap`, with their variable names.
TC_VARIABLES = {"brightness": "tc_brightness", "greenness": "tc_greenness",
                "wetness": "tc_wetness"}


def _product_level(bands: xr.Dataset, product_level: str | None) -> Literal["sr", "toa"]:
    level = product_level or bands.attrs.get("product_level") or "sr"
    if level not in ("sr", "toa"):
        raise InputDataError(f"product level {level!r} is neither 'sr' nor 'toa'",
                             fix="pass product_level='sr' (surface reflectance) or 'toa'")
    return "sr" if level == "sr" else "toa"


def _choose_set(sensor: str, level: Literal["sr", "toa"], name: str | None) -> CoefficientSet:
    if name is None:
        return default_set(sensor, level)
    chosen = tc_standard.coefficient_set(name)
    if sensor not in chosen.sensors:
        fits = [s.name for s in coefficient_sets().values() if sensor in s.sensors]
        raise InputDataError(
            f"tasseled-cap set {name!r} is for {', '.join(chosen.sensors)}, not {sensor!r}",
            fix=f"use a set for {sensor}: {', '.join(fits) or 'none exists'}")
    return chosen


def _missing_fix(chosen: CoefficientSet, missing: list[str], sensor: str) -> str:
    others = [s.name for s in coefficient_sets().values()
              if sensor in s.sensors and s.name != chosen.name]
    tips = [f"add the band(s) {', '.join(missing)}"]
    if missing == ["cirrus"]:
        tips.append("or pass fill_missing={'cirrus': 0.0} (Sentinel-2 L2A has no B10; its "
                    f"coefficients are {_coefs(chosen, 'cirrus')}, so a constant changes each "
                    "component by at most 0.002 × the cirrus reflectance)")
    if others:
        tips.append(f"or choose another set: {', '.join(others)}")
    return "; ".join(tips)


def _coefs(chosen: CoefficientSet, role: str) -> str:
    return ", ".join(f"{chosen.coefficients[c][role]:g}" for c in TC_VARIABLES)


def tasseled_cap(
    reflectance: xr.Dataset | Mapping[str, xr.DataArray],
    sensor: str,
    *,
    coefficient_set: str | None = None,
    product_level: Literal["sr", "toa"] | None = None,
    fill_missing: Mapping[str, float] | None = None,
    check_scale: bool = True,
) -> xr.Dataset:
    """Tasseled-cap brightness, greenness and wetness.

    Parameters
    ----------
    reflectance
        Reflectance (0–1), one variable per band named by role, on one grid.
    sensor
        Sensor id (``landsat5``, ``landsat7``, ``landsat8``, ``landsat9``, ``sentinel2``); must
        agree with ``reflectance.attrs["sensor"]`` where that is set.
    coefficient_set
        A set of :func:`minecarbon.standard.tasseled_cap.coefficient_sets`; default: the
        sensor's set for the product level.
    product_level
        ``"sr"`` or ``"toa"``; default ``reflectance.attrs["product_level"]``, else ``"sr"``.
    fill_missing
        Constant reflectance for bands of the set that the data lack, by role. Explicit only:
        meant for Sentinel-2 L2A, which has no B10 (``{"cirrus": 0.0}``). Recorded in attrs.
    check_scale
        Refuse data that look like digital numbers (samples a few chunks).

    Returns
    -------
    xarray.Dataset
        ``tc_brightness``, ``tc_greenness``, ``tc_wetness`` (float32, lazy on dask), with the
        set, its source, input unit and coefficients in the attrs.

    Raises
    ------
    InputDataError
        Unknown sensor or set, a set for another sensor, a band of the set missing, digital
        numbers.
    GridMismatchError
        Bands on different grids.

    """
    bands = band_dataset(reflectance)
    stated = bands.attrs.get("sensor")
    if stated is not None and stated != sensor:
        raise InputDataError(f"sensor={sensor!r} but the reflectance dataset says {stated!r}",
                             fix="pass the sensor the data come from")
    level = _product_level(bands, product_level)
    chosen = _choose_set(sensor, level, coefficient_set)
    fill = {k: float(v) for k, v in (fill_missing or {}).items()}
    for role in fill:
        if role not in chosen.bands:
            raise InputDataError(f"fill_missing names {role!r}, not a band of set {chosen.name}",
                                 fix=f"its bands are {', '.join(chosen.roles)}")
    missing = [r for r in chosen.roles if r not in bands.data_vars and r not in fill]
    if missing:
        ids = ", ".join(f"{r} ({chosen.bands[r]})" for r in missing)
        raise InputDataError(
            f"tasseled-cap set {chosen.name} ({sensor}) needs all of its {len(chosen.roles)} "
            f"bands; missing: {ids}; the dataset has {', '.join(map(str, bands.data_vars))}",
            fix=_missing_fix(chosen, missing, sensor))
    if chosen.input_unit != level:
        warn(
            f"tasseled-cap set {chosen.name} was derived for {chosen.input_unit} reflectance, "
            f"the data are {level}: components are biased ({chosen.source})",
            UserWarning, stacklevel=2)
    present = [r for r in chosen.roles if r not in fill]
    check_same_grid(bands, present)
    if check_scale:
        check_reflectance(bands, present)
    out: dict[str, xr.DataArray] = {}
    for component, name in TC_VARIABLES.items():
        coefs = chosen.coefficients[component]
        total: Any = sum(coefs[r] * fill[r] for r in fill)
        for role in present:
            total = total + coefs[role] * bands[role]
        da = xr.DataArray(total).astype(np.float32).rename(name)
        da.attrs = {"long_name": f"tasseled-cap {component}", "units": "1",
                    "coefficient_set": chosen.name, "input_unit": chosen.input_unit,
                    "product_level": level, "sensor": sensor, "source": chosen.source,
                    "coefficients": ", ".join(f"{r}({chosen.bands[r]})={coefs[r]:g}"
                                              for r in chosen.roles)}
        if fill:
            da.attrs["filled"] = ", ".join(f"{r}={v:g}" for r, v in fill.items())
        out[name] = da
    return xr.Dataset(out, attrs=dict(bands.attrs))


@dataclass(frozen=True)
class DisturbanceStats:
    """Mean and standard deviation of each component over the DI normalisation domain."""

    mean: dict[str, float]
    std: dict[str, float]
    n_pixels: int
    domain: str

    def to_dict(self) -> dict[str, float | int | str]:
        """Flat record: ``brightness_mean``, ``brightness_std`` …, ``n_pixels``, ``domain``."""
        out: dict[str, float | int | str] = {}
        for c in TC_VARIABLES:
            out[f"{c}_mean"], out[f"{c}_std"] = self.mean[c], self.std[c]
        out["n_pixels"], out["domain"] = self.n_pixels, self.domain
        return out

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> DisturbanceStats:
        """Inverse of :meth:`to_dict` (``n_pixels`` and ``domain`` optional)."""
        try:
            mean = {c: float(record[f"{c}_mean"]) for c in TC_VARIABLES}
            std = {c: float(record[f"{c}_std"]) for c in TC_VARIABLES}
        except KeyError as error:
            raise InputDataError(f"DI stats lack {error.args[0]!r}",
                                 fix="give <component>_mean and <component>_std for brightness, "
                                     "greenness and wetness") from None
        for c, s in std.items():
            if not s > 0 or not math.isfinite(s):
                raise InputDataError(f"DI stats: {c}_std = {s}", fix="σ must be positive")
        return cls(mean, std, int(record.get("n_pixels", 0)), str(record.get("domain", "given")))


def _components(tc: xr.Dataset) -> dict[str, xr.DataArray]:
    missing = [v for v in TC_VARIABLES.values() if v not in tc.data_vars]
    if missing:
        raise InputDataError(f"tasseled-cap dataset lacks {', '.join(missing)}",
                             fix="pass the output of tasseled_cap()")
    return {c: tc[v] for c, v in TC_VARIABLES.items()}


def disturbance_stats(tc: xr.Dataset, *, forest_mask: xr.DataArray | None = None
                      ) -> DisturbanceStats:
    """μ and σ of brightness, greenness and wetness over the forest pixels (one dask pass).

    Parameters
    ----------
    tc
        Output of :func:`tasseled_cap`.
    forest_mask
        True on forest pixels, on the grid of ``tc`` (dims a subset of its dims). ``None``: all
        valid pixels, with a warning — DI is then not comparable between scenes.

    Raises
    ------
    InputDataError
        No valid forest pixel, or a component constant over the domain.
    GridMismatchError
        The mask is not on the grid of ``tc``.

    """
    comps = _components(tc)
    brightness = comps["brightness"]
    valid = brightness.notnull() & comps["greenness"].notnull() & comps["wetness"].notnull()
    if forest_mask is None:
        warn("disturbance index normalised over all valid pixels of the tasseled-cap "
                      "dataset, not a forest mask: DI is not comparable between scenes",
                      UserWarning, stacklevel=2)
        domain = "all valid pixels"
    else:
        if not set(forest_mask.dims) <= set(brightness.dims):
            raise GridMismatchError(f"forest_mask dims {forest_mask.dims} are not among the "
                                    f"tasseled-cap dims {brightness.dims}",
                                    fix="give a (y, x) mask on the project grid")
        for dim in forest_mask.dims:
            if forest_mask.sizes[dim] != brightness.sizes[dim] or (
                    dim in forest_mask.coords and dim in brightness.coords
                    and not np.allclose(forest_mask[dim].values, brightness[dim].values,
                                        rtol=0.0, atol=1e-6)):
                raise GridMismatchError(f"forest_mask is not on the tasseled-cap grid ({dim})",
                                        fix="resample the mask onto the project grid")
        valid = valid & forest_mask.fillna(0).astype(bool)
        domain = f"forest_mask {forest_mask.name or ''}".strip()
    lazy: list[Any] = [valid.sum().data]
    for comp in comps.values():
        x = comp.astype(np.float64).where(valid)
        lazy += [x.mean().data, x.std().data]
    values: tuple[Any, ...] = compute(*lazy)  # type: ignore[no-untyped-call, unused-ignore]
    n_pixels = int(values[0])
    if n_pixels == 0:
        raise InputDataError(f"no valid pixel in the DI normalisation domain ({domain})",
                             fix="check the forest mask and the tasseled-cap data overlap")
    mean = {c: float(values[1 + 2 * i]) for i, c in enumerate(comps)}
    std = {c: float(values[2 + 2 * i]) for i, c in enumerate(comps)}
    for c, s in std.items():
        if not s > 0:
            raise InputDataError(f"tasseled-cap {c} is constant over {domain} ({n_pixels} px)",
                                 fix="use a larger forest mask")
    return DisturbanceStats(mean, std, n_pixels, domain)


def tasseled_cap_derived(
    tc: xr.Dataset,
    *,
    forest_mask: xr.DataArray | None = None,
    stats: DisturbanceStats | Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Tasseled-cap angle, distance and disturbance index.

    Parameters
    ----------
    tc
        Output of :func:`tasseled_cap`.
    forest_mask
        Forest pixels over which DI is normalised (see :func:`disturbance_stats`).
    stats
        Normalisation to use instead of computing one (e.g. one shared by several years):
        a :class:`DisturbanceStats` or its :meth:`~DisturbanceStats.to_dict` record.

    Returns
    -------
    xarray.Dataset
        ``tc_angle_deg``, ``tc_distance``, ``tc_disturbance`` (float32, lazy on dask); the
        normalisation used is in ``tc_disturbance.attrs``.

    """
    if forest_mask is not None and stats is not None:
        raise InputDataError("both forest_mask and stats given for the disturbance index",
                             fix="pass one: stats already fix the normalisation")
    comps = _components(tc)
    if stats is None:
        used = disturbance_stats(tc, forest_mask=forest_mask)
    else:
        used = stats if isinstance(stats, DisturbanceStats) else DisturbanceStats.from_dict(stats)
    b, g = comps["brightness"], comps["greenness"]
    angle = xr.apply_ufunc(lambda gg, bb: np.degrees(np.arctan2(gg, bb)), g, b,
                           dask="parallelized", output_dtypes=[np.float32])
    r = {c: (x - used.mean[c]) / used.std[c] for c, x in comps.items()}
    di = r["brightness"] - (r["greenness"] + r["wetness"])
    common = {k: b.attrs[k] for k in ("coefficient_set", "sensor") if k in b.attrs}
    out: dict[str, tuple[xr.DataArray, dict[str, Any]]] = {
        "tc_angle_deg": (angle, {
            "long_name": "tasseled-cap angle atan2(greenness, brightness)", "units": "degree",
            "source": "Powell et al. 2010, RSE 114:1053-1068"}),
        "tc_distance": ((b**2 + g**2) ** 0.5, {
            "long_name": "distance from the origin in the brightness-greenness plane",
            "units": "1"}),
        "tc_disturbance": (di, {
            "long_name": "disturbance index B_r - (G_r + W_r)", "units": "1",
            "source": "Healey et al. 2005, RSE 97:301-310",
            **{f"stats_{k}": v for k, v in used.to_dict().items()}}),
    }
    variables = {}
    for name, (da, attrs) in out.items():
        da = da.astype(np.float32).rename(name)
        da.attrs = {**attrs, **common}
        variables[name] = da
    return xr.Dataset(variables, attrs=dict(tc.attrs))
