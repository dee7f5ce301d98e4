"""The demo's Landsat scenes packed as USGS Collection-2 Level-2 bundles (decision 55)."""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from minecarbon.demo._usgs import is_landsat_scene, landsat_bundle, product_id
from minecarbon.io.bundles import unpack
from minecarbon.io.scenes import find_scenes

BANDS = ("SR_B1", "SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B7", "QA_PIXEL")  # TM/ETM+


def _rendered(folder: Path, name: str) -> Path:
    path = folder / name
    data = np.arange(7 * 12 * 10, dtype="uint16").reshape(7, 12, 10) + 9000
    with rasterio.open(path, "w", driver="GTiff", width=10, height=12, count=7, dtype="uint16",
                       crs="EPSG:4546", transform=from_origin(587_000, 4_094_000, 30, 30),
                       nodata=0) as dst:
        dst.write(data)
        for i, band in enumerate(BANDS, start=1):
            dst.set_band_description(i, band)
        dst.update_tags(ACQUISITION_DATE="2007-08-28", SR_SCALE="2.75e-05", SR_OFFSET="-0.2",
                        ROLE="summer")
    return path


def test_product_ids_follow_the_usgs_convention() -> None:
    assert product_id(Path("SIM_LT05_L2SP_125034_20070828_SR.tif")) == (
        "SIM_LT05_L2SP_125034_20070828_20070913_02_T1")
    assert product_id(Path("SIM_LC09_L2SP_125034_20221231_SR.tif")) == (
        "SIM_LC09_L2SP_125034_20221231_20230116_02_T1")  # across the year's end
    assert is_landsat_scene(Path("SIM_LE07_L2SP_125034_20120716_SR.tif"))
    assert not is_landsat_scene(Path("SIM_S2A_MSIL2A_20200710_T49SFB.tif"))
    with pytest.raises(ValueError, match="not a rendered Landsat scene"):
        product_id(Path("SIM_S2A_MSIL2A_20200710_T49SFB.tif"))


def test_a_rendered_scene_becomes_the_bundle_a_reader_unpacks_to_the_same_values(
        tmp_path: Path) -> None:
    rendered = _rendered(tmp_path, "SIM_LT05_L2SP_125034_20070828_SR.tif")
    bundle = landsat_bundle(rendered, tmp_path / "bundles")
    pid = "SIM_LT05_L2SP_125034_20070828_20070913_02_T1"
    assert bundle.name == f"{pid}.tar"
    with tarfile.open(bundle) as tf:
        assert sorted(tf.getnames()) == sorted([f"{pid}_{b}.TIF" for b in BANDS]
                                               + [f"{pid}_MTL.txt"])
        mtl = tf.extractfile(f"{pid}_MTL.txt").read().decode()  # type: ignore[union-attr]
    assert 'SPACECRAFT_ID = "LANDSAT_5"' in mtl and "DATE_ACQUIRED = 2007-08-28" in mtl
    assert "REFLECTANCE_MULT_BAND_7 = 2.75e-05" in mtl and "REFLECTANCE_ADD_BAND_1 = -0.2" in mtl
    got = unpack(bundle, tmp_path / "raw")
    assert got.left_out == [] and len(got.files) == 8
    (scene,) = find_scenes([p for p, _, _ in got.files])
    assert (scene.scene_id, scene.sensor, str(scene.date)) == (pid, "landsat5", "2007-08-28")
    assert scene.qa is not None and len(scene.bands) == 6
    with rasterio.open(rendered) as src:
        for index, band in enumerate(BANDS, start=1):
            path = tmp_path / "raw" / pid / f"{pid}_{band}.TIF"
            with rasterio.open(path) as one:
                assert one.nodata == (1 if band == "QA_PIXEL" else 0)
                assert one.tags()["ACQUISITION_DATE"] == "2007-08-28"
                np.testing.assert_array_equal(one.read(1), src.read(index), err_msg=band)
