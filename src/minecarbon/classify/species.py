"""Dominant species group per forest pixel and forest type (requirements C3 and S2).

:class:`SpeciesClassifier` is a scikit-learn classifier of species-group codes
(:mod:`minecarbon.standard.species`) from phenology metrics (:mod:`.phenology`) and any other
per-pixel features. The leaf habit (evergreen/deciduous, requirement C2) is mapped first, so
the classifier keeps **one random forest per leaf habit**, each trained only on the samples of
the species of that habit and choosing only among them: an evergreen pixel can only be 油松 or
侧柏, a deciduous one only 华北落叶松, 刺槐, 杨树, 栎类 or 桦木.

:func:`predict_species_map` applies it to a feature stack, block by block and lazily.

:func:`forest_type_map` turns the species map (and canopy cover) into the forest types of
HJ 1166—2021: sparse forest by cover, otherwise coniferous, broadleaf or mixed by the share of
conifer and broadleaf pixels in a window around each pixel. At 30 m one pixel has one dominant
species group, so mixedness is a property of the neighbourhood, not of the pixel
(docs/phenology.md).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import dask.array as dsa
import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.utils.validation import check_is_fitted, validate_data

from minecarbon.config import ClassifyConfig
from minecarbon.errors import GridMismatchError, InputDataError, warn
from minecarbon.standard.species import by_code, resolve_species, species_groups
from minecarbon.types import ForestType, LeafHabit

_DEFAULTS = ClassifyConfig()
_HABITS = (LeafHabit.EVERGREEN, LeafHabit.DECIDUOUS)
_SHOWN = 5  # samples named in a message
_HABIT_NAME = {int(h): h.en for h in LeafHabit}


def _species_codes(y: Any) -> npt.NDArray[np.int64]:
    """Species-group codes from codes or names (any name :func:`resolve_species` knows)."""
    values = np.asarray(y).ravel()
    if values.dtype.kind in "iuf":
        if values.dtype.kind == "f" and not np.all(np.isfinite(values) & (values % 1 == 0)):
            bad = np.flatnonzero(~(np.isfinite(values) & (values % 1 == 0)))
            raise InputDataError(f"species labels of samples {bad[:_SHOWN].tolist()} are not "
                                 "whole codes (NaN or fractional)",
                                 fix="label every sample with a species-group code or name")
        codes = values.astype(np.int64)
        for code in np.unique(codes):
            by_code(int(code))  # raises UnknownSpeciesError naming the code
        return codes
    return np.array([resolve_species(str(v)).code for v in values], dtype=np.int64)


def _habit_codes(habit: Any, n: int, what: str) -> npt.NDArray[np.int64]:
    values = np.asarray(habit).ravel()
    if values.shape[0] != n:
        raise InputDataError(f"{what} has {values.shape[0]} values for {n} samples",
                             fix="give one leaf habit per sample")
    if values.dtype.kind in "USO":
        names = {"evergreen": 1, "deciduous": 2, "常绿": 1, "常绿林": 1, "落叶": 2, "落叶林": 2}
        try:
            return np.array([names[str(v).strip().lower()] for v in values], dtype=np.int64)
        except KeyError as err:
            raise InputDataError(f"{what} holds the unknown leaf habit {err.args[0]!r}",
                                 fix="use evergreen/deciduous or the codes 1/2") from None
    return np.nan_to_num(values.astype(np.float64), nan=0.0).astype(np.int64)


class SpeciesClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Random-forest species-group classifier with one sub-model per leaf habit.

    Parameters
    ----------
    n_estimators
        Trees per sub-model (``classify.n_estimators``).
    random_state
        Seed of the forests (``classify.seed``).
    species
        Codes of the species groups expected in the area; ``None``: all of
        :func:`~minecarbon.standard.species.species_groups`. An expected group without training
        samples is warned about by name (it can then never be predicted); a sample of a group
        not expected is an error.
    class_weight, min_samples_leaf, n_jobs
        Passed to :class:`~sklearn.ensemble.RandomForestClassifier`.

    Attributes
    ----------
    models_ : dict[int, RandomForestClassifier | None]
        The sub-model of each leaf-habit code (None: no training samples of that habit).
    classes_ : numpy.ndarray
        Species codes seen in training.

    Notes
    -----
    Features may hold NaN (e.g. no green-up date for a flat evergreen curve): scikit-learn's
    forests (≥ 1.4) route missing values at each split. Rows whose features are all NaN, and
    rows whose leaf habit is neither 1 (evergreen) nor 2 (deciduous), are predicted as 0.

    """

    def __init__(self, n_estimators: int = _DEFAULTS.n_estimators,
                 random_state: int | None = _DEFAULTS.seed, species: Sequence[int] | None = None,
                 class_weight: str | None = None, min_samples_leaf: int = 1,
                 n_jobs: int | None = None) -> None:
        self.n_estimators = n_estimators
        self.random_state = random_state
        self.species = species
        self.class_weight = class_weight
        self.min_samples_leaf = min_samples_leaf
        self.n_jobs = n_jobs

    def _expected(self) -> list[int]:
        if self.species is None:
            return [g.code for g in species_groups()]
        return [by_code(int(c)).code for c in self.species]

    def fit(self, X: Any, y: Any, leaf_habit: Any = None) -> SpeciesClassifier:  # noqa: N803
        """Fit one random forest per leaf habit.

        Parameters
        ----------
        X
            Features, samples × features (a DataFrame keeps the feature names, which
            :func:`predict_species_map` then looks up in the feature stack). NaN allowed.
        y
            Species group of each sample: codes or names (:func:`resolve_species`).
        leaf_habit
            Optional leaf habit of each sample (1/2 or evergreen/deciduous), checked against
            its species; ``None``: taken from the species.

        Raises
        ------
        InputDataError
            If a sample's leaf habit contradicts its species, or its species is not expected.
        UnknownSpeciesError
            If a label is no species group.

        """
        table = validate_data(self, X, ensure_all_finite="allow-nan")
        codes = _species_codes(y)
        if codes.shape[0] != table.shape[0]:
            raise InputDataError(f"{codes.shape[0]} species labels for {table.shape[0]} samples",
                                 fix="give one species label per row of X")
        expected = self._expected()
        stray = np.flatnonzero(~np.isin(codes, expected))
        if stray.size:
            names = sorted({by_code(int(c)).label for c in codes[stray]})
            raise InputDataError(
                f"training samples {stray[:_SHOWN].tolist()} are of {', '.join(names)}, "
                "which is not among the expected species",
                fix="add it to the classifier's species, or drop those samples")
        habit_of = {g.code: int(g.habit) for g in species_groups()}
        own = np.array([habit_of[int(c)] for c in codes], dtype=np.int64)
        if leaf_habit is not None:
            given = _habit_codes(leaf_habit, codes.shape[0], "leaf_habit")
            bad = np.flatnonzero(given != own)
            if bad.size:
                shown = "; ".join(
                    f"sample {i}: {by_code(int(codes[i])).label} is "
                    f"{_HABIT_NAME[int(own[i])]}, labelled "
                    f"{_HABIT_NAME.get(int(given[i]), given[i])}" for i in bad[:_SHOWN])
                raise InputDataError(
                    f"{bad.size} training sample(s) have a leaf habit that contradicts their "
                    f"species ({shown})",
                    fix="correct the species or the leaf-habit label, or pass leaf_habit=None "
                        "to take the habit from the species")
        for code in expected:
            if not np.any(codes == code):
                warn(f"species group {by_code(code).label} (code {code}) has no training "
                     "samples: it will never be predicted", UserWarning, stacklevel=2)
        self.models_: dict[int, RandomForestClassifier | None] = {}
        for habit in _HABITS:
            rows = own == int(habit)
            if not rows.any():
                self.models_[int(habit)] = None
                if any(habit_of[c] == habit for c in expected):
                    warn(f"no training samples of {habit.en} species: {habit.en} pixels will be "
                         "predicted as 0", UserWarning, stacklevel=2)
                continue
            model = RandomForestClassifier(
                n_estimators=self.n_estimators, random_state=self.random_state,
                class_weight=self.class_weight, min_samples_leaf=self.min_samples_leaf,
                n_jobs=self.n_jobs)
            self.models_[int(habit)] = model.fit(table[rows], codes[rows])
        self.classes_ = np.unique(codes)
        return self

    def predict(self, X: Any, leaf_habit: Any) -> npt.NDArray[np.uint8]:  # noqa: N803
        """Species code of each row (uint8; 0 where the habit is unknown or no feature is set).

        Parameters
        ----------
        X
            Features, as in :meth:`fit`.
        leaf_habit
            Leaf habit of each row: 1 (evergreen), 2 (deciduous), anything else → 0.

        """
        check_is_fitted(self, "models_")
        table = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        habit = _habit_codes(leaf_habit, table.shape[0], "leaf_habit")
        out = np.zeros(table.shape[0], dtype=np.uint8)
        some = ~np.all(np.isnan(table), axis=1)
        for code, model in self.models_.items():
            rows = some & (habit == code)
            if model is not None and rows.any():
                out[rows] = model.predict(table[rows]).astype(np.uint8)
        return out

    def score(self, X: Any, y: Any, leaf_habit: Any = None,  # noqa: N803
              sample_weight: Any = None) -> float:
        """Accuracy of :meth:`predict` against ``y``.

        Without ``leaf_habit`` each sample's habit is taken from its true species, so this is
        the accuracy given a correct leaf-habit map (what scikit-learn's model selection sees).
        """
        codes = _species_codes(y)
        if leaf_habit is None:
            habit_of = {g.code: int(g.habit) for g in species_groups()}
            leaf_habit = np.array([habit_of[int(c)] for c in codes])
        hits = (self.predict(X, leaf_habit) == codes).astype(np.float64)
        return float(np.average(hits, weights=sample_weight))


# --------------------------------------------------------------------------- species map
def _feature_names(model: SpeciesClassifier, features: xr.Dataset) -> list[Hashable]:
    check_is_fitted(model, "models_")
    names: list[Hashable] = (list(model.feature_names_in_) if hasattr(model, "feature_names_in_")
                             else list(features.data_vars))
    missing = [str(n) for n in names if n not in features.data_vars]
    if missing:
        raise InputDataError(f"the feature stack lacks the variables {missing} the model uses",
                             fix="compute the same features as for training")
    if len(names) != model.n_features_in_:
        raise InputDataError(
            f"the feature stack has {len(names)} variables, the model {model.n_features_in_}",
            fix="fit the model on a DataFrame with the stack's variable names")
    return names


def _predict_block(x: Any, habit: Any, *, model: SpeciesClassifier,
                   columns: list[str] | None) -> npt.NDArray[np.uint8]:
    data = np.asarray(x, dtype=np.float32)
    flat = data.reshape(-1, data.shape[-1])
    h = np.nan_to_num(np.asarray(habit, dtype=np.float64), nan=0.0).ravel()
    out = np.zeros(flat.shape[0], dtype=np.uint8)
    rows = np.isin(h, [int(c) for c in _HABITS])
    if rows.any():
        table: Any = flat[rows] if columns is None else pd.DataFrame(flat[rows], columns=columns)
        out[rows] = model.predict(table, h[rows])
    return out.reshape(data.shape[:-1])


def _same_grid(a: xr.DataArray, b: xr.DataArray, what: str) -> None:
    """Raise unless ``b`` has ``a``'s dims, sizes and (within 1 mm) coordinates."""
    same = a.dims == b.dims and a.shape == b.shape and all(
        np.allclose(a[d].values, b[d].values, rtol=0.0, atol=1e-3)
        for d in a.dims if d in a.coords and d in b.coords)
    if not same:
        raise GridMismatchError(
            f"{what} is not on the grid of the species/feature raster "
            f"(sizes {dict(b.sizes)} vs {dict(a.sizes)})",
            fix="put both on the project grid")


def _pixel_inputs(model: SpeciesClassifier, features: xr.Dataset, leaf_habit: xr.DataArray
                  ) -> tuple[list[Hashable], xr.DataArray, xr.DataArray]:
    """The model's features as one (y, x, feature) float32 array, and the habit on its grid."""
    names = _feature_names(model, features)
    first = features[names[0]]
    _same_grid(first, leaf_habit, "the leaf-habit map")
    leaf_habit = leaf_habit.assign_coords({d: first[d] for d in first.dims if d in first.coords})
    stack = xr.concat([features[n].astype(np.float32) for n in names], dim="feature",
                      coords="minimal", compat="override", join="exact")
    if stack.chunks:
        stack = stack.chunk({"feature": -1})
    return names, stack, leaf_habit


def predict_species_map(model: SpeciesClassifier, features: xr.Dataset,
                        leaf_habit: xr.DataArray) -> xr.DataArray:
    """Species-group codes per pixel (uint8, 0 outside forest), lazily on dask input.

    Parameters
    ----------
    model
        A fitted :class:`SpeciesClassifier`.
    features
        One variable per feature, each ``("y", "x")``; the model's feature names (if it was fit
        on a DataFrame) select and order them, else all variables in order.
    leaf_habit
        Leaf-habit codes (:class:`~minecarbon.types.LeafHabit`; 0 outside forest) on the same
        grid.

    Raises
    ------
    InputDataError
        If a feature the model uses is missing.
    GridMismatchError
        If ``leaf_habit`` is not on the features' grid.

    """
    names, stack, leaf_habit = _pixel_inputs(model, features, leaf_habit)
    columns = [str(n) for n in names] if hasattr(model, "feature_names_in_") else None
    out: xr.DataArray = xr.apply_ufunc(
        _predict_block, stack, leaf_habit, input_core_dims=[["feature"], []],
        dask="parallelized", output_dtypes=[np.uint8],
        kwargs={"model": model, "columns": columns})
    groups = species_groups()
    return out.rename("species").assign_attrs(
        long_name="dominant species group (0 outside forest)", nodata=0,
        flag_values=[g.code for g in groups], flag_meanings=" ".join(g.key for g in groups))


# --------------------------------------------------------------------------- forest type
def _box_sum(a: npt.NDArray[np.float64], h: int) -> npt.NDArray[np.float64]:
    """Sum over (2h+1)² windows of a block padded by ``h`` → its interior."""
    c = np.pad(a, ((1, 0), (1, 0))).cumsum(axis=0).cumsum(axis=1)
    w = 2 * h + 1
    return np.asarray(c[w:, w:] - c[:-w, w:] - c[w:, :-w] + c[:-w, :-w], dtype=np.float64)


def _forest_type_block(species: Any, cover: Any, *, h: int, forest_min: float,
                       sparse_min: float, share: float) -> npt.NDArray[np.uint8]:
    """Forest type of a block padded by ``h`` (0 pads outside the raster); the ring is 0."""
    s = np.nan_to_num(np.asarray(species, dtype=np.float64), nan=0.0)
    conifer = np.isin(s, [g.code for g in species_groups() if g.is_conifer])
    broadleaf = np.isin(s, [g.code for g in species_groups() if not g.is_conifer])
    forest = conifer | broadleaf
    c = None if cover is None else np.asarray(cover, dtype=np.float64)
    if c is not None:
        forest &= ~(c < sparse_min)  # NaN cover: no cover information, kept as forest
    n = _box_sum(forest.astype(np.float64), h)
    tol = 1e-9
    with np.errstate(invalid="ignore"):
        out = np.where(_box_sum((conifer & forest).astype(np.float64), h) >= share * n - tol,
                       ForestType.CONIFEROUS,
                       np.where(_box_sum((broadleaf & forest).astype(np.float64), h)
                                >= share * n - tol, ForestType.BROADLEAF, ForestType.MIXED))
    centre = (slice(h, s.shape[0] - h), slice(h, s.shape[1] - h))
    if c is not None:
        out = np.where(c[centre] < forest_min, ForestType.SPARSE, out)
    full = np.zeros(s.shape, dtype=np.uint8)  # same shape as the block: dask trims the ring
    full[centre] = np.where(forest[centre], out, 0)
    return full


def forest_type_map(species: xr.DataArray, cover: xr.DataArray | None = None, *,
                    forest_min_cover: float = _DEFAULTS.forest_min_cover,
                    sparse_min_cover: float = _DEFAULTS.sparse_min_cover,
                    dominant_share: float = _DEFAULTS.dominant_share,
                    window: int = 3) -> xr.DataArray:
    """Forest type (:class:`~minecarbon.types.ForestType`, uint8; 0 outside forest).

    A pixel is forest when its species code is a species group (and, with ``cover``, its cover
    is not below ``sparse_min_cover``). Then, after HJ 1166—2021:

    * **sparse** (稀疏林) where ``sparse_min_cover <= cover < forest_min_cover``;
    * otherwise **coniferous** (针叶林) where conifer pixels make at least ``dominant_share`` of
      the forest pixels in the ``window`` × ``window`` neighbourhood (the pixel included;
      outside the raster counts as non-forest), **broadleaf** (阔叶林) likewise, else
      **mixed** (针阔混交林).

    Parameters
    ----------
    species
        Species-group codes, dims ``("y", "x")``; 0 (or NaN, or an unknown code) is non-forest.
    cover
        Canopy cover as a fraction 0–1 on the same grid, or None (no sparse class). NaN cover
        means unknown: the pixel stays forest and is typed by its neighbourhood.
    forest_min_cover, sparse_min_cover, dominant_share
        ``classify.*`` thresholds (defaults 0.20, 0.10, 0.65).
    window
        Odd side of the neighbourhood in pixels (3: 90 m at 30 m).

    Raises
    ------
    InputDataError
        If a threshold or the window is out of range, or ``species`` is not 2-D ``(y, x)``.
    GridMismatchError
        If ``cover`` is not on the species grid.

    """
    if species.dims != ("y", "x"):
        raise InputDataError(f"the species map has dims {species.dims}, expected ('y', 'x')",
                             fix="pass one species-code layer")
    if isinstance(window, bool) or not isinstance(window, int) or window < 1 or window % 2 == 0:
        raise InputDataError(f"window must be an odd positive integer, got {window!r}",
                             fix="use 3 (or 1 for the pixel alone)")
    if not 0.0 <= sparse_min_cover < forest_min_cover <= 1.0:
        raise InputDataError(
            f"cover thresholds sparse_min_cover={sparse_min_cover}, forest_min_cover="
            f"{forest_min_cover} are not 0 <= sparse < forest <= 1",
            fix="use classify.sparse_min_cover 0.10 and forest_min_cover 0.20 (HJ 1166—2021)")
    if not 0.5 < dominant_share <= 1.0:
        raise InputDataError(f"dominant_share {dominant_share} is not in (0.5, 1]",
                             fix="use 0.65 (HJ 1166—2021)")
    if cover is not None:
        if cover.dims != species.dims:
            raise GridMismatchError(f"the cover map has dims {cover.dims}, expected ('y', 'x')",
                                    fix="pass canopy cover as one layer on the species grid")
        _same_grid(species, cover, "the canopy-cover map")
    h = window // 2
    s_data = species.data
    if isinstance(s_data, dsa.Array) or (cover is not None and isinstance(cover.data, dsa.Array)):
        s_dask = dsa.asarray(s_data).astype(np.float64)  # type: ignore[no-untyped-call]
        arrays = [s_dask] if cover is None else [
            s_dask,
            dsa.asarray(cover.data).astype(np.float64).rechunk(  # type: ignore[no-untyped-call]
                s_dask.chunks)]

        def block(*parts: Any) -> npt.NDArray[np.uint8]:
            return _forest_type_block(parts[0], parts[1] if len(parts) > 1 else None, h=h,
                                      forest_min=forest_min_cover, sparse_min=sparse_min_cover,
                                      share=dominant_share)

        data: Any = dsa.map_overlap(  # type: ignore[no-untyped-call]
            block, *arrays, depth=h, boundary=np.nan, dtype=np.uint8,
            meta=np.array((), np.uint8))
    else:
        pad = ((h, h), (h, h))
        padded_s = np.pad(np.asarray(s_data, dtype=np.float64), pad, constant_values=0.0)
        padded_c = None if cover is None else np.pad(
            np.asarray(cover.data, dtype=np.float64), pad, constant_values=np.nan)
        data = _forest_type_block(padded_s, padded_c, h=h, forest_min=forest_min_cover,
                                  sparse_min=sparse_min_cover, share=dominant_share)
        data = data[h:h + species.shape[0], h:h + species.shape[1]]
    types = list(ForestType)
    return xr.DataArray(
        data, coords=species.coords, dims=species.dims, name="forest_type",
        attrs={"long_name": "forest type, HJ 1166-2021 (0 outside forest)",
               "flag_values": [int(t) for t in types],
               "flag_meanings": " ".join(t.en.split(" ")[0] for t in types),
               "nodata": 0, "window_px": window, "dominant_share": dominant_share})
