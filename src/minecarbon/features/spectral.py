"""Spectral indices from surface reflectance (requirement F3).

Formulas come from the Awesome Spectral Indices catalogue (ASI), evaluated by spyndex; the
standard's index names map to ASI keys with pinned constants in
``minecarbon/standard/data/indices.csv`` (:mod:`minecarbon.standard.indices`). Any other ASI
index can be asked for by its ASI key (``kNDVI``, ``NIRv``, ``EVI2`` …) with the catalogue's
default constants, or as ``asi:KEY`` to bypass the standard's names (``asi:RVI`` is ASI's red-edge
ratio RE2 / R, not the standard's RVI = NIR / Red).

Input is an :class:`xarray.Dataset` of reflectance (0–1), one variable per band named by its
role. Roles map to ASI band symbols through :data:`BAND_SYMBOLS`; the NIR symbol ``N`` is the
broad NIR band ``nir`` of every sensor: Landsat 8/9 OLI B5 (which ASI lists as ``N2``) and
Sentinel-2 B8 (not B8A, which is ``nir08`` → ``N2``).

Kernel indices (kNDVI, kIPVI, kRVI, kEVI, kVARI) use the RBF kernel
k(a, b) = exp(−(a − b)² / (2σ²)). Without a ``sigma`` constant, kNDVI, kIPVI and kRVI use the
per-pixel σ = 0.5 (N + R) that Camps-Valls et al. (2021, Sci. Adv. 7:eabc7447) recommend, which
makes kNDVI = tanh(NDVI²); kEVI and kVARI need an explicit ``sigma``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import dask.array as dsa
import numpy as np
import spyndex
import xarray as xr
from dask.base import compute

from minecarbon.errors import GridMismatchError, InputDataError, warn
from minecarbon.standard.indices import IndexRecord, standard_index, standard_indices

#: ASI band symbol of each band role.
BAND_SYMBOLS: dict[str, str] = {
    "coastal": "A",
    "blue": "B",
    "green": "G",
    "yellow": "Y",
    "red": "R",
    "rededge1": "RE1",
    "rededge2": "RE2",
    "rededge3": "RE3",
    "nir": "N",
    "nir08": "N2",
    "watervapour": "WV",
    "swir1": "S1",
    "swir2": "S2",
    "tir": "T",
}
_ROLE_OF_SYMBOL = {symbol: role for role, symbol in BAND_SYMBOLS.items()}

#: Kernel terms of the ASI kernel indices: k(first, second).
KERNEL_TERMS: dict[str, tuple[str, str]] = {
    "kNN": ("N", "N"), "kNR": ("N", "R"), "kNB": ("N", "B"), "kNL": ("N", "L"),
    "kGG": ("G", "G"), "kGR": ("G", "R"), "kGB": ("G", "B"),
}
_PER_PIXEL_SIGMA_TERMS = {"kNN", "kNR"}

#: Reflectance above these (median or maximum of a sample) means digital numbers.
DN_MEDIAN_LIMIT = 1.5
DN_MAX_LIMIT = 2.0
_SAMPLE_SIZE = 65_536
_SAMPLE_BLOCKS = 4
_BAND_ID = re.compile(r"^(sr_)?b\d+a?$", re.IGNORECASE)

Constants = Mapping[str, float | Mapping[str, float]]


@dataclass(frozen=True)
class IndexInfo:
    """What an index name resolves to: the formula, its bands (by role) and constants."""

    name: str
    asi_key: str
    feature_name: str
    long_name: str
    formula: str
    roles: tuple[str, ...]
    constants: dict[str, float]
    kernel_terms: tuple[str, ...] = ()
    zh: str = ""
    note: str = ""
    source: str = ""
    pinned: dict[str, float] = field(default_factory=dict)


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower()


@cache
def _asi_feature_names() -> dict[str, str]:
    lower: dict[str, list[str]] = {}
    for key in spyndex.indices:
        lower.setdefault(key.lower(), []).append(key)
    return {k: (k.lower() if len(lower[k.lower()]) == 1 else _snake(k)) for k in spyndex.indices}


def available_indices() -> tuple[str, ...]:
    """The standard's index names, then every other ASI key (kernel indices included)."""
    names = [r.name for r in standard_indices()]
    taken = {n.upper() for n in names}
    return tuple(names + [k for k in spyndex.indices if k.upper() not in taken])


def _refuse(name: str, why: str, fix: str) -> InputDataError:
    return InputDataError(f"spectral index {name!r} {why}", fix=fix)


def _asi_info(name: str, key: str, feature: str, record: IndexRecord | None) -> IndexInfo:
    index = spyndex.indices[key]
    if index.application_domain == "radar":
        raise _refuse(name, "is a radar index (backscatter, not reflectance)",
                      "use an optical index, e.g. NDVI")
    roles: list[str] = []
    constants: dict[str, float] = {}
    kernels: list[str] = []
    unknown: list[str] = []
    params = list(index.bands)
    if "kNL" in params:
        params.append("L")
    for param in params:
        if param in KERNEL_TERMS:
            kernels.append(param)
            params.extend(s for s in KERNEL_TERMS[param] if s not in params)
        elif param in _ROLE_OF_SYMBOL:
            roles.append(_ROLE_OF_SYMBOL[param])
        elif param in spyndex.bands:
            unknown.append(f"{param} ({spyndex.bands[param].long_name})")
        elif param in spyndex.constants:
            default = spyndex.constants[param].default
            constants[param] = math.nan if default is None else float(default)
        else:  # pragma: no cover - the ASI catalogue only uses bands and constants
            unknown.append(param)
    if unknown:
        raise _refuse(name, f"needs band(s) {', '.join(unknown)} that no minecarbon band role "
                      f"maps to (roles: {', '.join(BAND_SYMBOLS)})", "choose another index")
    pinned = dict(record.constants) if record else {}
    constants.update(pinned)
    return IndexInfo(
        name=record.name if record else name, asi_key=key, feature_name=feature,
        long_name=index.long_name, formula=index.formula, roles=tuple(dict.fromkeys(roles)),
        constants=constants, kernel_terms=tuple(kernels), zh=record.zh if record else "",
        note=record.note if record else "",
        source=record.source if record else f"Awesome Spectral Indices {key}: {index.reference}",
        pinned=pinned,
    )


def index_info(name: str) -> IndexInfo:
    """Resolve an index name: a standard name (case-insensitive), an ASI key, or ``asi:KEY``.

    Raises
    ------
    InputDataError
        If the name is unknown (the message lists close matches), or the index needs bands no
        role maps to (radar, MODIS-only bands).

    """
    text = name.strip()
    if text.lower().startswith("asi:"):
        key = _asi_key(text[4:].strip(), name)
        return _asi_info(name, key, "asi_" + _asi_feature_names()[key], None)
    record = standard_index(text)
    if record is not None:
        return _asi_info(name, record.asi_key, record.feature_name, record)
    key = _asi_key(text, name)
    return _asi_info(name, key, _asi_feature_names()[key], None)


def _asi_key(text: str, name: str) -> str:
    if text in spyndex.indices:
        return str(text)
    matches = [k for k in spyndex.indices if k.lower() == text.lower()]
    if len(matches) == 1:
        return str(matches[0])
    if matches:
        raise _refuse(name, f"is ambiguous: ASI has {', '.join(matches)}",
                      "write the ASI key with its exact case")
    close: list[str] = []
    for names in ([r.name for r in standard_indices()], list(spyndex.indices)):
        pool = {n.lower(): n for n in names}
        close += [pool[m] for m in difflib.get_close_matches(text.lower(), list(pool), n=4)
                  if pool[m] not in close]
    hint = f"did you mean {', '.join(close)}?" if close else "see available_indices()"
    raise _refuse(name, "is not a standard index nor an Awesome Spectral Indices key", hint)


def band_dataset(reflectance: xr.Dataset | Mapping[str, xr.DataArray]) -> xr.Dataset:
    """The bands as a Dataset; a mapping role → DataArray is first checked for one grid.

    Raises
    ------
    GridMismatchError
        If the DataArrays of a mapping differ in dims, shape or y/x coordinates.

    """
    if isinstance(reflectance, xr.Dataset):
        return reflectance
    bands: dict[Hashable, xr.DataArray] = {k: v for k, v in reflectance.items()}
    check_same_grid(bands, [str(k) for k in bands])
    return xr.Dataset(bands)


def check_same_grid(bands: xr.Dataset | Mapping[Hashable, xr.DataArray],
                    roles: Sequence[str]) -> None:
    """Check that the bands ``roles`` share dims, shape and y/x coordinates.

    Raises
    ------
    GridMismatchError
        Naming the two bands that differ.

    """
    if len(roles) < 2:
        return
    ref = bands[roles[0]]
    for role in roles[1:]:
        var = bands[role]
        what = f"bands {roles[0]!r} {dict(ref.sizes)} and {role!r} {dict(var.sizes)}"
        if var.dims != ref.dims or var.shape != ref.shape:
            raise GridMismatchError(f"{what} are not on the same grid",
                                    fix="resample every band onto the project grid first")
        for dim in ("y", "x"):
            if dim in ref.coords and dim in var.coords and not np.allclose(
                    ref[dim].values, var[dim].values, rtol=0.0, atol=1e-6):
                raise GridMismatchError(f"{what} have different {dim} coordinates",
                                        fix="resample every band onto the project grid first")


def _stride_sample(shape: tuple[int, ...]) -> tuple[slice, ...]:
    per_axis = max(1, math.ceil(_SAMPLE_SIZE ** (1 / max(len(shape), 1))))
    return tuple(slice(None, None, max(1, math.ceil(n / per_axis))) for n in shape)


def _sample(data: Any) -> Any:
    if not isinstance(data, dsa.Array):
        arr = np.asarray(data)
        return arr[_stride_sample(arr.shape)]
    n_blocks = math.prod(data.numblocks)
    picks = sorted({int(i) for i in np.linspace(0, n_blocks - 1, min(_SAMPLE_BLOCKS, n_blocks))})
    parts = []
    for flat in picks:
        block = data.blocks[np.unravel_index(flat, data.numblocks)]
        parts.append(block[_stride_sample(block.shape)].ravel())
    return dsa.concatenate(parts)  # type: ignore[no-untyped-call, unused-ignore]


def check_reflectance(bands: xr.Dataset, roles: Sequence[str]) -> None:
    """Refuse bands that look like digital numbers rather than reflectance (0–1).

    A band is refused when it has an integer dtype, or when a strided sample has a median above
    :data:`DN_MEDIAN_LIMIT` or a maximum above :data:`DN_MAX_LIMIT`. On dask data the sample
    comes from at most four chunks, so the check reads a few chunks, never the raster.

    Raises
    ------
    InputDataError
        Naming the band and the fix (apply the product's scale and offset).

    """
    fix = ("apply the product's scale and offset first (Landsat Collection 2 Level 2: "
           "DN × 2.75e-05 − 0.2; Sentinel-2 L2A: DN × 1e-4, minus the 1000 DN offset from "
           "processing baseline 04.00) and mask fill values")
    for role in roles:
        if np.issubdtype(bands[role].dtype, np.integer):
            raise InputDataError(f"band {role!r} has integer dtype {bands[role].dtype}: looks "
                                 "like digital numbers, not reflectance", fix=fix)
    lazy = [_sample(bands[role].data) for role in roles]
    samples: tuple[Any, ...] = compute(*lazy)  # type: ignore[no-untyped-call, unused-ignore]
    for role, sample in zip(roles, samples, strict=True):
        values = np.asarray(sample, dtype=np.float64).ravel()
        values = values[np.isfinite(values)]
        if values.size == 0:
            continue
        median, top = float(np.median(values)), float(values.max())
        if median > DN_MEDIAN_LIMIT or top > DN_MAX_LIMIT:
            raise InputDataError(
                f"band {role!r} looks like digital numbers, not reflectance (sample median "
                f"{median:.4g}, max {top:.4g}; reflectance is 0–1)", fix=fix)


def _constants_for(info: IndexInfo, asked: str, constants: Constants) -> dict[str, float]:
    out = dict(info.constants)
    for key, value in constants.items():
        if isinstance(value, Mapping) or (key not in out and key != "sigma"):
            continue
        if key == "sigma" and not info.kernel_terms:
            continue
        if key in info.pinned and float(value) != info.pinned[key]:
            warn(
                f"constants[{key!r}] = {value} overrides {info.name}'s {key} = "
                f"{info.pinned[key]} ({info.source}); pass {{{asked!r}: {{{key!r}: ...}}}} "
                "to change one index only", UserWarning, stacklevel=3)
        out[key] = float(value)
    own = constants.get(asked)
    if isinstance(own, Mapping):
        for key, value in own.items():
            if key not in out and not (key == "sigma" and info.kernel_terms):
                raise _refuse(asked, f"has no constant {key!r} (it uses "
                              f"{', '.join(out) or 'none'})", "remove it")
            out[key] = float(value)
    unset = [k for k, v in out.items() if math.isnan(v)]
    if unset:
        raise _refuse(asked, f"needs constant(s) {', '.join(unset)}, which have no default",
                      f"pass constants={{{asked!r}: {{{unset[0]!r}: ...}}}}")
    return out


def _params(info: IndexInfo, asked: str, bands: xr.Dataset,
            consts: dict[str, float]) -> tuple[dict[str, Any], str]:
    params: dict[str, Any] = {BAND_SYMBOLS[r]: bands[r] for r in info.roles}
    params.update(consts)
    note = ""
    if info.kernel_terms:
        per_pixel = "sigma" not in consts
        if per_pixel and not set(info.kernel_terms) <= _PER_PIXEL_SIGMA_TERMS:
            raise _refuse(asked, "is a kernel index with no published per-pixel sigma",
                          f"pass constants={{{asked!r}: {{'sigma': ...}}}} (RBF length scale)")
        for term in info.kernel_terms:
            a, b = (params[s] for s in KERNEL_TERMS[term])
            sigma = 0.5 * (a + b) if per_pixel else consts["sigma"]
            params[term] = spyndex.computeKernel("RBF", params={"a": a, "b": b, "sigma": sigma})
        note = "RBF kernel, sigma = 0.5 (a + b) per pixel" if per_pixel else "RBF kernel"
        params.pop("sigma", None)
    return params, note


def compute_indices(
    reflectance: xr.Dataset | Mapping[str, xr.DataArray],
    names: Sequence[str],
    *,
    constants: Constants | None = None,
    check_scale: bool = True,
) -> xr.Dataset:
    """Compute spectral indices from reflectance bands named by role.

    Parameters
    ----------
    reflectance
        Surface reflectance (0–1), one variable per band named by role (``red``, ``nir`` …),
        numpy- or dask-backed, all on one grid. A mapping role → DataArray is checked for a
        common grid before it is merged.
    names
        Standard names (``NDVI``, ``RVI``, ``NDWI`` …), ASI keys (``kNDVI``, ``EVI2``) or
        ``asi:KEY``.
    constants
        Overrides of formula constants. ``{"L": 0.5}`` changes ``L`` in every requested index
        that uses it (with a warning where that overrides a constant the standard pins, e.g.
        EVI's L = 1); ``{"SAVI": {"L": 0.3}}`` changes it in one index only.
    check_scale
        Sample the bands (a few chunks) and refuse digital numbers. Turn off only where the
        caller has checked the scale already.

    Returns
    -------
    xarray.Dataset
        One float32 variable per index, named by its feature name (``ndvi``, ``rvi_nir_red``,
        ``ndwi_mcfeeters`` …), with the input's coordinates (CRS included) and, in the attrs,
        the ASI key, formula, bands, constants and source. Lazy on dask input.

    Raises
    ------
    InputDataError
        Unknown index (with close matches), a band missing for an index, a missing constant,
        or data that look like digital numbers.
    GridMismatchError
        Bands on different grids.

    """
    bands = band_dataset(reflectance)
    constants = constants or {}
    infos = {asked: index_info(asked) for asked in names}
    per_index = {k for k, v in constants.items() if isinstance(v, Mapping)}
    for key in per_index - set(names):
        raise InputDataError(f"constants name index {key!r}, which was not requested",
                             fix=f"request it or remove it (requested: {', '.join(names)})")
    used = {k for info in infos.values() for k in info.constants} | {"sigma"}
    for key in set(constants) - per_index - used:
        raise InputDataError(f"constant {key!r} is used by none of {', '.join(names)}",
                             fix=f"check the spelling (constants are case-sensitive: {used})")
    have = [str(v) for v in bands.data_vars]
    for asked, info in infos.items():
        missing = [r for r in info.roles if r not in bands.data_vars]
        if missing:
            hint = " (variables must be named by band role, not band id)" if any(
                _BAND_ID.match(v) for v in have) else ""
            raise InputDataError(
                f"index {asked} ({info.formula}) needs band role(s) {', '.join(missing)}, "
                f"missing from the reflectance dataset, which has {', '.join(have)}{hint}",
                fix=f"add the band(s) {', '.join(missing)} or drop {asked} "
                    f"(roles → ASI symbols: {BAND_SYMBOLS})")
    roles = list(dict.fromkeys(r for info in infos.values() for r in info.roles))
    check_same_grid(bands, roles)
    if check_scale:
        check_reflectance(bands, roles)
    out: dict[str, xr.DataArray] = {}
    for asked, info in infos.items():
        if info.feature_name in out:
            continue
        consts = _constants_for(info, asked, constants)
        params, note = _params(info, asked, bands, consts)
        with np.errstate(divide="ignore", invalid="ignore"):
            result = spyndex.computeIndex(info.asi_key, params=params)
        da = xr.DataArray(result).astype(np.float32)
        da.attrs = {
            "long_name": info.long_name, "index": info.name, "asi_key": info.asi_key,
            "formula": info.formula, "units": "1",
            "bands": ", ".join(f"{BAND_SYMBOLS[r]}={r}" for r in info.roles),
            "constants": "; ".join(f"{k}={v:g}" for k, v in consts.items()),
            "source": info.source,
        }
        if note:
            da.attrs["kernel"] = note
        out[info.feature_name] = da.rename(info.feature_name)
    return xr.Dataset(out, attrs=dict(bands.attrs))
