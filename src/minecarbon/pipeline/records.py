"""Reading the imported plot records once, the same way for every step."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from minecarbon.catalog import Workspace
from minecarbon.errors import InputDataError
from minecarbon.io.tables import read_table
from minecarbon.survey.plots import validate_plots

TABLE_SUFFIXES = (".csv", ".xlsx", ".xls")


def read_plot_records(ws: Workspace, paths: list[Path]) -> gpd.GeoDataFrame | None:
    """Every plot table among ``paths``, validated, in the project CRS (None if there is none)."""
    cfg = ws.config
    frames = [validate_plots(read_table(p, as_text=True), p.name, cfg.project.crs,
                             cfg.scope.pixel_size_m)
              for p in paths if p.suffix.lower() in TABLE_SUFFIXES]
    if not frames:
        return None
    plots = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    dup = plots["plot_id"][plots["plot_id"].duplicated()].unique().tolist()
    if dup:
        raise InputDataError(f"plot ids {dup} appear in more than one plot table",
                             fix="give every plot one record")
    return plots
