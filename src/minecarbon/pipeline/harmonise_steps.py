"""Harmonisation of a mixed Landsat archive inside the features step (issue 16).

``features.harmonise_to`` names the sensor every scene is expressed as; the standard's table
gives ETM+ → OLI (Roy et al. 2016). TM is calibrated to ETM+ on the archive's own overlap
years when ``features.tm_calibration = "archive"`` (:mod:`minecarbon.features.crosscal`): the
fit is written to ``products/features/cross_calibration.json`` and every later reader of scenes
(the composites, the phenology series of the classify step) applies the same functions.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from dask.base import compute

from minecarbon.catalog.workspace import Workspace
from minecarbon.errors import warn
from minecarbon.features import crosscal
from minecarbon.features.preprocess import clear_reflectance
from minecarbon.grid import AnalysisGrid
from minecarbon.io.scenes import SceneFiles, read_scene
from minecarbon.io.tables import write_json
from minecarbon.pipeline.step import StepContext
from minecarbon.standard.harmonisation import BandTransform, target_sensor, transforms

CROSS_CALIBRATION = "products/features/cross_calibration.json"
#: Pixels read per scene of a calibration pair (an even subsample of the grid).
SAMPLE_PX = 250_000
#: Fewest kept pixels for a fit; below it the table's TM row is used.
MIN_PIXELS = 2_000
TM_SENSORS = ("landsat5", "landsat4")


def harmonise_target(cfg: Any) -> str | None:
    """The sensor every scene's reflectance is expressed as (``features.harmonise_to``)."""
    target = cfg.features.harmonise_to
    return None if target == "off" else target_sensor(target)


def fitted_transforms(ws: Workspace) -> dict[str, dict[str, BandTransform]]:
    """The archive-fitted functions of the last features run (sensor → role → transform)."""
    path = ws.path(CROSS_CALIBRATION)
    if not path.exists():
        return {}
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("method") != "archive":
        return {}
    return {s: {r: BandTransform(r, float(t["slope"]), float(t["intercept"]), doc["source"])
                for r, t in rows.items()} for s, rows in doc["transforms"].items()}


def calibrate_tm(ctx: StepContext, grid: AnalysisGrid, scenes: list[SceneFiles]) -> dict[str, Any]:
    """Fit TM → ETM+ on the archive's pairs and write :data:`CROSS_CALIBRATION`.

    The growing-season scenes of the years TM imaged are paired within each year
    (:func:`~minecarbon.features.crosscal.season_pairs`), one sensor or two, and the gains are
    fitted with the season's drift by month
    (:func:`~minecarbon.features.crosscal.fit_seasonal_gains`). Where the pairs cannot tell
    the drift from the gain, the TM/ETM+ pairs alone give it
    (:func:`~minecarbon.features.crosscal.fit_gains`); with no TM/ETM+ pair, or too few
    pixels, TM takes the table's row. Returns the document written: ``method`` (``archive``
    or ``table``), ``model`` (``seasonal`` or ``pairs``), the reason, the pairs used, the
    per-band gains with their standard errors, the seasonal profile and the composed TM →
    target functions.
    """
    cfg = ctx.config
    target = harmonise_target(cfg)
    months = set(cfg.features.growing_season_months)
    max_days = cfg.features.calibration_max_days
    tm_years = {s.date.year for s in scenes if s.sensor in TM_SENSORS}
    season = sorted((s for s in scenes if s.sensor in (*TM_SENSORS, "landsat7")
                     and s.date.month in months and s.date.year in tm_years),
                    key=lambda s: (s.date, s.scene_id))
    pairs = crosscal.season_pairs([s.date for s in season], max_days)
    cross = [(i, j) for i, j in pairs if _is_tm(season[i]) != _is_tm(season[j])]
    doc: dict[str, Any] = {"method": "table", "target": target, "max_days": max_days,
                           "pairs": []}
    etm_to_target = transforms("landsat7", target) if target is not None else None
    if cfg.features.tm_calibration == "table" or target is None or etm_to_target is None:
        doc["reason"] = ("features.tm_calibration = table" if cfg.features.tm_calibration
                         == "table" else "no harmonisation target")
    elif not cross:
        doc["reason"] = (f"no TM and ETM+ scenes of months {sorted(months)} within "
                         f"{max_days} days of each other in one year")
    else:
        chunk = cfg.compute.chunk_px
        ratios = dict(zip(pairs, _pair_ratios(season, pairs, grid, chunk), strict=True))
        gains, profile = crosscal.fit_seasonal_gains(list(ratios.values()))
        model, fitted = "seasonal", pairs
        if not gains:  # the season's months are not linked by pairs of one sensor
            model, fitted = "pairs", cross
            gains = crosscal.tm_etm_gains(  # days: the TM date minus the ETM+ date
                [ratios[p] for p in cross],
                [(season[i].date - season[j].date).days * (1 if _is_tm(season[i]) else -1)
                 for i, j in cross])
        used = [p for p in fitted if ratios[p] is not None]
        n = next(iter(gains.values())).n_pixels if gains else 0
        doc["pairs"] = [[season[i].scene_id, season[j].scene_id] for i, j in used]
        if n < MIN_PIXELS:
            doc["reason"] = (f"{n} stable clear pixels in {len(used)} pairs "
                             f"(fewer than {MIN_PIXELS})")
        else:
            n_cross = sum(_is_tm(season[i]) != _is_tm(season[j]) for i, j in used)
            how = (f"{len(used)} same-year scene pairs ≤ {max_days} days apart, {n_cross} of "
                   "them TM/ETM+, the season's drift fitted by month" if model == "seasonal"
                   else f"{n_cross} TM/ETM+ scene pairs ≤ {max_days} days apart")
            source = (f"TM → ETM+ gain fitted on this archive ({how}, {n} pixels; "
                      "features.crosscal), then the table's ETM+ → OLI (Roy et al. 2016)")
            composed = crosscal.compose(gains, etm_to_target, source)
            doc.update(method="archive", model=model, reason="", source=source, n_pixels=n,
                       cross_pairs=n_cross,
                       gains={r: {"gain": round(g.gain, 5),
                                  "stderr": None if g.stderr is None else round(g.stderr, 5),
                                  "drift_per_day": None if g.drift_per_day is None
                                  else round(g.drift_per_day, 6)}
                              for r, g in gains.items()},
                       transforms={s: {r: {"slope": t.slope, "intercept": t.intercept}
                                       for r, t in composed.items()} for s in TM_SENSORS})
            if profile and model == "seasonal":
                doc["seasonal_profile"] = {r: {str(m): round(v, 5) for m, v in rows.items()}
                                           for r, rows in profile.items()}
    chosen = cfg.features.tm_calibration == "table"
    if doc["method"] == "table" and tm_years and target is not None and not chosen:
        warn(f"Landsat TM harmonised with the table's function: {doc['reason']}",
             UserWarning, stacklevel=2)
    ctx.publish(CROSS_CALIBRATION, lambda tmp: write_json(doc, tmp),
                kind="product:cross_calibration",
                inputs=[ctx.workspace.rel(p) for i, j in pairs for s in (season[i], season[j])
                        for p in s.files])
    return doc


def _pair_ratios(season: list[SceneFiles], pairs: list[tuple[int, int]], grid: AnalysisGrid,
                 chunk: int) -> list[crosscal.PairRatio | None]:
    """Each pair's :class:`~minecarbon.features.crosscal.PairRatio`, in the order of ``pairs``.

    A year at a time: its scenes are read once (subsampled, float32) and dropped before the
    next year's, so memory holds one year of scenes whatever the archive's length.
    """
    out: dict[tuple[int, int], crosscal.PairRatio | None] = {}
    for year in sorted({season[i].date.year for i, _ in pairs}):
        mine = [(i, j) for i, j in pairs if season[i].date.year == year]
        needed = sorted({k for pair in mine for k in pair})
        arrays = compute(*[_read(season[k], grid, chunk) for k in needed])  # type: ignore[no-untyped-call]
        seen = {k: np.asarray(a, np.float32) for k, a in zip(needed, arrays, strict=True)}
        for i, j in mine:
            out[(i, j)] = crosscal.pair_ratio(
                seen[i].astype(float), seen[j].astype(float),
                (_is_tm(season[i]), _is_tm(season[j])),
                (season[i].date.month, season[j].date.month))
    return [out[p] for p in pairs]


def _is_tm(scene: SceneFiles) -> bool:
    return scene.sensor in TM_SENSORS


def _read(sf: SceneFiles, grid: AnalysisGrid, chunk: int) -> Any:
    """(band, pixel) dask array of a scene's clear reflectance on an even grid subsample."""
    import dask.array as da

    step = max(1, int(np.ceil(np.sqrt(grid.height * grid.width / SAMPLE_PX))))
    refl = clear_reflectance(read_scene(sf, grid, chunks=chunk), what=f"scene {sf.scene_id}")
    sub = refl.isel(y=slice(0, None, step), x=slice(0, None, step))
    return da.stack([sub[r].data.reshape(-1) for r in crosscal.ROLES])  # type: ignore[no-untyped-call]
