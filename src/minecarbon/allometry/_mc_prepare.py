"""The Monte Carlo's inputs made ready: validation, canonical order, per-model kernels.

Part of :mod:`minecarbon.allometry.uncertainty`. :func:`_prepare` checks the tree list, sorts
the trees into the canonical order (model key, then plot, then input row), evaluates each
model's deterministic AGB and, where the model is one of the power-law or quadratic forms of
:mod:`minecarbon.allometry.equations`, the terms of its fast kernel (:class:`_Group`). It also
draws the systematic errors, one carbon fraction and one model factor per biomass model and
Monte-Carlo draw, and gathers what the per-tree draws need in a :class:`_Context`.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from minecarbon.allometry._mc_streams import _CARBON, _MODEL, _stream
from minecarbon.allometry.equations import ModelTable
from minecarbon.allometry.error_model import ErrorModel
from minecarbon.errors import InputDataError

FloatArray = NDArray[np.float64]
Float32Array = NDArray[np.float32]
IntArray = NDArray[np.intp]

#: Perturbed DBH and height are clipped at these values (cm, m).
MIN_DBH_CM: Final = 0.1
MIN_HEIGHT_M: Final = 0.1

_REQUIRED: Final = ("plot_id", "dbh_cm", "model_key")

# Power-law forms as (β, γ) multipliers of (b, c): W(D', H') = W(D, H) · (D'/D)^β · (H'/H)^γ.
_POWER_FORMS: Final[dict[str, tuple[tuple[float, float], tuple[float, float]]]] = {
    # form: ((β from b, β from c), (γ from b, γ from c))
    "a*D^b": ((1.0, 0.0), (0.0, 0.0)),
    "exp(a+b*ln(D))": ((1.0, 0.0), (0.0, 0.0)),
    "10^(a+b*log10(D))": ((1.0, 0.0), (0.0, 0.0)),
    "a*(D^2*H)^b": ((2.0, 0.0), (1.0, 0.0)),
    "exp(a)*(D^2*H)^b": ((2.0, 0.0), (1.0, 0.0)),
    "a*D^b*H^c": ((1.0, 0.0), (0.0, 1.0)),
}
_QUADRATIC_FORM: Final = "a+b*D^2"  # W = a + b · D²


@runtime_checkable
class AllometricModel(Protocol):
    """What :func:`plot_agc_monte_carlo` needs of a model (a ``BiomassModel`` has it)."""

    @property
    def carbon_fraction(self) -> float:
        """Carbon fraction of dry biomass."""
        ...

    def agb_kg(self, dbh_cm: ArrayLike, height_m: ArrayLike | None = None) -> FloatArray:
        """Above-ground dry biomass in kg per tree."""
        ...


@dataclass
class _Group:
    """The trees of one model key: positions [start, stop) in canonical order, and its kernel."""

    key: str
    model: AllometricModel
    start: int
    stop: int
    sigma: float
    carbon_index: int
    uses_height: bool
    # fast kernel: per power term (β, γ, weight per tree); per quadratic term (a, b·D² per tree);
    # all weights already multiplied by exp(−σ²/2). power is None: call model.agb_kg.
    power: list[tuple[float, float, Float32Array]] | None = None
    quadratic: list[tuple[float, Float32Array]] = field(default_factory=list)
    ratio: float | None = None  # common γ/β of all power terms, if there is one
    bias: float = 1.0


@dataclass
class _Context:
    n_draws: int
    seed: int
    plot: IntArray  # plot index per tree, canonical order
    dbh: FloatArray
    height: FloatArray
    dbh_rel_sd: Float32Array | None  # sd / D
    dbh_floor: Float32Array  # MIN_DBH_CM / D
    height_rel_sd: Float32Array | None
    height_floor: Float32Array
    groups: list[_Group]
    group_of: IntArray  # group index per tree, canonical order


def _check_positive(values: FloatArray, name: str, allow_nan: bool) -> None:
    ok = (values > 0) & np.isfinite(values)
    if allow_nan:
        ok |= np.isnan(values)
    bad = np.flatnonzero(~ok)
    if bad.size:
        raise InputDataError(
            f"trees.{name}: {bad.size} value(s) are not positive and finite (first at row "
            f"{int(bad[0])}: {values[bad[0]]!r})",
            fix=f"correct or remove those trees; {name} must be a finite number > 0"
            + (" (NaN = missing)" if allow_nan else ""),
        )


def _fast_kernel(model: object, dbh: FloatArray, height: FloatArray,
                 agb: FloatArray) -> tuple[list[tuple[float, float, FloatArray]],
                                             list[tuple[float, FloatArray]]] | None:
    """Power and quadratic terms of a BiomassModel-like model, or None if not recognisable.

    The terms must add up to the model's own ``agb_kg`` (a subclass that corrects it, or an
    unknown form, falls back to the generic path).
    """
    components = getattr(model, "components", None)
    if not isinstance(components, Sequence) or not components:
        return None
    power: list[tuple[float, float, FloatArray]] = []
    quadratic: list[tuple[float, FloatArray]] = []
    total = np.zeros_like(dbh)
    try:
        for component in components:
            form = component.form
            b, c = float(component.b), float(component.c)
            if form == _QUADRATIC_FORM:
                a = float(component.a)
                quadratic.append((a, b * dbh**2))
                total = total + (a + b * dbh**2)
                continue
            if form not in _POWER_FORMS:
                return None
            (bb, bc), (gb, gc) = _POWER_FORMS[form]
            weight = np.asarray(component.biomass_kg(dbh, height), dtype=np.float64)
            power.append((bb * b + bc * c, gb * b + gc * c, weight))
            total = total + weight
    except (AttributeError, TypeError, ValueError):
        return None
    if not np.allclose(total, agb, rtol=1e-9, atol=0.0, equal_nan=True):
        return None
    return power, quadratic


def _prepare(
    trees: pd.DataFrame,
    models: Mapping[str, object] | None,
    plot_area_ha: Mapping[Hashable, float],
    n_draws: int,
    seed: int,
    errors: ErrorModel,
) -> tuple[_Context, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray | None,
           tuple[Hashable, ...]]:
    """Validate, sort into canonical order and build the per-model kernels."""
    missing = [c for c in _REQUIRED if c not in trees.columns]
    if missing:
        raise InputDataError(
            f"the tree list lacks column(s) {', '.join(missing)}",
            fix="give plot_id, dbh_cm, height_m (NaN where not measured) and model_key",
        )
    plot_ids = tuple(plot_area_ha.keys())
    area = np.array([float(plot_area_ha[p]) for p in plot_ids], dtype=np.float64)
    if np.any(~((area > 0) & np.isfinite(area))):
        bad_plot = plot_ids[int(np.flatnonzero(~((area > 0) & np.isfinite(area)))[0])]
        raise InputDataError(f"plot {bad_plot!r} has area {plot_area_ha[bad_plot]!r} ha",
                             fix="give every plot a positive area in ha")
    plot_index = np.asarray(pd.Index(plot_ids).get_indexer(trees["plot_id"]), dtype=np.intp)
    if np.any(plot_index < 0):
        unknown = trees["plot_id"].to_numpy()[plot_index < 0]
        raise InputDataError(
            f"{unknown.size} tree(s) belong to plots without an area (first: {unknown[0]!r})",
            fix="give plot_area_ha for every plot of the tree list",
        )
    dbh = trees["dbh_cm"].to_numpy(dtype=np.float64)
    height = (trees["height_m"].to_numpy(dtype=np.float64) if "height_m" in trees.columns
              else np.full(dbh.shape, np.nan))
    _check_positive(dbh, "dbh_cm", allow_nan=False)
    _check_positive(height, "height_m", allow_nan=True)
    if "height_sd_m" in trees.columns:
        height_sd_m = trees["height_sd_m"].to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~np.isnan(height_sd_m) & ~((height_sd_m >= 0)
                                                        & np.isfinite(height_sd_m)))
        if bad.size:
            raise InputDataError(
                f"trees.height_sd_m: {bad.size} value(s) are negative or infinite "
                f"(first at row {int(bad[0])})",
                fix="give the filled height's standard deviation in m (NaN = measured height)",
            )
    else:
        height_sd_m = np.full(dbh.shape, np.nan)

    codes, keys_found = pd.factorize(trees["model_key"].astype(str), sort=True)
    keys = [str(k) for k in keys_found]
    order = np.lexsort((plot_index, codes))
    plot_sorted = plot_index[order]
    codes_sorted = np.asarray(codes[order], dtype=np.intp)
    dbh = dbh[order]
    height = height[order]
    height_sd_m = height_sd_m[order]
    bounds = np.searchsorted(codes_sorted, np.arange(len(keys) + 1))

    if models is None:
        table = ModelTable.default()
        models = {key: table.model_for(key) for key in keys}
    absent = [k for k in keys if k not in models]
    if absent:
        raise InputDataError(f"no biomass model for model_key {', '.join(map(repr, absent))}",
                             fix="pass a model for every model_key of the tree list")

    carbon_slot: dict[int, int] = {}
    carbon_keys: list[str] = []
    groups: list[_Group] = []
    agb = np.empty_like(dbh)
    for g, key in enumerate(keys):
        model = models[key]
        if not isinstance(model, AllometricModel):
            raise InputDataError(f"the model for {key!r} ({type(model).__name__}) has no "
                                 "agb_kg method or no carbon_fraction",
                                 fix="pass BiomassModel objects")
        start, stop = int(bounds[g]), int(bounds[g + 1])
        d, h = dbh[start:stop], height[start:stop]
        agb[start:stop] = np.asarray(model.agb_kg(d, h), dtype=np.float64)
        nan = np.flatnonzero(~np.isfinite(agb[start:stop]))
        if nan.size:
            raise InputDataError(
                f"model {key!r} gives no AGB for {nan.size} tree(s) (first: D = "
                f"{d[nan[0]]} cm, H = {h[nan[0]]} m); a height is probably missing",
                fix="fill missing heights from a height–diameter model first",
            )
        sigma = getattr(model, "residual_sd_log", None)
        sigma = errors.residual_sd_log if sigma is None else float(sigma)
        if not (math.isfinite(sigma) and sigma >= 0):
            raise InputDataError(f"model {key!r} has residual_sd_log {sigma!r}",
                                 fix="give a residual sd on the log scale ≥ 0")
        if id(model) not in carbon_slot:
            carbon_slot[id(model)] = len(carbon_keys)
            carbon_keys.append(key)
        group = _Group(key=key, model=model, start=start, stop=stop, sigma=sigma,
                       carbon_index=carbon_slot[id(model)], uses_height=True,
                       bias=math.exp(-0.5 * sigma * sigma))
        kernel = _fast_kernel(model, d, h, agb[start:stop])
        if kernel is not None:
            power, quadratic = kernel
            group.power = [(beta, gamma, (w * group.bias).astype(np.float32))
                           for beta, gamma, w in power]
            group.quadratic = [(a * group.bias, (q * group.bias).astype(np.float32))
                               for a, q in quadratic]
            group.uses_height = any(gamma != 0.0 for _, gamma, _ in power)
            ratios = {gamma / beta if beta != 0.0 else math.inf for beta, gamma, _ in power}
            if len(ratios) == 1 and math.isfinite(next(iter(ratios))):
                group.ratio = next(iter(ratios))
        else:
            group.uses_height = bool(getattr(model, "needs_height", True))
        groups.append(group)

    groups_by_key = {g.key: g for g in groups}
    carbon = np.array([float(groups_by_key[k].model.carbon_fraction) for k in carbon_keys])
    carbon_draws = np.empty((len(carbon_keys), n_draws), dtype=np.float64)
    for i, key in enumerate(carbon_keys):
        z = np.random.Generator(_stream(seed, _CARBON, zlib.crc32(key.encode()))).standard_normal(
            n_draws)
        carbon_draws[i] = np.clip(carbon[i] + errors.carbon_fraction_sd * z, 0.0, 1.0)
    model_draws: FloatArray | None = None
    model_sd = [errors.model_sd(getattr(groups_by_key[k].model, "model_sd_rel", None))
                for k in carbon_keys]
    if any(sd > 0 for sd in model_sd):
        model_draws = np.ones((len(carbon_keys), n_draws), dtype=np.float64)
        for i, (key, sd) in enumerate(zip(carbon_keys, model_sd, strict=True)):
            if sd > 0:
                sigma = math.sqrt(math.log1p(sd * sd))
                z = np.random.Generator(_stream(seed, _MODEL, zlib.crc32(key.encode()))
                                        ).standard_normal(n_draws)
                model_draws[i] = np.exp(sigma * z - 0.5 * sigma * sigma)
    group_carbon = np.array([carbon[g.carbon_index] for g in groups]) if groups else np.empty(0)

    dbh_sd = np.sqrt(errors.dbh_sd_cm**2 + (errors.dbh_sd_rel * dbh) ** 2)
    height_sd = np.where(np.isnan(height_sd_m), errors.height_sd_rel * height, height_sd_m)
    height_on = bool(np.any(height_sd[np.isfinite(height_sd)] > 0))
    with np.errstate(invalid="ignore"):
        context = _Context(
            n_draws=n_draws,
            seed=seed,
            plot=plot_sorted,
            dbh=dbh,
            height=height,
            dbh_rel_sd=(dbh_sd / dbh).astype(np.float32) if np.any(dbh_sd > 0) else None,
            dbh_floor=(MIN_DBH_CM / dbh).astype(np.float32),
            height_rel_sd=(height_sd / height).astype(np.float32) if height_on else None,
            height_floor=(MIN_HEIGHT_M / height).astype(np.float32),
            groups=groups,
            group_of=codes_sorted,
        )
    n_plots = len(plot_ids)
    tree_carbon = group_carbon[codes_sorted] if groups else np.empty(0)
    agb_plot = np.bincount(plot_sorted, weights=agb, minlength=n_plots).astype(np.float64)
    agc_plot = np.bincount(plot_sorted, weights=agb * tree_carbon,
                           minlength=n_plots).astype(np.float64)
    return context, area, agb_plot, agc_plot, carbon_draws, model_draws, plot_ids
