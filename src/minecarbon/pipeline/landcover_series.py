"""The classify step's land-cover series: per-year probabilities, then a consistent series.

1. **No holes.** Up to three random forests are trained on the samples: on the growing-season
   features plus the leaf-off (March) composite, on the growing-season features alone, and
   without the moving-window features (texture, terrain), each on the samples whose features
   it uses are finite. A pixel-year takes the probabilities of the first forest whose features
   it has, so a cloud in the one March scene no longer leaves it unclassified. The features
   include running medians of ±``classify.context_years`` (:func:`context_features`), and
   sparse forest is trained as a subclass when the samples record cover
   (:func:`training_labels`). A pixel-year without its own clear growing-season observation
   (its features were gap-filled from another year's composite) counts as *not observed*: it
   carries no evidence of its own.
2. **The area's priors** (``classify.prior_adjustment``, off by default). The forests are
   trained with balanced class weights (equal priors); the probabilities can be re-weighted to
   the class shares of the mapped area, estimated from the probabilities themselves by EM
   (:func:`minecarbon.classify.priors.em_priors`). On the demo it hurt sparse forest, which
   overlaps shrubland (decision 33).
3. **No flicker.** The probabilities of all years go into a hidden Markov model per pixel
   (:func:`minecarbon.classify.temporal.smooth_class_series`): a class changes only when the
   evidence of the following years says so, years without observation take the class of their
   neighbours, and a change in a year of recorded mining damage or reclamation is free.

Products: ``products/classification/landcover_<year>.tif`` (the consistent series) and
``landcover_quality_<year>.tif``: 1 = classified from its own year's features with the leaf-off
composite, 2 = from its own year's growing-season features alone, 3 = no observation of its
own that year: class from the pixel's neighbouring years; +8 where the temporal model changed
the class that year's probabilities alone would give; 0 = outside the extent or no observation
within ``classify.temporal_fill_years``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr

from minecarbon.classify._predict import predict_blocks
from minecarbon.classify.holdout import LOCATION, stratified_split
from minecarbon.classify.landcover import LandCoverClassifier, class_name
from minecarbon.classify.priors import em_priors
from minecarbon.classify.running_median import running_median_years
from minecarbon.classify.temporal import SCALE, probabilities_to_uint8, smooth_class_series
from minecarbon.errors import warn
from minecarbon.grid import AnalysisGrid
from minecarbon.io.files import temporary_sibling
from minecarbon.io.raster import read_stack, write_cubes, write_stack
from minecarbon.pipeline.forest_area import (
    apply_forest_weight,
    forest_area_weight,
    probability_sample,
)
from minecarbon.pipeline.step import StepContext
from minecarbon.scope.units import NONE_YEAR, rasterize_events

PROBA = "work/classification/landcover_proba_{year}.tif"
CONTEXT = "work/features/context_{feature}.tif"
QUALITY = "products/classification/landcover_quality_{year}.tif"


def _finite(table: pd.DataFrame, columns: list[str]) -> pd.Series:
    values = table[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return pd.Series(np.isfinite(values).all(axis=1), index=table.index)


#: Training code of sparse forest (canopy cover below ``classify.forest_min_cover``), a
#: subclass of forest whose probabilities are added to forest's after prediction.
SPARSE_SUBCLASS = 101
#: Feature groups whose moving windows leave the edges of the grid or extent empty.
WINDOW_GROUPS = ("texture", "terrain")


def training_labels(table: pd.DataFrame, cfg: Any) -> pd.Series:
    """Land-cover codes to train on: sparse forest as its own subclass where samples say so.

    Sparse forest (疏林地, canopy cover 0.10–0.20) looks like shrubland in summer and is a
    minority among forest samples; a forest trained with balanced class weights then gives it
    to shrubland. When the samples record canopy cover (``cover``, 0–1) and at least 10
    forest samples are sparse, they are trained as a subclass of forest with a class weight of
    their own (spectral subclasses; their probability is added to forest's after prediction).
    """
    labels = table["landcover"].astype(int)
    if "cover" not in table.columns:
        return labels
    cover = pd.to_numeric(table["cover"], errors="coerce")
    sparse = (labels == 1) & (cover < cfg.forest_min_cover)
    if int(sparse.sum()) < 10:
        return labels
    return labels.where(~sparse, SPARSE_SUBCLASS)


def train_landcover_models(table: pd.DataFrame, base: list[str], leaf_off: list[str],
                           groups: dict[str, str], cfg: Any
                           ) -> tuple[list[tuple[LandCoverClassifier, list[str]]],
                                      dict[str, Any], pd.DataFrame]:
    """The land-cover forests, most informative first, with their held-out accuracies.

    ``table`` holds every sample with its year's features (leaf-off columns NaN where the year
    or the pixel has no leaf-off observation). One split, stratified by class, holds out
    ``cfg.test_fraction`` of the samples, whole locations at a time where the table has
    :data:`LOCATION` (:func:`minecarbon.classify.holdout.stratified_split`). The models are
    trained on the rest, each on the samples whose features it uses are all finite:
    growing-season plus leaf-off features; growing-season features alone (a year or pixel
    without a clear leaf-off observation); and without the moving-window features (texture,
    terrain: empty at the edges of the grid and the extent). They are not refitted on the
    held-out samples, so those stay independent of every map made from the models (Olofsson
    et al. 2014: the samples that assess a map must not have trained it). Returns
    ``[(model, features), …]``, the accuracy section of ``accuracy.json`` (the held-out
    accuracy of each model, subclasses merged back into their class) and the held-out
    samples (``sample_id, year, landcover`` and, where given, ``design`` and
    :data:`~minecarbon.classify.holdout.LOCATION`).
    """
    models: list[tuple[LandCoverClassifier, list[str]]] = []
    report: dict[str, Any] = {}
    plain = [f for f in base if groups.get(f) not in WINDOW_GROUPS]
    candidates = ([("with_leaf_off", base + leaf_off)] if leaf_off else []) + [
        ("growing_season", base), ("without_window_features", plain)]
    table = table.assign(train_label=training_labels(table, cfg)).reset_index(drop=True)
    where = _location(table)
    _, test_at = stratified_split(table["train_label"].to_numpy(), cfg.test_fraction,
                                  cfg.seed, None if where is None else table[where].to_numpy(),
                                  what="training samples (raw/samples)", name=class_name)
    held = np.zeros(len(table), dtype=bool)
    held[test_at] = True
    for name, features in candidates:
        if name == "without_window_features" and len(plain) == len(base):
            continue
        finite = _finite(table, features).to_numpy()
        train, test = table[finite & ~held], table[finite & held]
        counts_here = train["train_label"].value_counts()
        if name == "with_leaf_off" and (len(counts_here) < table["train_label"].nunique()
                                        or counts_here.min() < 2 or test.empty):
            warn(f"too few samples with a clear leaf-off observation ({int(finite.sum())} of "
                 f"{len(table)}, {len(test)} of them held out): land cover is classified "
                 "from growing-season features alone", stacklevel=3)
            continue
        model = LandCoverClassifier(features=list(features), n_estimators=cfg.n_estimators,
                                    min_samples_leaf=cfg.min_samples_leaf,
                                    random_state=cfg.seed)
        model.fit(train[features], train["train_label"].to_numpy())
        models.append((model, features))
        report[name] = {**_merged_accuracy(model, test, features),
                        "held_out_share": cfg.test_fraction, "n_samples": int(finite.sum()),
                        "n_training": len(train), "features": features,
                        "sparse_forest_subclass": bool(
                            (train["train_label"] == SPARSE_SUBCLASS).any())}
    first = next(iter(report.values()))
    summary = {**first, "leaf_off_features": "with_leaf_off" in report, "models": report,
               "held_out_by_location": where is not None}
    keep = [c for c in ("sample_id", "year", "landcover", "design", LOCATION)
            if c in table.columns]
    return models, summary, table.loc[held, keep].reset_index(drop=True)


def _location(table: pd.DataFrame) -> str | None:
    """The samples' location column (their pixel) where the table has one."""
    return LOCATION if LOCATION in table.columns else None


def _merged_accuracy(model: LandCoverClassifier, test: pd.DataFrame,
                     features: list[str]) -> dict[str, Any]:
    """Accuracy at the held-out ``test`` samples, subclasses merged into their class.

    Where the samples say how they were drawn (``design``), the error matrix of the
    probability sample alone (``random`` or ``systematic``) is added as
    ``probability_sample``: purposive samples (clear stands picked for the species) make
    omission look rarer than it is, so only the probability sample estimates areas.
    """
    from minecarbon.classify.accuracy import accuracy_report

    predicted = np.asarray(model.predict(test[features])).astype(int)
    predicted[predicted == SPARSE_SUBCLASS] = 1
    observed = test["landcover"].astype(int).to_numpy()
    labels = sorted(set(observed) | set(predicted))
    report = accuracy_report(observed, predicted, labels=labels).to_dict()
    if "design" in test.columns:  # the error matrix of the probability sample alone
        random = probability_sample(test).to_numpy()
        if random.any():
            part = accuracy_report(observed[random], predicted[random], labels=labels).to_dict()
            report["probability_sample"] = {k: part[k] for k in ("labels", "confusion", "n")}
    return report


def year_probabilities(models: list[tuple[LandCoverClassifier, list[str]]],
                       features: xr.Dataset, observed: xr.DataArray,
                       inside: xr.DataArray) -> xr.Dataset:
    """One year's class probabilities (× 250) and where they came from (``source``).

    ``source`` is 1 where the forest with the leaf-off features classified the pixel, 2 where
    one without them did, 0 where none did (the quality codes of :data:`QUALITY`).

    The first model whose features are all finite at a pixel classifies it; pixels outside
    ``inside`` or not ``observed`` (no clear growing-season observation of their own) get NaN.
    """
    classes = sorted({int(c) for model, _ in models for c in model.classes_})
    proba: xr.DataArray | None = None
    source: xr.DataArray | None = None
    for model, names in models:
        number = 1 if any(n.startswith("leafoff_") for n in names) else 2  # quality code
        done = None if proba is None else proba.notnull().all("class")
        todo = inside & observed if done is None else inside & observed & ~done
        part = predict_blocks(model, features[names], method="predict_proba", mask=todo)
        part = part.assign_coords({"class": [int(c) for c in model.classes_]})
        part = part.reindex({"class": classes}, fill_value=0.0)
        ok = part.notnull().all("class")
        part = part.where(ok)
        proba = part if proba is None else proba.where(proba.notnull().all("class"), part)
        source = (ok.astype("uint8") * number if source is None
                  else source.where(~((source == 0) & ok), number))
    assert proba is not None and source is not None
    out = xr.Dataset({f"p_{c}": (proba.sel({"class": c}, drop=True) * SCALE).round()
                      for c in classes})
    out["source"] = source.astype("float32")
    return out


def free_transitions(ctx: StepContext, grid: AnalysisGrid, years: list[int],
                     chunk: int) -> xr.DataArray | None:
    """(year, y, x) True where a change of land cover is free.

    That is the year of recorded mining damage at the pixel, and the year of a recorded
    reclamation and the ``classify.reclamation_years`` after it (planted trees become forest
    over years, not in the year the reclamation is recorded).
    """
    from minecarbon.pipeline.scope_steps import read_layer

    crs = ctx.config.project.crs
    layers = {k: f for k in ("damage", "reclamation") if (f := read_layer(ctx, k, crs))
              is not None}
    if not layers:
        return None
    events = rasterize_events(layers, grid, chunks=chunk)
    index = pd.Index(years, name="year")
    year = xr.DataArray(np.asarray(years, dtype=np.int16), coords={"year": index})
    free = xr.zeros_like(year, dtype=bool) & xr.zeros_like(events["damage_year"], dtype=bool)
    after = {"damage": 0, "reclamation": ctx.config.classify.reclamation_years}
    for layer in layers:
        when = events[f"{layer}_year"].astype("int32")
        free = free | ((year >= when) & (year <= when + after[layer]) & (when != NONE_YEAR))
    return free.transpose("year", "y", "x").chunk({"year": -1})


def _area_priors(cube: xr.DataArray, classes: list[int],
                 max_pixels: int = 400_000) -> tuple[npt.NDArray[np.float64], int]:
    """EM priors of the training classes from a regular sample of all pixel-years."""
    n_years, _, ny, nx = cube.shape
    stride = max(1, int(np.ceil(np.sqrt(n_years * ny * nx / max_pixels))))
    sample = cube.isel(y=slice(None, None, stride), x=slice(None, None, stride)).values
    rows = np.moveaxis(sample, 1, -1).reshape(-1, len(classes))
    return em_priors(rows)


def adjust_to_area_priors(cube: xr.DataArray, classes: list[int]
                          ) -> tuple[xr.DataArray, dict[str, Any]]:
    """Probabilities re-weighted to the area's EM priors (``classify.prior_adjustment``).

    ``cube`` is (year, class, y, x) probabilities that assume equal class priors (forests
    trained with balanced class weights). Each class is multiplied by ``π_area(k) · K`` and
    every pixel-year renormalised (Saerens et al. 2002); returns the adjusted cube and the
    record for ``accuracy.json`` (``area_priors`` by class code, ``prior_iterations``).
    """
    prior, iterations = _area_priors(cube, classes)
    weights = xr.DataArray(prior * len(classes), dims="class", coords={"class": classes})
    adjusted = cube * weights
    adjusted = adjusted / adjusted.sum("class", skipna=False)
    return adjusted, {"area_priors": {str(c): round(float(v), 5)
                                      for c, v in zip(classes, prior, strict=True)},
                      "prior_iterations": iterations}


def consistent_series(ctx: StepContext, grid: AnalysisGrid, probability_files: dict[int, Path],
                      chunk: int, free: xr.DataArray | None, final: dict[int, Path],
                      held: pd.DataFrame | None = None
                      ) -> tuple[dict[int, Path], dict[int, Path], dict[str, Any]]:
    """Decode the stored probabilities into the land-cover series; write it and its quality.

    The probabilities are first adjusted to the area's class priors (EM, Saerens et al.
    2002; ``classify.prior_adjustment``), subclasses merged into their class, forest's
    weighted so that the series maps as much forest as its error matrix at the ``held``-out
    random samples (:func:`minecarbon.pipeline.forest_area.held_out_pixels`) says there is
    (``classify.forest_area_calibration``,
    :func:`minecarbon.pipeline.forest_area.forest_area_weight`), then decoded by the HMM.
    Writes the maps next to ``final`` (year → land-cover file) and the quality layers next to
    theirs, as temporary files; returns both ``year → temporary file`` maps for the caller to
    publish, and what was done (the priors, the forest weight) for ``accuracy.json``.
    """
    cfg = ctx.config.classify
    years = sorted(probability_files)
    stacks = [read_stack(probability_files[y], chunks=chunk) for y in years]
    names = [n for n in stacks[0].data_vars if str(n).startswith("p_")]
    trained = [int(str(n).removeprefix("p_")) for n in names]
    index = pd.Index(years, name="year")
    cube = xr.concat([xr.concat([s[n] for n in names], dim=pd.Index(trained, name="class"))
                      for s in stacks], dim=index) / SCALE
    info: dict[str, Any] = {"temporal_consistency": cfg.temporal_consistency,
                            "stay_probability": cfg.temporal_stay_probability}
    if cfg.prior_adjustment:
        cube, priors = adjust_to_area_priors(cube, trained)
        info.update(priors)
    classes = [c for c in trained if c != SPARSE_SUBCLASS]
    if SPARSE_SUBCLASS in trained:  # sparse forest back into forest
        forest = cube.sel({"class": 1}) + cube.sel({"class": SPARSE_SUBCLASS})
        cube = cube.where(cube["class"] != 1, forest).sel({"class": classes})
    if cfg.temporal_consistency:
        weight, calibration = forest_area_weight(cube, classes, free, held, cfg)
        cube = apply_forest_weight(cube, weight)
        info.update(calibration)
    packed = probabilities_to_uint8(cube).chunk({"year": -1, "class": -1})
    source = xr.concat([s["source"] for s in stacks], dim=index).fillna(0).astype("uint8")
    if free is not None:
        free = free.assign_coords(y=packed["y"], x=packed["x"])
    observed = source > 0
    best = cube.fillna(-1.0).argmax("class")
    alone = xr.zeros_like(best, dtype="uint8")
    for k, code in enumerate(classes):
        alone = alone + (best == k).astype("uint8") * code
    alone = alone.where(observed, 0)
    if cfg.temporal_consistency:
        series = smooth_class_series(packed, classes, free=free,
                                     stay=cfg.temporal_stay_probability,
                                     mixing=cfg.temporal_mixing,
                                     max_fill_years=cfg.temporal_fill_years)
    else:
        series = alone.astype("uint8")
    quality = source.where(observed, (series > 0).astype("uint8") * 3)
    quality = (quality + 8 * ((series != alone) & observed & (series > 0))).astype("uint8")
    crs = grid.crs
    cubes = {"landcover": series.astype("uint8").rio.write_crs(crs).rename("landcover"),
             "quality": quality.rio.write_crs(crs).rename("landcover_quality")}
    staged = {"landcover": {y: temporary_sibling(final[y]) for y in years},
              "quality": {y: temporary_sibling(ctx.workspace.path(QUALITY.format(year=y)))
                          for y in years}}
    write_cubes(cubes, staged, nodata=0)
    return staged["landcover"], staged["quality"], info


def context_features(ctx: StepContext, grid: AnalysisGrid, stacks: dict[int, Path],
                     chunk: int) -> dict[str, xr.Dataset]:
    """Each context feature's running median over ``±classify.context_years`` (work/).

    A feature's value in one year carries that year's noise (haze, sun angle, a dry summer);
    its median over the neighbouring years is the pixel's typical state, which separates
    confusable classes twice as well on the demo (sparse forest against shrubland: Cohen's d
    of tasseled-cap angle 0.95 in one year, 1.95 as a 9-year median). Classifying on a model of
    the multi-year series as well as on the year is the idea of CCDC (Zhu & Woodcock 2014,
    *Remote Sensing of Environment* 144: 152–171); a running median keeps a lasting change at
    its year (it switches when most of the window has changed). One file per feature holds
    every year as a band ``y<year>``; all years of a block are computed once. Returns each
    feature's written file, opened lazily.
    """
    cfg = ctx.config.classify
    if cfg.context_years == 0:
        return {}
    years = sorted(stacks)
    full = range(years[0], years[-1] + 1)
    first = read_stack(stacks[years[0]], chunks=chunk)
    names = [n for n in cfg.context_features if n in first.data_vars]
    unknown = [n for n in cfg.context_features if n not in first.data_vars]
    if unknown:
        warn(f"classify.context_features names {unknown}, which the feature stacks do not "
             f"hold; they are left out (features: {sorted(map(str, first.data_vars))})",
             stacklevel=3)
    opened = {y: read_stack(stacks[y], chunks=chunk) for y in years}
    files: dict[str, xr.Dataset] = {}
    for name in names:
        layers = [opened[y][name] for y in years]
        cube = xr.concat(layers, dim=pd.Index(years, name="year")).reindex(year=list(full))
        median = running_median_years(cube, cfg.context_years)
        out = xr.Dataset({f"y{y}": median.sel(year=y, drop=True).astype("float32")
                          for y in years}).rio.write_crs(grid.crs)
        rel = CONTEXT.format(feature=name)
        ctx.publish(rel, lambda tmp, o=out: write_stack(o, tmp),  # type: ignore[misc]
                    kind="work:context_feature")
        files[name] = read_stack(ctx.workspace.path(rel), chunks=chunk)
    return files


def with_context(features: xr.Dataset, files: dict[str, xr.Dataset], year: int) -> xr.Dataset:
    """``features`` plus the year's context features (``ctx_<feature>``)."""
    extra = {}
    for name, stack in files.items():
        band = stack[f"y{year}"]
        extra[f"ctx_{name}"] = band.assign_coords(y=features["y"], x=features["x"])
    return features.assign(extra) if extra else features


def sparse_forest(probability_file: Path, chunk: int) -> xr.DataArray | None:
    """Where the sparse-forest subclass is more probable than dense forest (稀疏林).

    None when the land-cover forests were trained without the subclass.
    """
    stack = read_stack(probability_file, chunks=chunk)
    sparse, dense = f"p_{SPARSE_SUBCLASS}", "p_1"
    if sparse not in stack or dense not in stack:
        return None
    return (stack[sparse] > stack[dense]).fillna(False)


def write_probabilities(ctx: StepContext, year: int, probabilities: xr.Dataset,
                        grid: AnalysisGrid) -> Path:
    """Store a year's packed probabilities in ``work/`` (catalogued)."""
    rel = PROBA.format(year=year)
    data = probabilities.rio.write_crs(grid.crs)
    ctx.publish(rel, lambda tmp: write_stack(data, tmp, tags={"YEAR": str(year),
                                                              "SCALE": str(SCALE)}),
                kind="work:landcover_proba", time=str(year))
    return ctx.workspace.path(rel)
