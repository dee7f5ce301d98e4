"""Species maps with stand context: class probabilities averaged over a small window.

A stand is larger than a 30 m pixel, and a pixel's spectra and phenology are noisy, so the
dominant species of a pixel is better estimated from the class probabilities of its
neighbourhood than from its own alone (a probabilistic majority filter, as in contextual and
object-based classification). :func:`species_probabilities` gives each pixel the random
forest's probability of every species group (0 for the groups of the other leaf habit);
:func:`contextual_species_map` sums them over a ``window`` × ``window`` neighbourhood and takes,
for each pixel, the most probable group **of its own leaf habit**, so evergreen neighbours never
turn a deciduous pixel evergreen. ``window = 1`` is the per-pixel classification.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from minecarbon.classify.species import (
    _HABITS,
    SpeciesClassifier,
    _pixel_inputs,
    predict_species_map,
)
from minecarbon.errors import InputDataError
from minecarbon.standard.species import species_groups


def _class_codes() -> list[int]:
    return [g.code for g in species_groups()]


def _proba_block(x: Any, habit: Any, *, model: SpeciesClassifier,
                 codes: list[int]) -> npt.NDArray[np.float32]:
    data = np.asarray(x, dtype=np.float32)
    flat = data.reshape(-1, data.shape[-1])
    h = np.nan_to_num(np.asarray(habit, dtype=np.float64), nan=0.0).ravel()
    out = np.zeros((flat.shape[0], len(codes)), dtype=np.float32)
    some = ~np.all(np.isnan(flat), axis=1)
    position = {c: i for i, c in enumerate(codes)}
    for habit_code, fitted in model.models_.items():
        rows = some & (h == habit_code)
        if fitted is None or not rows.any():
            continue
        proba = fitted.predict_proba(flat[rows])  # columns in the model's feature order
        cols = np.array([position[int(c)] for c in fitted.classes_], dtype=np.int64)
        out[np.ix_(np.flatnonzero(rows), cols)] = proba
    return out.reshape((*data.shape[:-1], len(codes)))


def species_probabilities(model: SpeciesClassifier, features: xr.Dataset,
                          leaf_habit: xr.DataArray) -> xr.DataArray:
    """Probability of every species group per pixel, (species, y, x) float32, lazily.

    Zero for the groups of the other leaf habit, and everywhere outside forest (leaf habit 0)
    or where no feature is set.
    """
    _, stack, leaf_habit = _pixel_inputs(model, features, leaf_habit)
    codes = _class_codes()
    proba: xr.DataArray = xr.apply_ufunc(
        _proba_block, stack, leaf_habit, input_core_dims=[["feature"], []],
        output_core_dims=[["species"]], dask="parallelized", output_dtypes=[np.float32],
        dask_gufunc_kwargs={"output_sizes": {"species": len(codes)}},
        kwargs={"model": model, "codes": codes})
    return proba.assign_coords(species=codes).transpose("species", ...)


def contextual_species_map(model: SpeciesClassifier, features: xr.Dataset,
                           leaf_habit: xr.DataArray, *, window: int = 3) -> xr.DataArray:
    """Species-group codes (uint8, 0 outside forest) from window-summed probabilities.

    Parameters
    ----------
    model
        A fitted :class:`~minecarbon.classify.species.SpeciesClassifier`.
    features
        The model's features, each (y, x).
    leaf_habit
        Leaf-habit codes on the same grid (0 outside forest).
    window
        Side of the square neighbourhood in pixels (odd); 1 = per pixel, exactly
        :func:`~minecarbon.classify.species.predict_species_map`.

    """
    if window < 1 or window % 2 == 0:
        raise InputDataError(f"species window {window} must be an odd number of pixels ≥ 1",
                             fix="use 1, 3, 5, …")
    if window == 1:
        return predict_species_map(model, features, leaf_habit)
    proba = species_probabilities(model, features, leaf_habit)
    summed = proba.rolling(y=window, x=window, center=True, min_periods=1).sum()
    codes = np.asarray(proba["species"].values, dtype=np.int64)
    habit_of = {g.code: int(g.habit) for g in species_groups()}
    class_habit = xr.DataArray([habit_of[int(c)] for c in codes], dims="species",
                               coords={"species": codes})
    habit = leaf_habit.assign_coords({d: proba[d] for d in ("y", "x")})
    own = summed.where(class_habit == habit, -1.0)
    best = own.argmax("species")
    chosen: xr.DataArray = xr.apply_ufunc(lambda b: codes[b], best, dask="parallelized",
                                          output_dtypes=[np.int64])
    any_probability = (own.max("species") > 0) & habit.isin([int(h) for h in _HABITS])
    out = chosen.where(any_probability, 0).astype(np.uint8)
    out = out.drop_vars([c for c in out.coords if c not in ("y", "x", "spatial_ref")])
    groups = species_groups()
    return out.rename("species").assign_attrs(
        long_name=f"dominant species group from {window}×{window} summed class probabilities "
                  "(0 outside forest)", nodata=0,
        flag_values=[g.code for g in groups], flag_meanings=" ".join(g.key for g in groups))
