"""Error-adjusted areas of the cumulative-effect grades from plots measured twice.

Issue 17 point 2, with :mod:`minecarbon.assessment.effect_reference`. The plots measured in
the period's first year ``s`` and again in its last year ``e`` at the same centre give each
its actual gain on the ground; with the map's effect, gain and grade breaks at the plot's
cell, that is a reference grade. The plots' design strata are the level-2 units of
the last project year (the units they are laid out in), counted over the graded pixels.
Without such plots the grades' areas stand as mapped, and the record says why.
"""

from __future__ import annotations

from typing import Any

import dask.array as dsa
import numpy as np
import pandas as pd
import xarray as xr
from dask.base import compute

from minecarbon.assessment.effect_reference import difference_areas, reference_effects
from minecarbon.assessment.grading import EffectGrade, grade
from minecarbon.errors import InputDataError, warn
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import read_on_grid
from minecarbon.io.tables import read_table
from minecarbon.pipeline.model_steps import AGC
from minecarbon.pipeline.records import read_plot_records
from minecarbon.pipeline.step import StepContext

OUT = "products/assessment/"
UNITS_L2 = "products/units/units_l2_{year}.tif"
#: Fewer plot pairs than this and the grades' areas stand as mapped.
MIN_PAIRS = 10
#: The columns of ``area_estimates.csv``, in order.
AREA_COLUMNS = ["layer", "year", "class", "class_zh", "class_en", "mapped_area_ha", "area_ha",
                "area_se_ha", "area_ha_ci_low", "area_ha_ci_high", "method"]


def _pairs(ctx: StepContext, start: int, end: int) -> pd.DataFrame:
    """``x, y, gain`` of every plot centre measured in both ``start`` and ``end``."""
    records = read_plot_records(ctx.workspace, ctx.input_paths("raw:plots"))
    agc_path = ctx.workspace.path("products/plots/plot_agc.csv")
    if records is None or not agc_path.exists():
        return pd.DataFrame(columns=["x", "y", "gain"])
    agc = read_table(agc_path).astype({"plot_id": str}).set_index("plot_id")["agc_t_per_ha"]
    table = pd.DataFrame({
        "plot_id": records["plot_id"].astype(str),
        "x": records["x"].astype(float).round(1), "y": records["y"].astype(float).round(1),
        "year": [getattr(d, "year", None) for d in records["survey_date"]]})
    table["agc"] = table["plot_id"].map(agc)
    first = table[table["year"] == start].drop_duplicates(["x", "y"])
    last = table[table["year"] == end].drop_duplicates(["x", "y"])
    both = last.merge(first, on=["x", "y"], suffixes=("_e", "_s")).dropna(
        subset=["agc_e", "agc_s"])
    return pd.DataFrame({"x": both["x"], "y": both["y"], "gain": both["agc_e"] - both["agc_s"]})


def cumulative_area_estimates(ctx: StepContext, grid: AnalysisGrid, years: list[int],
                              cumulative: dict[str, Any] | None
                              ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The grades' areas (rows of ``area_estimates.csv``) and a record of how they were made."""
    if not cumulative or "breaks_t_per_ha" not in cumulative:
        return pd.DataFrame(), {"applied": False, "reason": "no cumulative effect assessed"}
    start, end = (int(y) for y in cumulative["period"])
    ws = ctx.workspace
    paths = {"effect": ws.path(f"{OUT}cumulative_effect.tif"),
             "grade": ws.path(f"{OUT}cumulative_grade.tif"),
             "units": ws.path(UNITS_L2.format(year=years[-1])),
             "start": ws.path(AGC.format(year=start)), "end": ws.path(AGC.format(year=end))}
    if not all(p.exists() for p in paths.values()):
        return pd.DataFrame(), {"applied": False, "reason": "a map of the period is missing"}
    pairs = _pairs(ctx, start, end)
    if len(pairs) < MIN_PAIRS:
        return pd.DataFrame(), {
            "applied": False, "n_pairs": len(pairs),
            "reason": f"{len(pairs)} plots measured in both {start} and {end} (at least "
                      f"{MIN_PAIRS} are needed); the grades' areas are as mapped"}
    chunk = ctx.config.compute.chunk_px
    layers = {k: read_on_grid(p, grid, chunks=chunk, masked=k in ("effect", "start", "end"))
              for k, p in paths.items()}
    graded = layers["grade"].data.astype("int64")
    units = layers["units"].data.astype("int64")
    inside = graded > 0
    n_grades = len(cumulative["breaks_t_per_ha"]) - 1
    row, col, ok = grid.cells(pairs["x"], pairs["y"])
    row, col, gain = row[ok], col[ok], pairs["gain"].to_numpy()[ok]
    layer_names = list(layers)
    # one pass: the graded pixels per unit and per grade, and every layer at the plots' cells
    by_unit, by_grade, *at = compute(  # type: ignore[no-untyped-call, unused-ignore]
        dsa.bincount(dsa.where(inside, units, 0).ravel(), minlength=256),
        dsa.bincount(graded.ravel(), minlength=n_grades + 1),
        *(layers[k].data.vindex[row, col] for k in layer_names))
    cells = {k: np.asarray(v, dtype=np.float64) for k, v in zip(layer_names, at, strict=True)}
    mapped_gain = np.nan_to_num(cells["end"]) - np.nan_to_num(cells["start"])
    sampled = cells["grade"] > 0
    effect = reference_effects(cells["effect"], gain, mapped_gain)[sampled]
    reference = grade(xr.DataArray(effect), cumulative["breaks_t_per_ha"]).to_numpy()
    strata = cells["units"][sampled].astype(int)
    population = {int(u): int(n) for u, n in enumerate(by_unit) if u > 0 and n > 0}
    keep = np.isin(strata, list(population))
    try:
        est = difference_areas(strata[keep], cells["grade"][sampled][keep].astype(int),
                               reference[keep], population,
                               {k: int(by_grade[k]) for k in range(1, n_grades + 1)},
                               list(range(1, n_grades + 1)), grid.pixel_area_ha)
    except InputDataError as error:
        warn(f"no error-adjusted areas of the cumulative-effect grades: {error}", stacklevel=2)
        return pd.DataFrame(), {"applied": False, "reason": str(error)}
    names = ({g.value: (g.zh, g.en) for g in EffectGrade} if n_grades == len(EffectGrade)
             else {k: (f"{k} 级", f"grade {k}") for k in range(1, n_grades + 1)})
    method = (f"difference estimator (Stehman 2014), {est.n_plots} plots measured in {start} "
              f"and {end}, {est.n_strata_sampled} level-2 unit strata; "
              f"{100 * est.unsampled_share:.0f} % of the graded pixels in unsampled strata")
    table = est.table.assign(layer=f"cumulative {start}–{end}", year=end,
                             class_zh=[names[int(k)][0] for k in est.table["class"]],
                             class_en=[names[int(k)][1] for k in est.table["class"]],
                             method=method)[AREA_COLUMNS]
    record = {"applied": True, "n_pairs": est.n_plots, "strata": est.n_strata_sampled,
              "unsampled_share": round(est.unsampled_share, 4)}
    return table, record
