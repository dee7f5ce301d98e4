"""The simulated coal-mining site: determinism, chunk independence, realism, and truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import rasterio

from minecarbon.demo.climate import climate_series, growth_modifier
from minecarbon.demo.history import simulate_block
from minecarbon.demo.mine import mine_layout
from minecarbon.demo.spec import SiteSpec
from minecarbon.types import AssessmentUnit, DamageForm

SPEC = SiteSpec()
YEARS = SPEC.years


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1)


def _block(spec: SiteSpec, r0: int, r1: int, c0: int, c1: int) -> dict[str, np.ndarray]:
    g = spec.grid
    x, y = np.meshgrid(g.x_coords()[c0:c1], g.y_coords()[r0:r1])
    layout = mine_layout(spec)
    modifier = growth_modifier(climate_series(spec.years, spec.seed))
    return simulate_block(spec, layout, modifier, x, y)


def test_blocks_equal_the_whole() -> None:
    whole = _block(SPEC, 60, 140, 60, 150)
    parts = [[_block(SPEC, 60, 97, 60, 111), _block(SPEC, 60, 97, 111, 150)],
             [_block(SPEC, 97, 140, 60, 111), _block(SPEC, 97, 140, 111, 150)]]
    for name in ("agc", "cover", "species", "units_l2", "landcover"):
        joined = np.concatenate([np.concatenate([p[name] for p in row], axis=-1)
                                 for row in parts], axis=-2)
        np.testing.assert_array_equal(joined, whole[name], err_msg=name)


def test_same_seed_same_site_other_seed_other_site() -> None:
    a = _block(SPEC, 0, 50, 0, 50)
    b = _block(SPEC, 0, 50, 0, 50)
    c = _block(SiteSpec(seed=1), 0, 50, 0, 50)
    np.testing.assert_array_equal(a["agc"], b["agc"])
    assert not np.array_equal(a["agc"], c["agc"])


def _units_from(site: Path, forest_maps: list[Path], forest_code: int) -> Any:
    """The scope library fed the delivered polygons and the given annual land-cover maps."""
    import xarray as xr

    from minecarbon.io.raster import read_on_grid
    from minecarbon.io.vector import read_vector
    from minecarbon.pipeline.scope_steps import load_grid
    from minecarbon.scope.events import clean_events
    from minecarbon.scope.extent import extent_mask
    from minecarbon.scope.units import assessment_units, rasterize_events

    grid = load_grid(site)
    crs = str(grid.crs)
    events = {k: clean_events(read_vector(site / f"raw/{k}/{k}.gpkg"), k, crs, f"{k}.gpkg")
              for k in ("damage", "plan", "reclamation")}
    rasters = rasterize_events(events, grid, chunks=256)
    extent = read_vector(site / "products/units/extent.gpkg").geometry.union_all()
    forest = xr.concat([read_on_grid(p, grid, chunks=256) == forest_code for p in forest_maps],
                       dim=pd.Index(YEARS, name="year")).chunk({"year": -1})
    return assessment_units(forest, rasters, extent_mask(extent, grid, chunks=256)).compute()


def test_units_from_true_masks_equal_truth_pixel_for_pixel(small_site: Path) -> None:
    """The scope stage, fed the delivered polygons and land-cover maps, reproduces truth/."""
    maps = [small_site / f"raw/landcover/landcover_{y}.tif" for y in YEARS]
    units = _units_from(small_site, maps, 1)
    for i, year in enumerate(YEARS):
        for level in ("l1", "l2"):
            truth = _read(small_site / f"truth/units_{level}_{year}.tif")
            mismatch = int((units[level].values[i] != truth).sum())
            assert mismatch == 0, f"{level} {year}: {mismatch} pixels differ"


def test_unit_products_follow_the_delivered_forest_masks(small_site: Path) -> None:
    """Imported maps for every year: ``scope.forest_source = auto`` takes them (not classified)."""
    areas = pd.read_csv(small_site / "products/units/unit_areas.csv")
    assert set(areas["forest_source"]) == {"imported"}
    for year in YEARS[::6]:
        product = _read(small_site / f"products/units/units_l2_{year}.tif")
        truth = _read(small_site / f"truth/units_l2_{year}.tif")
        np.testing.assert_array_equal(product, truth, err_msg=str(year))


def test_every_unit_is_present_and_has_three_plots(small_site: Path) -> None:
    last = _read(small_site / f"truth/units_l2_{SPEC.last_year}.tif")
    plots = pd.read_csv(small_site / "products/units/plot_units.csv")
    present_l2 = {int(c) for c in np.unique(last) if c}
    counts_l2 = plots["unit_l2"].value_counts()
    for code in present_l2:
        assert counts_l2.get(code, 0) >= 3, f"level-2 unit {code} has too few plots"
    counts_l1 = plots["unit_l1"].value_counts()
    for code in {c // 10 for c in present_l2}:
        assert counts_l1.get(code, 0) >= 3
    # all five level-1 units and all three damage forms occur in the site's history
    seen = set()
    for year in YEARS:
        seen |= {int(c) for c in np.unique(_read(small_site / f"truth/units_l2_{year}.tif"))}
    assert {c // 10 for c in seen if c} == {int(u) for u in AssessmentUnit}
    assert {c % 10 for c in seen if c // 10 in (2, 3)} == {int(f) for f in DamageForm}


def test_tree_lists_carry_the_true_agc(small_site: Path) -> None:
    truth = pd.read_csv(small_site / "truth/plots_truth.csv")
    forest = truth[truth["agc_t_per_ha"] > 0]
    assert len(forest) > 50
    error = (forest["trees_agc_t_per_ha"] - forest["agc_t_per_ha"]).abs()
    assert (error <= np.maximum(1.0, 0.04 * forest["agc_t_per_ha"])).all()
    tally = pd.read_csv(small_site / "raw/trees/trees.csv")
    assert list(tally.columns) == ["样地号", "树号", "树种", "胸径", "树高"]
    assert tally["胸径"].between(5, 120).all()
    assert 0.05 < tally["树高"].isna().mean() < 0.25  # some heights are missing, as in the field
    assert tally["树号"].is_unique


def test_agc_is_plausible_and_follows_climate_and_mining(small_site: Path) -> None:
    agc = np.stack([_read(small_site / f"truth/agc_{y}.tif") for y in YEARS])
    units = np.stack([_read(small_site / f"truth/units_l1_{y}.tif") for y in YEARS])
    forest_mean = np.nanmean(agc[-1])
    assert 20 < forest_mean < 80
    # persistent forest grows, and its yearly growth follows the climate modifier
    persistent = (units[-1] == AssessmentUnit.PERSISTENT)
    series = np.nanmean(np.where(persistent, agc, np.nan), axis=(1, 2))
    assert series[-1] > series[0]
    # increments slow down as stands age: remove that trend, the rest is the climate signal
    modifier = growth_modifier(climate_series(YEARS, SPEC.seed))[1:]
    growth = np.diff(series)
    t = np.arange(len(growth))
    trend = np.polyval(np.polyfit(t, growth, 1), t)
    r = np.corrcoef(growth - trend, modifier)[0, 1]
    assert r > 0.8
    # excavated forest is gone; subsided forest loses carbon in its subsidence year
    l2 = _read(small_site / f"truth/units_l2_{SPEC.last_year}.tif")
    excavated = l2 == AssessmentUnit.DAMAGED * 10 + DamageForm.EXCAVATION
    assert excavated.sum() > 50 and np.isnan(agc[-1][excavated]).all()
    damage_year = _block(SPEC, 0, SPEC.n_pixels, 0, SPEC.n_pixels)["damage_year"]
    subsided = (l2 == AssessmentUnit.DAMAGED * 10 + DamageForm.SUBSIDENCE)
    i = np.clip(damage_year - SPEC.first_year, 1, len(YEARS) - 1)
    rows, cols = np.nonzero(subsided)
    before = agc[i[rows, cols] - 1, rows, cols]
    after = agc[i[rows, cols], rows, cols]
    assert subsided.sum() > 100
    assert np.nanmedian(after / before) < 0.9


def test_scenes_schedule_clouds_and_spectra(small_site: Path) -> None:
    site = json.loads((small_site / "truth/site.json").read_text())
    scenes = pd.DataFrame(site["scenes"])
    assert set(scenes["role"]) == {"summer", "leaf-off", "monthly"}
    assert (scenes[scenes["role"] == "leaf-off"].groupby("year").size() == 1).all()
    monthly_years = set(scenes[scenes["role"] == "monthly"]["year"])
    assert monthly_years == set(SPEC.phenology_years)
    # Landsat as USGS delivers it, unpacked: a folder per product, a GeoTIFF per band, MTL
    folders = sorted(p for p in (small_site / "raw/scene").iterdir() if p.is_dir())
    assert len(folders) == len(scenes)
    summer = scenes[(scenes["role"] == "summer") & (scenes["year"] >= 2015)]
    s = summer.sort_values("cloud_fraction").iloc[-1]
    folder = next(p for p in folders if f"_{s.year}{s.month:02d}{s.day:02d}_" in p.name)
    assert folder.name.endswith("_02_T1") and folder.name.startswith("SIM_LC0")
    assert sorted(p.name.removeprefix(folder.name) for p in folder.iterdir()) == sorted([
        *(f"_SR_B{b}.TIF" for b in range(2, 8)), "_MTL.txt", "_QA_PIXEL.TIF"])
    assert f'LANDSAT_PRODUCT_ID = "{folder.name}"' in (
        folder / f"{folder.name}_MTL.txt").read_text()

    def band(name: str) -> np.ndarray:
        with rasterio.open(folder / f"{folder.name}_{name}.TIF") as src:
            assert src.count == 1
            return np.asarray(src.read(1))

    qa = band("QA_PIXEL")
    red = band("SR_B4") * 2.75e-5 - 0.2
    nir = band("SR_B5") * 2.75e-5 - 0.2
    cloud = (qa >> 3) & 1
    assert abs(cloud.mean() - s.cloud_fraction) < 0.12
    lc = _read(small_site / f"raw/landcover/landcover_{s.year}.tif")
    clear = (qa >> 6) & 1 == 1
    ndvi = (nir - red) / (nir + red)
    assert np.median(ndvi[clear & (lc == 1)]) > 0.6
    assert np.median(ndvi[clear & (lc == 7)]) < 0.2


def test_extent_and_grid_match_the_simulated_area(small_site: Path) -> None:
    grid = json.loads((small_site / "work/grid.json").read_text())
    assert grid == SPEC.grid.to_dict()


def test_laser_scans_and_tally(small_site: Path) -> None:
    import laspy

    clouds = sorted((small_site / "raw/tls").glob("*.laz"))
    assert len(clouds) == 2
    for cloud in clouds:
        plot = cloud.stem.removeprefix("tls_")
        las = laspy.read(cloud)
        assert las.header.parse_crs().to_epsg() == 4546
        assert len(las.points) > 200_000
        tally = pd.read_csv(small_site / f"raw/tls/tally_{plot}.csv")
        truth = pd.read_csv(small_site / f"truth/tls_{plot}_trees.csv")
        assert len(tally) == len(truth) > 10
        assert set(tally.columns) >= {"x", "y", "胸径"}
    als = laspy.read(next((small_site / "raw/als").glob("*.laz")))
    assert set(np.unique(als.classification)) >= {2, 5}


def test_sentinel2_scenes_carry_l2a_scaling_and_scl(tmp_path: Path) -> None:
    from minecarbon.demo import imagery
    from minecarbon.demo.generate import _render
    from minecarbon.demo.scenes import Scene

    spec = SiteSpec(sensor="s2")
    truth = _block(spec, 0, 40, 0, 40)
    g = spec.grid
    x, y = np.meshgrid(g.x_coords()[:40], g.y_coords()[:40])
    scene = Scene(2020, 7, 10, 0.3, "summer", "s2")
    assert scene.file_name.startswith("SIM_S2A_MSIL2A_20200710")
    block = _render(spec, scene, truth, np.ones((40, 40), np.float32), x, y)
    assert block.shape == (11, 40, 40)
    cloud, _ = imagery.cloud_and_shadow(x, y, spec.seed, 2020, 7, 0.3)
    scl = block[-1]
    np.testing.assert_array_equal(scl == imagery.SCL_CLOUD_HIGH, cloud)
    rho = (block[:-1].astype(float) - 1000.0) / 10_000.0  # L2A, baseline ≥ 04.00
    clear = scl == imagery.SCL_VEGETATION
    red, nir = rho[2][clear], rho[6][clear]
    assert np.all((rho[:, clear] > -0.01) & (rho[:, clear] < 0.8))
    assert np.median((nir - red) / (nir + red)) > 0.3
