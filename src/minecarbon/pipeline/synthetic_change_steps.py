"""The mapping step's fourth stage: forest types whose model sees no AGC borrow their change.

After the change calibration and the residual offsets, the established stands (forest when
the series begins) of the forest types whose out-of-fold predictions explain none of their
plots (:func:`minecarbon.mapping.synthetic_change.uninformative_strata`) keep each span's level
in its anchor year and take the relative trajectory of the forest whose types' models do see
AGC (:mod:`minecarbon.mapping.synthetic_change`, decision 45). The change calibration's ``b``
is then taken from the informative types' plots only (:func:`informative_plots`), since only
their change is rescaled by it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from minecarbon.errors import warn
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import read_on_grid
from minecarbon.mapping import FOREST_TYPE_LABELS
from minecarbon.mapping.synthetic_change import (
    borrow_change,
    codes_of,
    growth_index,
    uninformative_strata,
)
from minecarbon.pipeline.classify_steps import FOREST_TYPE
from minecarbon.pipeline.step import StepContext


def forest_types(ctx: StepContext, grid: AnalysisGrid, years: list[int],
                 like: xr.DataArray) -> xr.DataArray:
    """(year, y, x) forest-type codes of the classified maps, on ``like``'s coordinates."""
    chunk = ctx.config.compute.chunk_px
    types = xr.concat([read_on_grid(ctx.workspace.path(FOREST_TYPE.format(year=y)), grid,
                                    chunks=chunk, masked=False) for y in years],
                      dim=pd.Index(years, name="year"))
    return types.assign_coords(y=like["y"], x=like["x"])


def informative_plots(ctx: StepContext, oof: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The out-of-fold rows of the types whose models see AGC, and the names of the others.

    All rows (and no names) when ``mapping.synthetic_change`` is off or every judged type is
    uninformative (then nothing is borrowed and ``b`` must come from somewhere). A stratum
    that is not a forest type of the maps (a user's own stratum label) cannot borrow either
    (:func:`borrow_uninformative` finds no pixels of it): its change is rescaled by ``b`` like
    the informative types', so its plots stay in ``b``.
    """
    if not ctx.config.mapping.synthetic_change:
        return oof, []
    found = uninformative_strata(oof)
    strata = sorted(s for s in found if codes_of({s: found[s]}, FOREST_TYPE_LABELS))
    kept = oof[~oof["stratum"].astype(str).isin(strata)]
    if not strata or kept.empty:
        return oof, []
    return kept, strata


def borrow_uninformative(ctx: StepContext, grid: AnalysisGrid, agc: xr.DataArray,
                         oof: pd.DataFrame, reference_year: int
                         ) -> tuple[xr.DataArray, xr.DataArray | None, dict[str, Any]]:
    """The maps with the uninformative types' spans rewritten, the rewritten mask, the record.

    ``agc`` is the (year, y, x) cube of the finished maps, read back from the files the
    mapping step wrote (the growth index needs them, and reading them is cheaper than fitting
    every trajectory twice). The result is lazy; the mask marks the rewritten pixel-years
    (quality 3: level observed, change borrowed). The maps stay as they are, the mask is None
    and the record says why when no type is uninformative, none of them has a forest-type
    code, or no informative pixel is forest in every year to lend its change.
    """
    strata = uninformative_strata(oof)
    record: dict[str, Any] = {"applied": False, "strata": strata}
    codes = codes_of(strata, FOREST_TYPE_LABELS)
    if not codes:
        record["reason"] = ("every forest type's out-of-fold R² is above 0" if not strata else
                            f"no forest-type code for {sorted(strata)}")
        return agc, None, record
    years = [int(y) for y in agc["year"].values]
    types = forest_types(ctx, grid, years, agc)
    reference = int(np.argmin([abs(y - reference_year) for y in years]))
    anchor_types = types.isel(year=reference)
    donor = anchor_types.isin([c for c in FOREST_TYPE_LABELS if c not in codes]) & (
        anchor_types > 0)
    growth, donors = growth_index(agc, agc.notnull(), donor, reference)
    if donors == 0 or not np.all(np.isfinite(growth) & (growth > 0.0)):
        record["reason"] = "no pixel of an informative forest type is forest in every year"
        warn(f"mapping: the forest types {sorted(strata)} see no AGC among their plots, but "
             "no pixel of another type is forest in every year to lend them its change; "
             "their maps keep their own change", stacklevel=2)
        return agc, None, record
    out, borrowed = borrow_change(agc, types, codes, growth, reference)
    record.update({"applied": True, "reference_year": years[reference],
                   "donor_pixels": donors,
                   "growth_index": {str(y): round(float(v), 5)
                                    for y, v in zip(years, growth, strict=True)}})
    return out, borrowed, record
