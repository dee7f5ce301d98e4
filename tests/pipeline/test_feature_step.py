"""The features step on a tiny hand-made workspace: cloudy years, gap filling, warnings."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import box

from minecarbon.catalog import Workspace
from minecarbon.config import CONFIG_FILE, render_config
from minecarbon.io.raster import read_stack
from minecarbon.pipeline import run_pipeline
from minecarbon.pipeline.steps import default_steps

CRS = "EPSG:4546"
X0, Y0, N = 500_000.0, 4_100_000.0, 24
CLEAR, CLOUD = 21824, 22280  # USGS C2 QA_PIXEL: clear land; high-confidence cloud


def _tif(path: Path, bands: list[np.ndarray], names: list[str], tags: dict[str, str]) -> Path:
    with rasterio.open(path, "w", driver="GTiff", height=N, width=N, count=len(bands),
                       dtype=bands[0].dtype, crs=CRS, transform=from_origin(X0, Y0, 30, 30),
                       nodata=0) as dst:
        for i, (b, n) in enumerate(zip(bands, names, strict=True), start=1):
            dst.write(b, i)
            dst.set_band_description(i, n)
        dst.update_tags(**tags)
    return path


def _scene(folder: Path, stamp: str, cloudy: bool) -> Path:
    rng = np.random.default_rng(int(stamp))
    refl = np.array([0.03, 0.06, 0.04, 0.3, 0.15, 0.07])[:, None, None] + rng.normal(
        0, 0.01, (6, N, N))
    dn = np.round((refl + 0.2) / 2.75e-5).astype("uint16")
    qa = np.full((N, N), CLOUD if cloudy else CLEAR, "uint16")
    names = ["SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7", "QA_PIXEL"]
    return _tif(folder / f"LC08_L2SP_125034_{stamp}_{stamp}_02_T1_SR.tif", [*dn, qa], names,
                {})


@pytest.fixture
def tiny(tmp_path: Path) -> Workspace:
    src = tmp_path / "delivery"
    src.mkdir()
    ws = Workspace.init(tmp_path / "ws")
    (ws.root / CONFIG_FILE).write_text(render_config({
        "project": {"name": "tiny", "crs": CRS, "first_year": 2020, "last_year": 2022},
        "scope": {"buffer_m": 100.0, "pixel_size_m": 30.0},
        "assessment": {"base_years": [2020]},
        "features": {"glcm_window": 3},
    }), encoding="utf-8")
    ws.reload_config()
    inner = box(X0 + 150, Y0 - N * 30 + 150, X0 + N * 30 - 150, Y0 - 150)
    gpd.GeoDataFrame({"name": ["mine"]}, geometry=[inner], crs=CRS).to_file(src / "b.gpkg")
    ws.import_raw("boundary", src / "b.gpkg")
    for year in (2020, 2021, 2022):
        lc = _tif(src / f"landcover_{year}.tif", [np.ones((N, N), "uint8")], ["landcover"], {})
        ws.import_raw("landcover", lc, time=str(year))
    dem = np.add.outer(np.arange(N), np.arange(N)).astype("float32") + 800
    ws.import_raw("dem", _tif(src / "dem.tif", [dem], ["elevation"], {}))
    for stamp, cloudy in (("20200715", False), ("20210715", True), ("20210815", True),
                          ("20220715", False)):
        ws.import_raw("scene", _scene(src, stamp, cloudy))
    yield ws
    ws.close()


def test_a_cloudy_year_is_named_and_filled_from_its_neighbours(tiny: Workspace) -> None:
    with pytest.warns(UserWarning, match=r"year 2021: no clear pixel in scenes "
                      r"LC08_L2SP_125034_20210715"):
        run_pipeline(tiny, default_steps(), until="features")
    quality = pd.read_csv(tiny.path("products/features/composite_quality.csv"))
    row = quality.set_index("year").loc[2021]
    assert row["clear_share"] == 0.0 and row["filled_share"] == 1.0
    stack = read_stack(tiny.path("products/features/features_2021.tif"))
    before = read_stack(tiny.path("products/features/features_2020.tif"))
    # the earlier neighbour wins the tie between 2020 and 2022
    np.testing.assert_array_equal(stack["sr_red"].values, before["sr_red"].values)
    assert {"glcm_nir_contrast", "slope_deg", "tc_disturbance"} <= set(stack.data_vars)


def test_without_gap_filling_a_cloudy_year_gets_no_stack(tiny: Workspace) -> None:
    text = tiny.path(CONFIG_FILE).read_text(encoding="utf-8")
    tiny.path(CONFIG_FILE).write_text(text.replace("gap_fill_years = 2", "gap_fill_years = 0"),
                                      encoding="utf-8")
    tiny.reload_config()
    with pytest.warns(UserWarning, match="year 2021: no composite within 0 years"):
        run_pipeline(tiny, default_steps(), until="features")
    assert not tiny.path("products/features/features_2021.tif").exists()
    assert tiny.path("products/features/features_2022.tif").exists()


def test_consistent_months_keep_the_months_of_most_years() -> None:
    from datetime import date

    from minecarbon.io.scenes import SceneFiles
    from minecarbon.pipeline.feature_steps import consistent_months, season_for_year

    def scene(y: int, m: int) -> SceneFiles:
        return SceneFiles(scene_id=f"S{y}{m:02d}", sensor="landsat8", date=date(y, m, 15),
                          product_level="sr")

    # monthly series in 2004, July–August elsewhere, one year with September only
    scenes = [scene(2004, m) for m in (6, 7, 8, 9)]
    scenes += [scene(y, m) for y in (2001, 2002, 2003) for m in (7, 8)] + [scene(2005, 9)]
    years = range(2001, 2006)
    kept = consistent_months(scenes, years, [6, 7, 8, 9], "auto", 0.5)
    assert kept == [7, 8]
    assert consistent_months(scenes, years, [6, 7, 8, 9], "auto", 0.0) == [6, 7, 8, 9]
    assert [s.date.month for s in season_for_year(scenes, 2004, kept, [6, 7, 8, 9], "auto")] \
        == [7, 8]
    # a year without the kept months falls back to its own
    assert [s.date.month for s in season_for_year(scenes, 2005, kept, [6, 7, 8, 9], "auto")] \
        == [9]


def test_plots_of_a_year_without_scenes_name_the_year_and_the_fix(tiny: Workspace,
                                                                 tmp_path: Path) -> None:
    from minecarbon.errors import InputDataError

    xs = X0 + 200 + 30 * np.arange(12)
    table = pd.DataFrame({"plot_id": [f"P{i:03d}" for i in range(1, 13)], "x": xs,
                          "y": Y0 - 300.0, "crs": CRS, "side_m": 20.0,
                          "survey_date": "2021-08-01"})
    path = tmp_path / "plots.csv"
    table.to_csv(path, index=False)
    tiny.import_raw("plots", path)
    toml = tiny.path(CONFIG_FILE)
    toml.write_text(toml.read_text().replace("gap_fill_years = 2", "gap_fill_years = 0"))
    tiny.reload_config()
    with pytest.raises(InputDataError) as error:
        run_pipeline(tiny, default_steps(), until="features")
    message = str(error.value)
    assert "12 plots of plots.csv (P001, P002, P003, P004, P005 and 7 more)" in message
    assert "surveyed in 2021" in message and "P012" not in message
    assert "minecarbon import scene" in message


def test_bands_left_out_of_mixed_composites_are_warned_once_by_years() -> None:
    """Sentinel-2's red-edge bands beside Landsat: one warning for the years, not one each."""
    import warnings

    from minecarbon.pipeline.feature_steps import warn_left_out

    msi = "nir08;rededge1;rededge2;rededge3"
    rows = {y: {"year": y, "bands_left_out": msi} for y in (2016, 2017, 2018, 2020)}
    rows.update({y: {"year": y, "bands_left_out": ""} for y in (2014, 2015, 2019)})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_left_out(rows, "composites")
        warn_left_out({2015: rows[2015]}, "composites")  # nothing left out: silent
    assert len(caught) == 1
    text = str(caught[0].message)
    assert text.startswith("composites of 2016, 2017, 2018, 2020: bands ['nir08', 'rededge1'")
    with pytest.warns(UserWarning, match="leaf-off composites of 2016–2018: bands"):
        warn_left_out({y: rows[y] for y in (2016, 2017, 2018)}, "leaf-off composites")


def test_scenes_imported_as_landsat_bundles_give_the_same_features(tiny: Workspace,
                                                                    tmp_path: Path) -> None:
    """The same scenes as USGS delivers them (one .tar of per-band files) → the same stacks."""
    import tarfile

    from minecarbon.pipeline.admission import admit

    with pytest.warns(UserWarning, match="year 2021"):
        run_pipeline(tiny, default_steps(), until="features")
    before = {y: read_stack(tiny.path(f"products/features/features_{y}.tif")).load()
              for y in (2020, 2021, 2022)}
    bundles = tmp_path / "downloads"
    bundles.mkdir()
    for rec in tiny.catalog.datasets(kind="raw:scene"):
        stem = Path(rec.path).stem.removesuffix("_SR")
        with rasterio.open(tiny.path(rec.path)) as src, \
                tarfile.open(bundles / f"{stem}.tar", "w") as tf:
            for i, band in enumerate(src.descriptions, start=1):
                one = tmp_path / f"{stem}_{band}.TIF"
                with rasterio.open(one, "w", **(src.profile | {"count": 1})) as dst:
                    dst.write(src.read(i), 1)
                tf.add(one, arcname=one.name)
        tiny.withdraw(rec.path, reason="re-imported as the provider's bundle")
    records = admit(tiny, "scene", bundles)
    assert len(records) == 4 * 7 and all("!" in r.source for r in records)
    with pytest.warns(UserWarning, match="year 2021"):
        run_pipeline(tiny, default_steps(), until="features")
    lineage = tiny.catalog.get("products/features/features_2020.tif").inputs
    assert any(p.endswith("_SR_B4.TIF") for p, _ in lineage), lineage  # made from the bundles
    for year, stack in before.items():
        again = read_stack(tiny.path(f"products/features/features_{year}.tif"))
        assert list(again.data_vars) == list(stack.data_vars) and len(stack.data_vars) > 20
        for name in stack.data_vars:
            assert int(np.isfinite(stack[name].values).sum()) > 0, name
            np.testing.assert_array_equal(again[name].values, stack[name].values, err_msg=name)
