"""The AGC models read only features every year's stack has (issue 16: a sensor may lack bands)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from minecarbon.catalog import Workspace
from minecarbon.io.raster import write_stack
from minecarbon.pipeline.model_steps import MODELS, common_features
from minecarbon.pipeline.step import StepContext


def _stack(names: list[str]) -> xr.Dataset:
    x, y = 500_000 + 15 + 30 * np.arange(4), 4_100_000 - 15 - 30 * np.arange(4)
    ds = xr.Dataset({n: (("y", "x"), np.ones((4, 4), "float32")) for n in names},
                    coords={"x": x, "y": y})
    return ds.rio.write_crs("EPSG:4546")


def test_features_a_year_lacks_are_left_out_with_a_warning(ws: Workspace) -> None:
    folder = ws.path("products/features")
    write_stack(_stack(["ndvi", "sr_swir1", "ndmi_gao"]), folder / "features_2020.tif")
    write_stack(_stack(["ndvi"]), folder / "features_2021.tif")  # e.g. GF-6 WFV: no SWIR
    ctx = StepContext(ws, MODELS, [])
    with pytest.warns(UserWarning, match=r"ndmi_gao, sr_swir1 are missing .* 2021"):
        kept = common_features(ctx, ["ndvi", "sr_swir1", "ndmi_gao"])
    assert kept == ["ndvi"]


def test_nothing_is_left_out_when_every_year_has_every_feature(ws: Workspace) -> None:
    for year in (2020, 2021):
        write_stack(_stack(["ndvi", "sr_swir1"]), ws.path(f"products/features/features_{year}.tif"))
    ctx = StepContext(ws, MODELS, [])
    assert common_features(ctx, ["ndvi", "sr_swir1"]) == ["ndvi", "sr_swir1"]
