"""Every raster product of the demo workspace opens well in GIS: nodata set, COG when large."""

from __future__ import annotations

from pathlib import Path

import rasterio
from rio_cogeo.cogeo import cog_validate

from minecarbon.io.raster import COG_MIN_PX


def test_every_raster_product_has_nodata_and_large_ones_are_cogs(small_site: Path) -> None:
    tifs = sorted((small_site / "products").rglob("*.tif"))
    assert len(tifs) > 100  # maps of every year, units, features, assessment
    without_nodata, not_cog = [], []
    for path in tifs:
        rel = str(path.relative_to(small_site))
        with rasterio.open(path) as src:
            if src.nodata is None:
                without_nodata.append(rel)
            large = max(src.width, src.height) >= COG_MIN_PX
        # the small site is 200 × 200 px: COGs are checked in tests/io/test_cog.py
        if large and cog_validate(str(path), strict=True, quiet=True) != (True, [], []):
            not_cog.append(rel)
    assert without_nodata == []
    assert not_cog == []
