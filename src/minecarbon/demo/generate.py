"""Generating the simulated site block by block: provider files and the truth.

:func:`generate_site` writes, into a staging folder, what a data provider would deliver
(GeoTIFF scenes, a DEM, annual land-cover maps, GeoPackage polygons, CSV tables, LAZ clouds)
and, under ``truth/``, the simulator's own truth. Rasters are produced one block at a time and
written window by window, so the large site never sits in memory.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from minecarbon.allometry.equations import ModelTable
from minecarbon.demo import imagery
from minecarbon.demo.climate import climate_series, growth_modifier
from minecarbon.demo.history import simulate_block
from minecarbon.demo.mine import MineLayout, mine_layout
from minecarbon.demo.pointclouds import simulate_als, simulate_tls
from minecarbon.demo.reference import draw_trend_reference
from minecarbon.demo.samples import draw_samples
from minecarbon.demo.scenes import Scene, scene_schedule
from minecarbon.demo.spec import SiteSpec
from minecarbon.demo.survey import place_plots, tree_list
from minecarbon.demo.terrain import elevation_m, illumination, slope_aspect
from minecarbon.errors import InputDataError
from minecarbon.io.pointcloud import write_las
from minecarbon.io.raster import BlockWriter
from minecarbon.io.tables import write_csv, write_json
from minecarbon.io.vector import write_vector
from minecarbon.standard.species import by_code
from minecarbon.types import ForestType

TRUTH_LAYERS = {  # name → (dtype, nodata)
    "agc": ("float32", float("nan")),
    "cover": ("float32", None),
    "species": ("uint8", 0),
    "forest_type": ("uint8", 0),
    "units_l1": ("uint8", 0),
    "units_l2": ("uint8", 0),
}


@dataclass
class Delivery:
    """What the generator wrote: staged provider files by import kind, and truth files."""

    root: Path
    raw: list[tuple[str, Path, str | None]] = field(default_factory=list)  # (kind, path, time)
    truth: list[tuple[Path, str, str | None]] = field(default_factory=list)  # (path, kind, time)


def _block_coords(spec: SiteSpec, r0: int, r1: int, c0: int, c1: int,
                  margin: int = 0) -> tuple[np.ndarray, np.ndarray]:
    g = spec.grid
    p = g.pixel_size_m
    xs = g.x_min_m + (np.arange(c0 - margin, c1 + margin) + 0.5) * p
    ys = g.y_max_m - (np.arange(r0 - margin, r1 + margin) + 0.5) * p
    return np.meshgrid(xs, ys)


def generate_site(spec: SiteSpec, root: Path,
                  progress: Callable[[str, float], None] | None = None) -> Delivery:
    """Write the provider files and the truth of ``spec`` under ``root``.

    Parameters
    ----------
    spec
        The site.
    root
        An empty staging folder.
    progress
        Called with (message, fraction done).

    """
    say = progress or (lambda message, fraction: None)
    out = Delivery(root)
    layout = mine_layout(spec)
    climate = climate_series(spec.years, spec.seed)
    modifier = growth_modifier(climate)
    scenes = scene_schedule(spec)
    grid = spec.grid
    n = spec.n_pixels
    writers: dict[str, BlockWriter] = {}

    def open_writer(key: str, path: Path, dtype: str, bands: tuple[str, ...] = ("",),
                    nodata: float | None = None, tags: dict[str, str] | None = None) -> None:
        writers[key] = BlockWriter(path, grid, dtype, bands, nodata, tags)

    open_writer("dem", root / "dem" / "dem_cgcs2000_gk111.tif", "float32", ("elevation_m",),
                -9999.0, {"UNITS": "m", "VERTICAL_DATUM": "1985 National Height Datum"})
    out.raw.append(("dem", root / "dem" / "dem_cgcs2000_gk111.tif", None))
    for year in spec.years:
        path = root / "landcover" / f"landcover_{year}.tif"
        open_writer(f"lc{year}", path, "uint8", ("landcover",), 0,
                    {"CLASSES": "1 forest, 2 shrub, 3 grass, 4 crop, 5 water, 6 built, 7 mining"})
        out.raw.append(("landcover", path, str(year)))
        for name, (dtype, nodata) in TRUTH_LAYERS.items():
            tpath = root / "truth" / f"{name}_{year}.tif"
            open_writer(f"{name}{year}", tpath, dtype, (name,), nodata)
            out.truth.append((tpath, f"truth:{name}", str(year)))
    for s in scenes:
        path = root / "scenes" / s.file_name
        band_names, tags = SCENE_BANDS[s.sensor]
        open_writer(s.file_name, path, "uint16", band_names, 0, {
            **tags, "ACQUISITION_DATE": s.date, "ROLE": s.role, "SIMULATED": "minecarbon demo"})
        out.raw.append(("scene", path, s.date))

    last_l2 = np.zeros((n, n), np.uint8)
    in_extent = np.zeros((n, n), bool)
    step = spec.chunk_px
    blocks = [(r, c) for r in range(0, n, step) for c in range(0, n, step)]
    try:
        for k, (r0, c0) in enumerate(blocks):
            r1, c1 = min(r0 + step, n), min(c0 + step, n)
            x, y = _block_coords(spec, r0, r1, c0, c1)
            truth = simulate_block(spec, layout, modifier, x, y)
            xe, ye = _block_coords(spec, r0, r1, c0, c1, margin=1)
            dem_e = elevation_m(xe, ye, spec.seed)
            slope, aspect = slope_aspect(dem_e, grid.pixel_size_m)
            illum = illumination(slope, aspect)[1:-1, 1:-1]
            writers["dem"].write(r0, c0, dem_e[1:-1, 1:-1])
            for i, year in enumerate(spec.years):
                writers[f"lc{year}"].write(r0, c0, truth["landcover"][i])
                for name in TRUTH_LAYERS:
                    layer = truth[name][i]
                    if name == "agc":
                        layer = np.where(truth["landcover"][i] == 1, layer, np.nan)
                    writers[f"{name}{year}"].write(r0, c0, layer.astype(TRUTH_LAYERS[name][0]))
            last_l2[r0:r1, c0:c1] = truth["units_l2"][-1]
            in_extent[r0:r1, c0:c1] = truth["in_extent"]
            for s in scenes:
                writers[s.file_name].write(r0, c0, _render(spec, s, truth, illum, x, y))
            say(f"block {k + 1}/{len(blocks)}", (k + 1) / len(blocks) * 0.8)
        for w in writers.values():
            w.close()
    except BaseException:
        for w in writers.values():
            w.abort()
        raise

    _write_vectors(layout, root, out)
    samples_path = root / "samples" / "samples.gpkg"
    write_vector(draw_samples(spec, root, in_extent), samples_path, layer="samples")
    out.raw.append(("samples", samples_path, None))
    reference_path = root / "reference" / "trend_reference.gpkg"
    write_vector(draw_trend_reference(spec, root, in_extent), reference_path, layer="reference")
    out.raw.append(("reference", reference_path, f"{spec.first_year}/{spec.last_year}"))
    climate_path = root / "climate" / "climate_annual.csv"
    write_csv(climate, climate_path)
    out.raw.append(("climate", climate_path, f"{spec.first_year}/{spec.last_year}"))
    say("field survey", 0.85)
    plots = _survey(spec, layout, modifier, last_l2, in_extent, root, out)
    say("laser scans", 0.92)
    _scans(spec, layout, modifier, plots, root, out)
    site = {"spec": spec.record(),
            "grid": grid.to_dict(), "base_years": spec.base_years,
            "scenes": [asdict(s) for s in scenes],
            "events": {name: getattr(layout, name).drop(columns="geometry").to_dict("records")
                       for name in ("damage", "plan", "reclamation", "disturbance")}}
    write_json(site, root / "truth" / "site.json")
    out.truth.append((root / "truth" / "site.json", "truth:site", None))
    say("done", 1.0)
    return out


_C2 = {"SR_SCALE": "2.75e-05", "SR_OFFSET": "-0.2"}
_TM_BANDS = ("SR_B1", "SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B7", "QA_PIXEL")
_OLI_BANDS = ("SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7", "QA_PIXEL")
#: Band descriptions and tags of a delivered scene, per sensor code of :class:`Scene`.
SCENE_BANDS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "tm": (_TM_BANDS, {"SENSOR": "TM (simulated)", **_C2}),
    "etm": (_TM_BANDS, {"SENSOR": "ETM+ (simulated)", **_C2}),
    "oli": (_OLI_BANDS, {"SENSOR": "OLI (simulated)", **_C2}),
    "oli2": (_OLI_BANDS, {"SENSOR": "OLI-2 (simulated)", **_C2}),
    "s2": (("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12", "SCL"),
           {"SENSOR": "MSI (simulated)", "QUANTIFICATION_VALUE": "10000",
            "BOA_ADD_OFFSET": "-1000"}),
}


def _render(spec: SiteSpec, s: Scene, truth: dict[str, np.ndarray], illum: np.ndarray,
            x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """One block of one scene: the SR bands as delivered digital numbers, and the QA layer.

    Landsat: 6 SR bands (Collection-2 Level-2 scaling) and QA_PIXEL; Sentinel-2: 10 bands
    (L2A scaling) and SCL.
    """
    i = s.year - spec.first_year
    lc = truth["landcover"][i]
    optics = "s2" if s.sensor == "s2" else "oli"
    rho = imagery.surface_reflectance(
        lc, truth["cover"][i], truth["species"][i], truth["agc"][i], illum,
        s.month, x, y, spec.seed, s.year, sensor=optics)
    cloud, shadow = imagery.cloud_and_shadow(x, y, spec.seed, s.year, s.month, s.cloud_fraction)
    dilated = imagery.dilated_cloud(x, y, spec.seed, s.year, s.month, s.cloud_fraction)
    rho = imagery.apply_clouds(rho, cloud, shadow, x, y, spec.seed, s.year, s.month,
                               sensor=optics)
    if s.sensor == "s2":
        scl = imagery.scene_classification(lc, cloud, shadow, dilated)
        msi = imagery.to_sensor(rho, "s2")
        return np.concatenate([imagery.to_sentinel2_l2a(msi), scl[None].astype(np.uint16)])
    rho = imagery.to_sensor(rho, s.sensor)
    gap = None
    if s.slc_off:
        g = spec.grid
        half = g.width * g.pixel_size_m / 2
        centre = (g.x_min_m + half, g.y_max_m - g.height * g.pixel_size_m / 2)
        gap = imagery.slc_off_gaps(x, y, centre, spec.seed, s.year, s.month, s.day)
        rho = np.where(gap[None], np.nan, rho)
    qa = imagery.qa_pixel(cloud, shadow, truth["water"], fill=gap, dilated=dilated)
    return np.concatenate([imagery.to_landsat_c2_l2(rho), qa[None]], axis=0)


def _write_vectors(layout: MineLayout, root: Path, out: Delivery) -> None:
    for kind in ("boundary", "damage", "plan", "reclamation", "disturbance"):
        path = root / kind / f"{kind}.gpkg"
        write_vector(getattr(layout, kind), path, layer=kind)
        out.raw.append((kind, path, None))


def _survey(spec: SiteSpec, layout: MineLayout, modifier: np.ndarray, last_l2: np.ndarray,
            in_extent: np.ndarray, root: Path, out: Delivery) -> pd.DataFrame:
    """Plots and their tree lists (the field campaign of the last year)."""
    plots = place_plots(last_l2, in_extent, spec.grid, spec.seed)
    x = plots["x"].to_numpy()[None, :]
    y = plots["y"].to_numpy()[None, :]
    state = simulate_block(spec, layout, modifier, x, y, stand_years=spec.remeasure_years)
    models = ModelTable.default()
    trees = []
    for j, p in enumerate(plots.itertuples()):
        agc = float(np.nan_to_num(state["agc"][-1, 0, j]))
        sp = int(state["species"][-1, 0, j])
        frame = tree_list(p.plot_id, p.x, p.y, spec.pixel_size_m, agc, sp,
                          int(state["species2"][0, j]) if sp else 0,
                          float(state["share2"][0, j]), float(state["age"][0, j]), spec.seed,
                          models)
        trees.append(frame)
    all_trees = pd.concat(trees, ignore_index=True)
    side = spec.pixel_size_m
    plots["agc_t_per_ha"] = np.nan_to_num(state["agc"][-1, 0]).round(3)
    per_plot = all_trees.groupby("plot_id")["agc_kg"].sum().reindex(plots["plot_id"])
    tree_kg = per_plot.fillna(0.0).to_numpy(dtype=float)
    plots["trees_agc_t_per_ha"] = np.round(tree_kg / (side**2 / 10_000) / 1000, 3)
    plots["species"] = state["species"][-1, 0]
    plots["forest_type"] = state["forest_type"][-1, 0]
    plots["unit_l1"] = state["units_l1"][-1, 0]
    write_csv(plots, root / "truth" / "plots_truth.csv")
    out.truth.append((root / "truth" / "plots_truth.csv", "truth:plots", str(spec.last_year)))
    write_csv(all_trees, root / "truth" / "trees_truth.csv")
    out.truth.append((root / "truth" / "trees_truth.csv", "truth:trees", str(spec.last_year)))

    rng = np.random.default_rng([spec.seed, 5150])
    ft_zh = {int(f): f.zh for f in ForestType}
    record = pd.DataFrame({
        "plot_id": plots["plot_id"], "x": plots["x"].round(2), "y": plots["y"].round(2),
        "crs": spec.grid.crs, "side_m": side,
        "survey_date": [f"{spec.last_year}-08-{int(d):02d}" for d in rng.integers(1, 29,
                                                                                  len(plots))],
        "forest_type": [ft_zh.get(int(f), "") for f in plots["forest_type"]],
        "species_group": [by_code(int(s)).zh if s else "" for s in plots["species"]],
    })
    path = root / "plots" / "plots.csv"
    write_csv(record, path)
    out.raw.append(("plots", path, str(spec.last_year)))
    tally = pd.DataFrame({
        "样地号": all_trees["plot_id"], "树号": all_trees["tree_id"],
        "树种": [_spelling(int(c), rng) for c in all_trees["species_code"]],
        "胸径": all_trees["dbh_cm"],
        "树高": np.where(rng.random(len(all_trees)) < 0.15, np.nan, all_trees["height_m"]),
    })
    path = root / "trees" / "trees.csv"
    write_csv(tally, path)
    out.raw.append(("trees", path, str(spec.last_year)))
    for year in spec.remeasure_years:
        _remeasurement(spec, plots, state, year, models, root, out)
    return plots.assign(trees=[t for t in trees])


def _remeasurement(spec: SiteSpec, plots: pd.DataFrame, state: dict[str, np.ndarray],
                   year: int, models: ModelTable, root: Path, out: Delivery) -> None:
    """The last year's plots measured again in ``year``: records, tally and truth of their own.

    Same centres and side; ``plot_id`` ``P001-2012``; the trees drawn from that year's stand
    (its carbon, species and age), with the same crew habits (spellings, 15 % of heights not
    measured). Delivered as ``plots/plots_<year>.csv`` and ``trees/trees_<year>.csv``.
    """
    if not spec.first_year <= year < spec.last_year:
        raise InputDataError(f"re-measurement year {year} is outside the site's years "
                             f"{spec.first_year}–{spec.last_year - 1}",
                             fix="re-measure in a year before the last year's survey")
    i = spec.years.index(year)
    side = spec.pixel_size_m
    ids = [f"{p}-{year}" for p in plots["plot_id"]]
    species = state["species"][i, 0]
    frames = [
        tree_list(pid, float(p.x), float(p.y), side, float(np.nan_to_num(state["agc"][i, 0, j])),
                  int(species[j]), int(state[f"species2_{year}"][0, j]) if species[j] else 0,
                  float(state[f"share2_{year}"][0, j]), float(state[f"age_{year}"][0, j]),
                  spec.seed, models)
        for j, (pid, p) in enumerate(zip(ids, plots.itertuples(), strict=True))]
    trees = pd.concat(frames, ignore_index=True)
    truth = pd.DataFrame({"plot_id": ids, "site_plot_id": plots["plot_id"], "x": plots["x"],
                          "y": plots["y"], "year": year,
                          "agc_t_per_ha": np.nan_to_num(state["agc"][i, 0]).round(3),
                          "species": species, "forest_type": state["forest_type"][i, 0],
                          "unit_l1": state["units_l1"][i, 0], "unit_l2": state["units_l2"][i, 0]})
    write_csv(truth, root / "truth" / f"plots_truth_{year}.csv")
    out.truth.append((root / "truth" / f"plots_truth_{year}.csv", "truth:plots", str(year)))
    rng = np.random.default_rng([spec.seed, 5150, year])
    ft_zh = {int(f): f.zh for f in ForestType}
    record = pd.DataFrame({
        "plot_id": ids, "x": plots["x"].round(2), "y": plots["y"].round(2),
        "crs": spec.grid.crs, "side_m": side,
        "survey_date": [f"{year}-08-{int(d):02d}" for d in rng.integers(1, 29, len(ids))],
        "forest_type": [ft_zh.get(int(f), "") for f in truth["forest_type"]],
        "species_group": [by_code(int(s)).zh if s else "" for s in species],
    })
    path = root / "plots" / f"plots_{year}.csv"
    write_csv(record, path)
    out.raw.append(("plots", path, str(year)))
    tally = pd.DataFrame({
        "样地号": trees["plot_id"], "树号": trees["tree_id"],
        "树种": [_spelling(int(c), rng) for c in trees["species_code"]],
        "胸径": trees["dbh_cm"],
        "树高": np.where(rng.random(len(trees)) < 0.15, np.nan, trees["height_m"]),
    })
    path = root / "trees" / f"trees_{year}.csv"
    write_csv(tally, path)
    out.raw.append(("trees", path, str(year)))


def _spelling(code: int, rng: np.random.Generator) -> str:
    """Species as field crews write them: mostly Chinese, sometimes Latin (old spellings)."""
    g = by_code(code)
    u = rng.random()
    if code == 1 and u < 0.02:
        return "白皮松"  # a lacebark pine: no model of its own, the genus (Pinus) model applies
    if u < 0.85:
        return g.zh
    if u < 0.95:
        return g.latin if g.latin != "Pinus tabuliformis" else "Pinus tabulaeformis"
    return g.en


def _scans(spec: SiteSpec, layout: MineLayout, modifier: np.ndarray, plots: pd.DataFrame,
           root: Path, out: Delivery) -> None:
    """TLS clouds with their tally for two persistent-forest plots, and one ALS tile."""
    persistent = plots[(plots["unit_l2"] == 10) & (plots["trees"].map(len).between(15, 90))]
    chosen = []
    for conifer in (True, False):
        pick = persistent[(persistent["forest_type"] == (1 if conifer else 2))]
        if len(pick):
            chosen.append(pick.iloc[0])
    for p in chosen:
        trees = p["trees"].rename(columns={"x": "x_m", "y": "y_m"})
        cx, cy = float(p["x"]), float(p["y"])
        z = elevation_m(np.array([cx, cx + 15, cx - 15, cx, cx]),
                        np.array([cy, cy, cy, cy + 15, cy - 15]), spec.seed).astype(float)
        ground = (float(z[0]), (z[1] - z[2]) / 30.0, (z[3] - z[4]) / 30.0)
        xyz, cls, truth = simulate_tls(trees, (cx, cy), spec.pixel_size_m, ground, spec.seed)
        laz = root / "tls" / f"tls_{p['plot_id']}.laz"
        write_las(laz, xyz, classification=cls, crs_epsg=4546)
        out.raw.append(("tls", laz, str(spec.last_year)))
        tally = trees[["plot_id", "tree_id", "species_code", "dbh_cm", "height_m", "x_m",
                       "y_m"]].copy()
        tally["species_code"] = [by_code(int(c)).zh for c in tally["species_code"]]
        tally.columns = ["样地号", "树号", "树种", "胸径", "树高", "x", "y"]
        path = root / "tls" / f"tally_{p['plot_id']}.csv"
        write_csv(tally, path)
        out.raw.append(("tls", path, str(spec.last_year)))
        tpath = root / "truth" / f"tls_{p['plot_id']}_trees.csv"
        write_csv(truth, tpath)
        out.truth.append((tpath, "truth:tls", str(spec.last_year)))
    _als(spec, layout, modifier, chosen[0] if chosen else plots.iloc[0], root, out)


def _als(spec: SiteSpec, layout: MineLayout, modifier: np.ndarray, around: pd.Series,
         root: Path, out: Delivery) -> None:
    """A 20 × 20-pixel airborne tile centred on a plot."""
    g = spec.grid
    r, c = int(around["row"]), int(around["col"])
    r0, c0 = max(r - 10, 0), max(c - 10, 0)
    r1, c1 = min(r0 + 20, g.height), min(c0 + 20, g.width)
    x, y = _block_coords(spec, r0, r1, c0, c1)
    state = simulate_block(spec, layout, modifier, x, y)
    height = np.where(state["landcover"][-1] == 1, state["height"][-1], 0.0)
    dem = elevation_m(x, y, spec.seed)
    x0 = g.x_min_m + c0 * g.pixel_size_m
    ymax = g.y_max_m - r0 * g.pixel_size_m
    xyz, ret, nret, cls = simulate_als(height, dem, x0, ymax, g.pixel_size_m, spec.seed,
                                       cover=state["cover"][-1])
    path = root / "als" / "als_tile.laz"
    write_las(path, xyz, classification=cls, crs_epsg=4546,
              extra={"return_number": ret, "number_of_returns": nret})
    out.raw.append(("als", path, str(spec.last_year)))
    tpath = root / "truth" / "als_canopy_height.json"
    write_json({"row0": r0, "col0": c0, "canopy_height_m": np.round(height, 2).tolist()}, tpath)
    out.truth.append((tpath, "truth:als", str(spec.last_year)))


def describe(delivery: Delivery) -> str:
    """A short inventory of a delivery (for logs)."""
    kinds: dict[str, int] = {}
    for kind, _, _ in delivery.raw:
        kinds[kind] = kinds.get(kind, 0) + 1
    return json.dumps(kinds)
