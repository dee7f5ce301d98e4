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

    Returns the document written: ``method`` (``archive`` or ``table``), the reason, the pairs
    used, the per-band gains with their standard errors and the composed TM → target
    functions.
    """
    cfg = ctx.config
    target = harmonise_target(cfg)
    months = set(cfg.features.growing_season_months)
    tm = [s for s in scenes if s.sensor in TM_SENSORS and s.date.month in months]
    etm = [s for s in scenes if s.sensor == "landsat7" and s.date.month in months]
    doc: dict[str, Any] = {"method": "table", "target": target,
                           "max_days": cfg.features.calibration_max_days, "pairs": []}
    pairs, window = crosscal.widening_pairs(
        [s.date for s in tm], [s.date for s in etm], cfg.features.calibration_max_days,
        cfg.features.calibration_widest_days)
    doc["window_days"] = window
    etm_to_target = transforms("landsat7", target) if target is not None else None
    if cfg.features.tm_calibration == "table" or target is None or etm_to_target is None:
        doc["reason"] = ("features.tm_calibration = table" if cfg.features.tm_calibration
                         == "table" else "no harmonisation target")
    elif not pairs:
        doc["reason"] = (f"no TM and ETM+ scenes of months {sorted(months)} within "
                         f"{window} days of each other")
    else:
        observed = compute([(_read(tm[i], grid, cfg.compute.chunk_px),  # type: ignore[no-untyped-call]
                             _read(etm[j], grid, cfg.compute.chunk_px)) for i, j in pairs])[0]
        gains = crosscal.fit_gains([(np.asarray(a, float), np.asarray(b, float))
                                    for a, b in observed],
                                   [(tm[i].date - etm[j].date).days for i, j in pairs])
        n = next(iter(gains.values())).n_pixels if gains else 0
        doc["pairs"] = [[tm[i].scene_id, etm[j].scene_id] for i, j in pairs]
        if n < MIN_PIXELS:
            doc["reason"] = (f"{n} stable clear pixels in {len(pairs)} pairs "
                             f"(fewer than {MIN_PIXELS})")
        else:
            widened = (f", window widened from {cfg.features.calibration_max_days} days so that "
                       "the seasonal drift could be fitted"
                       if window > cfg.features.calibration_max_days else "")
            source = (f"TM → ETM+ gain fitted on this archive ({len(pairs)} scene pairs ≤ "
                      f"{window} days apart{widened}, {n} pixels; "
                      "features.crosscal), then the table's ETM+ → OLI (Roy et al. 2016)")
            composed = crosscal.compose(gains, etm_to_target, source)
            doc.update(method="archive", reason="", source=source, n_pixels=n,
                       gains={r: {"gain": round(g.gain, 5),
                                  "stderr": None if g.stderr is None else round(g.stderr, 5),
                                  "drift_per_day": None if g.drift_per_day is None
                                  else round(g.drift_per_day, 6)}
                              for r, g in gains.items()},
                       transforms={s: {r: {"slope": t.slope, "intercept": t.intercept}
                                       for r, t in composed.items()} for s in TM_SENSORS})
    chosen = cfg.features.tm_calibration == "table"
    if doc["method"] == "table" and tm and target is not None and not chosen:
        warn(f"Landsat TM harmonised with the table's function: {doc['reason']}",
             UserWarning, stacklevel=2)
    ctx.publish(CROSS_CALIBRATION, lambda tmp: write_json(doc, tmp),
                kind="product:cross_calibration",
                inputs=[ctx.workspace.rel(p) for i, j in pairs for s in (tm[i], etm[j])
                        for p in s.files])
    return doc


def _read(sf: SceneFiles, grid: AnalysisGrid, chunk: int) -> Any:
    """(band, pixel) dask array of a scene's clear reflectance on an even grid subsample."""
    import dask.array as da

    step = max(1, int(np.ceil(np.sqrt(grid.height * grid.width / SAMPLE_PX))))
    refl = clear_reflectance(read_scene(sf, grid, chunks=chunk), what=f"scene {sf.scene_id}")
    sub = refl.isel(y=slice(0, None, step), x=slice(0, None, step))
    return da.stack([sub[r].data.reshape(-1) for r in crosscal.ROLES])  # type: ignore[no-untyped-call]
