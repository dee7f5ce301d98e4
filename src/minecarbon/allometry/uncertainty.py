"""Monte-Carlo uncertainty of plot above-ground biomass and carbon (requirement P6).

Every Monte-Carlo draw re-measures every tree and re-draws the model errors:

* **DBH** ``D' = D + e``, ``e ~ N(0, sqrt(dbh_sd_cm² + (dbh_sd_rel · D)²))``, per tree and draw;
* **height** ``H' = H + e``, ``e ~ N(0, height_sd_rel · H)`` for a measured height, or
  ``N(0, height_sd_m)`` where the tree list gives ``height_sd_m`` (a height filled from a
  height–diameter model: pass that model's RSE in metres), per tree and draw; only models that use
  height see it;
* **model residual** AGB is multiplied by ``exp(ε − σ²/2)``, ``ε ~ N(0, σ)``, per tree and draw,
  independent between trees; ``σ`` is the model's ``residual_sd_log`` or, where it has none,
  :attr:`ErrorModel.residual_sd_log`. The factor's mean is 1, so the residual adds spread but no
  bias;
* **carbon fraction** ``CF' = CF + N(0, carbon_fraction_sd)`` (clipped to [0, 1]) is
  *systematic*: one draw per biomass model (per distinct model object, so keys sharing a model
  share it) per Monte-Carlo draw, shared by all of that model's trees in all plots. Plot
  intervals are therefore correlated, as they are in reality;
* **the model itself** AGB is multiplied by a factor ``exp(σ_m z − σ_m²/2)``,
  ``σ_m² = ln(1 + s²)``, ``z ~ N(0, 1)``, whose mean is 1 and whose relative standard deviation
  is exactly ``s`` (:meth:`ErrorModel.model_sd`): the error of the model's parameters and of
  applying it to stands other than those it was fitted on. Like the carbon fraction it is
  *systematic*: one draw per model and Monte-Carlo draw, shared by all its trees in all plots.

Perturbed D and H are clipped at 0.1 cm and 0.1 m. Per plot, the draws of Σ AGB and Σ AGC
(kg) divided by the plot area give the per-hectare distribution: its mean, standard deviation
and 2.5 / 97.5 percentiles (the 95 % interval) are reported beside the deterministic estimate
(no error) :func:`plot_agc_monte_carlo`.

The systematic part of a sum of trees (a plot, all plots, a stratum) — the model and carbon
fraction errors, which do not average out however many trees are measured — has the relative
variance :func:`minecarbon.allometry.systematic.systematic_rel_var`; the totals of the
assessment carry it (:mod:`minecarbon.assessment.carbon_totals`).

Reproducibility. Trees are put in a canonical order (by model key, then plot in the order of
``plot_area_ha``, then input row); each block of 512 consecutive trees in that order has its own
random streams (``SeedSequence(seed, spawn_key=(source, block))``, one per error source), and
partial sums are added in block order. The result is therefore bit-for-bit the same for a seed
whatever ``chunk_trees`` and ``workers`` are, and an error source switched off does not change
the draws of the others (on little-endian machines; a different input row order gives
different, equally valid, draws).

Performance. Trees are processed in chunks (``chunk_trees``) on a thread pool; a chunk works
block by block on float32 ``(trees × draws)`` arrays, each block split into runs of one model so
that its equation is evaluated vectorised, and summed per plot with :func:`numpy.add.reduceat`.
The power-law forms of :mod:`minecarbon.allometry.equations` are evaluated as the deterministic
component biomass times ``exp(β · ln(D'/D) + γ · ln(H'/H))``; any other model (or an unknown
form) falls back to calling its ``agb_kg`` on the perturbed arrays. Normal deviates come from the
Box–Muller transform of 23-bit uniforms (about three times faster than
:meth:`numpy.random.Generator.standard_normal`; tails are cut at 5.6 σ).

Memory is bounded: about 80 bytes per tree (sorted copies of the inputs), ``8 × n_plots ×
n_draws`` bytes for the AGB and AGC draws, and per worker a few ``512 × n_draws`` float32 work
arrays and at most two chunks of partial sums. One million trees × 1000 draws take about 8 s on
two cores (14 s on one) and 220 MB above the input (``benchmarks/bench_allometry.py``).
"""

from __future__ import annotations

import math
import os
import zlib
from collections import deque
from collections.abc import Hashable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from minecarbon.allometry.equations import ModelTable
from minecarbon.allometry.error_model import ErrorModel as ErrorModel  # re-exported
from minecarbon.errors import InputDataError

FloatArray = NDArray[np.float64]
Float32Array = NDArray[np.float32]
IntArray = NDArray[np.intp]

#: Trees per random-stream block (part of the reproducibility contract: do not change lightly).
STREAM_TREES: Final = 512
#: Perturbed DBH and height are clipped at these values (cm, m).
MIN_DBH_CM: Final = 0.1
MIN_HEIGHT_M: Final = 0.1

_DBH, _HEIGHT, _RESIDUAL, _CARBON, _MODEL = 0, 1, 2, 3, 4  # random-stream sources
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


@dataclass(frozen=True)
class PlotDraws:
    """Monte-Carlo draws per plot (rows in the order of ``plot_area_ha``), in kg per plot."""

    plot_ids: tuple[Hashable, ...]
    area_ha: FloatArray
    n_trees: IntArray
    agb_kg: FloatArray
    """Deterministic AGB per plot (no error)."""
    agc_kg: FloatArray
    """Deterministic AGC per plot (no error)."""
    agb_draws_kg: Float32Array
    """(n_plots, n_draws) AGB draws."""
    agc_draws_kg: Float32Array
    """(n_plots, n_draws) AGC draws."""

    @property
    def n_draws(self) -> int:
        """Number of Monte-Carlo draws."""
        return int(self.agb_draws_kg.shape[1])

    def summary(self) -> pd.DataFrame:
        """Per-hectare summary, one row per plot (see :func:`plot_agc_monte_carlo`)."""
        per_ha = 1.0 / (1000.0 * self.area_ha)
        out: dict[str, Any] = {
            "plot_id": list(self.plot_ids),
            "n_trees": self.n_trees.astype(np.int64),
            "n_draws": np.full(len(self.plot_ids), self.n_draws, dtype=np.int64),
        }
        for name, value, draws in (("agc", self.agc_kg, self.agc_draws_kg),
                                   ("agb", self.agb_kg, self.agb_draws_kg)):
            mean, sd, low, high = _summarise(draws)
            out[f"{name}_t_per_ha"] = value * per_ha
            out[f"{name}_mc_mean"] = mean * per_ha
            out[f"{name}_sd"] = sd * per_ha
            out[f"{name}_ci_low"] = low * per_ha
            out[f"{name}_ci_high"] = high * per_ha
        return pd.DataFrame(out)


def _summarise(draws: Float32Array) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Mean, sd, 2.5 and 97.5 percentiles of each row, in float64 (row blocks bound memory)."""
    n_plots, n_draws = draws.shape
    mean = np.empty(n_plots)
    sd = np.empty(n_plots)
    low = np.empty(n_plots)
    high = np.empty(n_plots)
    step = max(1, 2**22 // max(n_draws, 1))
    for start in range(0, n_plots, step):
        rows = draws[start : start + step].astype(np.float64)
        mean[start : start + step] = rows.mean(axis=1)
        sd[start : start + step] = rows.std(axis=1, ddof=1) if n_draws > 1 else 0.0
        low[start : start + step], high[start : start + step] = np.percentile(
            rows, [2.5, 97.5], axis=1
        )
    return mean, sd, low, high


def plot_agc_monte_carlo(
    trees: pd.DataFrame,
    models: Mapping[str, object] | None,
    plot_area_ha: Mapping[Hashable, float],
    *,
    n_draws: int = 1000,
    seed: int = 0,
    errors: ErrorModel | None = None,
    chunk_trees: int = 32_768,
    workers: int | None = None,
) -> pd.DataFrame:
    """Monte-Carlo AGC and AGB per plot with 95 % intervals, in t/ha.

    Parameters
    ----------
    trees
        One row per tree: ``plot_id``, ``dbh_cm``, ``height_m`` (NaN allowed for models that do
        not use height; the column may be absent if none does), ``model_key``, and optionally
        ``height_sd_m`` (sd in metres of a height filled from a height–diameter model; NaN = the
        height was measured, use :attr:`ErrorModel.height_sd_rel`). Other columns are ignored.
    models
        ``model_key`` → model: a :class:`~minecarbon.allometry.equations.BiomassModel` or any
        object with ``agb_kg(dbh_cm, height_m)`` and ``carbon_fraction`` (and optionally
        ``residual_sd_log``). None: :meth:`ModelTable.default` looked up by key.
    plot_area_ha
        Every plot's area in ha; plots without trees get 0 with a zero-width interval. The
        output has one row per entry, in this order.
    n_draws, seed
        Number of Monte-Carlo draws; seed of the random streams (same seed, same result).
    errors
        The error model (default :class:`ErrorModel()`).
    chunk_trees
        Trees per task of the thread pool (rounded up to a multiple of 512); does not change
        the result, only speed and memory.
    workers
        Threads (default: the number of CPUs, at most 4); does not change the result.

    Returns
    -------
    DataFrame with columns ``plot_id``, ``n_trees``, ``n_draws``, and for ``agc`` and ``agb``:
    ``*_t_per_ha`` (the deterministic estimate, without error), ``*_mc_mean``, ``*_sd``,
    ``*_ci_low`` and ``*_ci_high`` (2.5 and 97.5 percentiles of the draws), all in t/ha.

    Raises
    ------
    InputDataError
        On a missing column, a D ≤ 0 or NaN, an H ≤ 0, a missing height where the model needs
        one, a plot or model key without an area or a model, or an area ≤ 0.

    """
    return plot_carbon_draws(
        trees, models, plot_area_ha, n_draws=n_draws, seed=seed, errors=errors,
        chunk_trees=chunk_trees, workers=workers,
    ).summary()


# ---------------------------------------------------------------------------------- internals


def _stream(seed: int, source: int, index: int) -> np.random.SFC64:
    return np.random.SFC64(np.random.SeedSequence(seed, spawn_key=(source, index)))


def normal_draws(bit_generator: np.random.BitGenerator, rows: int, cols: int) -> Float32Array:
    """A (rows, cols) float32 array of standard normal deviates (Box–Muller, 23-bit uniforms).

    Consumes ``ceil(rows · cols / 2)`` 64-bit words; each gives two uniforms, u1 for the radius
    ``sqrt(−2 ln u1)`` (u1 in (0, 1], from the first half of the words) and u2 for the angle
    (from the second half); the first half of the output uses the cosine, the second the sine.
    """
    n = rows * cols
    half = (n + 1) // 2
    bits = np.asarray(bit_generator.random_raw(half), dtype=np.uint64).view(np.uint32)
    np.right_shift(bits, np.uint32(9), out=bits)
    np.bitwise_or(bits, np.uint32(0x3F800000), out=bits)
    uniform = bits.view(np.float32)  # in [1, 2)
    u1 = uniform[:half]
    u2 = uniform[half:]
    radius = np.subtract(np.float32(2.0), u1)  # (0, 1]
    np.log(radius, out=radius)
    np.multiply(radius, np.float32(-2.0), out=radius)
    np.sqrt(radius, out=radius)
    angle = np.multiply(u2, np.float32(2.0 * np.pi))
    out = np.empty(2 * half, dtype=np.float32)
    np.cos(angle, out=out[:half])
    np.sin(angle, out=out[half:])
    np.multiply(out[:half], radius, out=out[:half])
    np.multiply(out[half:], radius, out=out[half:])
    return out[:n].reshape(rows, cols)


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


_Z_MAX: Final = 5.7  # |z| of normal_draws is below sqrt(−2 ln 2⁻²³) = 5.65


def _log_ratio(z: Float32Array, rel_sd: Float32Array, floor: Float32Array,
               keep_ratio: bool) -> tuple[Float32Array, Float32Array | None]:
    """ln(x'/x) with x'/x = max(1 + z · sd/x, floor/x), and x'/x itself if ``keep_ratio``."""
    r = np.multiply(z, rel_sd[:, None])
    if not keep_ratio and bool(np.all(1.0 - _Z_MAX * rel_sd > floor)):  # no clipping possible
        return np.log1p(r, out=r), None
    np.add(r, np.float32(1.0), out=r)
    np.maximum(r, floor[:, None], out=r)
    if keep_ratio:
        return np.log(r), r
    return np.log(r, out=r), None


def _segment_agb(ctx: _Context, group: _Group, lo: int, hi: int, z_dbh: Float32Array | None,
                 z_height: Float32Array | None, z_res: Float32Array | None) -> Float32Array:
    """(hi − lo, n_draws) perturbed AGB (kg, float32) of trees lo..hi of one model."""
    shape = (hi - lo, ctx.n_draws)
    keep = bool(group.quadratic) or group.power is None
    log_dbh = r_dbh = log_height = r_height = None
    if z_dbh is not None and ctx.dbh_rel_sd is not None:
        log_dbh, r_dbh = _log_ratio(z_dbh, ctx.dbh_rel_sd[lo:hi], ctx.dbh_floor[lo:hi], keep)
    if z_height is not None and ctx.height_rel_sd is not None:
        log_height, r_height = _log_ratio(z_height, ctx.height_rel_sd[lo:hi],
                                          ctx.height_floor[lo:hi], group.power is None)
    res = None
    if z_res is not None and group.sigma > 0:
        res = np.multiply(z_res, np.float32(group.sigma))

    if group.power is None:  # generic: the model's own agb_kg on perturbed float64 arrays
        d = ctx.dbh[lo:hi, None] * (r_dbh if r_dbh is not None else np.ones(shape))
        h = ctx.height[lo:hi, None] * (r_height if r_height is not None else np.ones(shape))
        with np.errstate(invalid="ignore"):
            w = np.asarray(group.model.agb_kg(d, h), dtype=np.float64) * group.bias
        if res is not None:
            w *= np.exp(res)
        return w.astype(np.float32)

    i0, i1 = lo - group.start, hi - group.start
    # every power term's exponent is β · ln(D'/D) + γ · ln(H'/H); where all terms share one
    # ratio ρ = γ/β (the D²H forms: ρ = 1/2) it is β · L with L = ln(D'/D) + ρ · ln(H'/H).
    common: Float32Array | None = None
    if group.ratio is not None:
        common = log_dbh
        if log_height is not None and group.ratio != 0.0:
            log_height *= np.float32(group.ratio)
            common = log_height if common is None else np.add(common, log_height, out=common)
    fold = res is not None and len(group.power) == 1 and not group.quadratic
    total: Float32Array | None = None
    for beta, gamma, weight in group.power:
        exponent: Float32Array | None = None
        if group.ratio is not None:
            if common is not None:
                exponent = np.multiply(common, np.float32(beta))
        else:
            if log_dbh is not None and beta != 0.0:
                exponent = np.multiply(log_dbh, np.float32(beta))
            if log_height is not None and gamma != 0.0:
                if exponent is None:
                    exponent = np.multiply(log_height, np.float32(gamma))
                else:
                    exponent += np.float32(gamma) * log_height
        if fold and res is not None:
            exponent = res if exponent is None else np.add(exponent, res, out=exponent)
        if exponent is None:
            term = np.repeat(weight[i0:i1, None], ctx.n_draws, axis=1)
        else:
            term = np.exp(exponent, out=exponent)
            term *= weight[i0:i1, None]
        if total is None:
            total = term
        else:
            total += term
    for a, b_d2 in group.quadratic:
        if r_dbh is None:
            term = np.repeat(b_d2[i0:i1, None], ctx.n_draws, axis=1)
        else:
            term = np.multiply(r_dbh, r_dbh)
            term *= b_d2[i0:i1, None]
        term += np.float32(a)
        if total is None:
            total = term
        else:
            total += term
    if total is None:
        total = np.zeros(shape, dtype=np.float32)
    if res is not None and not fold:
        total *= np.exp(res, out=res)
    return total


_Partial = tuple[int, IntArray, Float32Array]  # group index, plot indices, (n_u, n_draws) sums


def _block(ctx: _Context, block: int) -> list[_Partial]:
    """Per-plot partial AGB sums of the trees of one random-stream block."""
    lo = block * STREAM_TREES
    hi = min(lo + STREAM_TREES, ctx.plot.size)
    rows = hi - lo
    group_of = ctx.group_of[lo:hi]
    cuts = np.flatnonzero(np.diff(group_of)) + 1
    starts = np.concatenate(([0], cuts))
    stops = np.concatenate((cuts, [rows]))
    seg_groups = [ctx.groups[int(group_of[s])] for s in starts]

    def draws(source: int, wanted: bool) -> Float32Array | None:
        if not wanted:
            return None
        return normal_draws(_stream(ctx.seed, source, block), rows, ctx.n_draws)

    z_dbh = draws(_DBH, ctx.dbh_rel_sd is not None)
    z_height = draws(_HEIGHT, ctx.height_rel_sd is not None
                     and any(g.uses_height for g in seg_groups))
    z_res = draws(_RESIDUAL, any(g.sigma > 0 for g in seg_groups))

    out: list[_Partial] = []
    for s, e, group in zip(starts.tolist(), stops.tolist(), seg_groups, strict=True):
        agb = _segment_agb(
            ctx, group, lo + s, lo + e,
            None if z_dbh is None else z_dbh[s:e],
            None if z_height is None or not group.uses_height else z_height[s:e],
            None if z_res is None else z_res[s:e],
        )
        plots = ctx.plot[lo + s : lo + e]
        first = np.flatnonzero(np.concatenate(([True], plots[1:] != plots[:-1])))
        out.append((int(group_of[s]), plots[first], np.add.reduceat(agb, first, axis=0)))
    return out


def _chunk(ctx: _Context, blocks: range) -> list[_Partial]:
    partials: list[_Partial] = []
    for block in blocks:
        partials.extend(_block(ctx, block))
    return partials


def plot_carbon_draws(
    trees: pd.DataFrame,
    models: Mapping[str, object] | None,
    plot_area_ha: Mapping[Hashable, float],
    *,
    n_draws: int = 1000,
    seed: int = 0,
    errors: ErrorModel | None = None,
    chunk_trees: int = 32_768,
    workers: int | None = None,
) -> PlotDraws:
    """The Monte-Carlo draws behind :func:`plot_agc_monte_carlo` (same parameters).

    Returns the deterministic AGB/AGC per plot and the ``(n_plots, n_draws)`` draws in kg per
    plot, e.g. to study the correlation between plots or to sum plots into strata.
    """
    errors = ErrorModel() if errors is None else errors
    if not (isinstance(n_draws, int) and n_draws >= 1):
        raise InputDataError(f"n_draws = {n_draws!r}", fix="give n_draws ≥ 1")
    if not (isinstance(seed, int) and seed >= 0):
        raise InputDataError(f"seed = {seed!r}", fix="give a seed ≥ 0")
    if chunk_trees < 1:
        raise InputDataError(f"chunk_trees = {chunk_trees!r}", fix="give chunk_trees ≥ 1")
    ctx, area, agb_plot, agc_plot, carbon_draws, model_draws, plot_ids = _prepare(
        trees, models, plot_area_ha, n_draws, seed, errors
    )
    n_plots = len(plot_ids)
    agb_draws = np.zeros((n_plots, n_draws), dtype=np.float32)
    agc_draws = np.zeros((n_plots, n_draws), dtype=np.float32)
    n_blocks = -(-ctx.plot.size // STREAM_TREES)
    per_chunk = max(1, -(-chunk_trees // STREAM_TREES))
    chunks = [range(b, min(b + per_chunk, n_blocks)) for b in range(0, n_blocks, per_chunk)]
    group_carbon = [carbon_draws[g.carbon_index].astype(np.float32) for g in ctx.groups]
    group_model = [None if model_draws is None else
                   model_draws[g.carbon_index].astype(np.float32) for g in ctx.groups]

    def add(partials: list[_Partial]) -> None:
        for g, plots, sums in partials:
            factor = group_model[g]
            if factor is not None:
                sums = sums * factor
            agb_draws[plots] += sums
            agc_draws[plots] += sums * group_carbon[g]

    n_workers = min(4, os.cpu_count() or 1) if workers is None else max(1, workers)
    if n_workers == 1 or len(chunks) <= 1:
        for blocks in chunks:
            add(_chunk(ctx, blocks))
    else:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            pending: deque[Future[list[_Partial]]] = deque()
            for blocks in chunks:  # at most 2 × workers chunks in flight: bounded memory
                pending.append(pool.submit(_chunk, ctx, blocks))
                if len(pending) >= 2 * n_workers:
                    add(pending.popleft().result())
            while pending:
                add(pending.popleft().result())
    n_trees = np.bincount(ctx.plot, minlength=n_plots).astype(np.intp)
    return PlotDraws(plot_ids=plot_ids, area_ha=area, n_trees=n_trees, agb_kg=agb_plot,
                     agc_kg=agc_plot, agb_draws_kg=agb_draws, agc_draws_kg=agc_draws)
