"""Small, valid raw inputs of every kind, on one site, for the import tests.

The site: a 1.2 km square mining-right boundary in EPSG:4546 (CGCS2000 3° GK, CM 111° E, the
project default), a 60 × 60 px scene, DEM and land-cover map of 30 m over it and its buffer.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from affine import Affine
from shapely.geometry import Point, box

CRS = "EPSG:4546"
X0, Y0 = 587_000.0, 4_093_000.0  # lower-left corner of the boundary
SIDE = 1200.0
PIXEL = 30.0
#: The rasters cover the boundary and its 500 m buffer, with a margin.
R_X0, R_Y1, R_N = X0 - 600.0, Y0 + SIDE + 600.0, 80
SCENE = "LC08_L2SP_125034_20200715_20200912_02_T1_SR.tif"
#: Kinds in the order they are imported into the base workspace.
ORDER = ("boundary", "dem", "scene", "landcover", "damage", "reclamation", "plots", "trees",
         "climate", "samples", "tls", "als", "models")
SCENE_BANDS = ("SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7", "QA_PIXEL")


def boundary_frame(dx: float = 0.0, dy: float = 0.0) -> gpd.GeoDataFrame:
    """The mining-right boundary, moved by (dx, dy) metres."""
    return gpd.GeoDataFrame({"name": ["采矿权"]},
                            geometry=[box(X0 + dx, Y0 + dy, X0 + SIDE + dx, Y0 + SIDE + dy)],
                            crs=CRS)


def write_raster(path: Path, data: np.ndarray, *, dtype: str, nodata: float | None,
                 descriptions: tuple[str, ...] = (), crs: str | None = CRS,
                 x0: float = R_X0, y1: float = R_Y1, tags: dict[str, str] | None = None) -> Path:
    """A GeoTIFF of (bands, rows, cols) or (rows, cols) values."""
    values = data if data.ndim == 3 else data[None]
    profile = {"driver": "GTiff", "height": values.shape[1], "width": values.shape[2],
               "count": values.shape[0], "dtype": dtype, "nodata": nodata,
               "transform": Affine(PIXEL, 0, x0, 0, -PIXEL, y1)}
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values.astype(dtype))
        for i, d in enumerate(descriptions, start=1):
            dst.set_band_description(i, d)
        if tags:
            dst.update_tags(**tags)
    return path


def scene_values(seed: int = 0) -> np.ndarray:
    """Landsat C2 L2 digital numbers of plausible reflectance (0.03–0.45), clear QA."""
    rng = np.random.default_rng(seed)
    reflectance = rng.uniform(0.03, 0.45, (6, R_N, R_N))
    dn = np.round((reflectance + 0.2) / 2.75e-5)
    qa = np.full((1, R_N, R_N), 21824.0)  # clear, low confidence of cloud
    return np.concatenate([dn, qa])


def make_good_inputs(folder: Path) -> dict[str, Path]:
    """Write one valid file of every kind into ``folder``; kind → file."""
    from minecarbon.io.pointcloud import write_las

    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    out["boundary"] = folder / "boundary.gpkg"
    boundary_frame().to_file(out["boundary"], engine="pyogrio")
    rng = np.random.default_rng(1)
    out["dem"] = write_raster(folder / "dem.tif", 800 + rng.uniform(0, 50, (R_N, R_N)),
                              dtype="float32", nodata=-9999.0)
    out["scene"] = write_raster(folder / SCENE, scene_values(), dtype="uint16", nodata=0,
                                descriptions=SCENE_BANDS)
    codes = rng.choice([1, 2, 3, 4, 7], (R_N, R_N)).astype("uint8")
    out["landcover"] = write_raster(folder / "landcover_2020.tif", codes, dtype="uint8",
                                    nodata=0)
    damage = gpd.GeoDataFrame(
        {"form": ["挖损", "塌陷"], "year": [2010, 2015]},
        geometry=[box(X0 + 100, Y0 + 100, X0 + 400, Y0 + 400),
                  box(X0 + 600, Y0 + 600, X0 + 900, Y0 + 900)], crs=CRS)
    out["damage"] = folder / "damage.gpkg"
    damage.to_file(out["damage"], engine="pyogrio")
    reclamation = gpd.GeoDataFrame({"year": [2018]},
                                   geometry=[box(X0 + 100, Y0 + 100, X0 + 300, Y0 + 300)],
                                   crs=CRS)
    out["reclamation"] = folder / "reclamation.gpkg"
    reclamation.to_file(out["reclamation"], engine="pyogrio")
    out["plots"] = folder / "plots.csv"
    out["plots"].write_text(
        "plot_id,x,y,crs,side_m,survey_date\n"
        + "".join(f"P{i},{X0 + 150 + 300 * i},{Y0 + 600},EPSG:4546,30,2020-08-0{i + 1}\n"
                  for i in range(3)), encoding="utf-8")
    out["trees"] = folder / "trees.csv"
    out["trees"].write_text(
        "plot_id,tree_id,species,dbh_cm,height_m\n"
        + "".join(f"P{i},T{i}{j},刺槐,{10 + j},{8 + j * 0.5}\n" for i in range(3)
                  for j in range(4)), encoding="utf-8")
    out["climate"] = folder / "climate.csv"
    out["climate"].write_text(
        "year,temperature_c,precipitation_mm\n"
        + "".join(f"{y},{9 + 0.05 * (y - 2000):.2f},{450 + (y % 7) * 10}\n"
                  for y in range(2000, 2025)), encoding="utf-8")
    samples = gpd.GeoDataFrame(
        {"sample_id": [1, 2, 3], "year": [2020] * 3, "landcover": [1, 2, 3]},
        geometry=[Point(X0 + 200 + 300 * i, Y0 + 300) for i in range(3)], crs=CRS)
    out["samples"] = folder / "samples.gpkg"
    samples.to_file(out["samples"], engine="pyogrio")
    xyz = np.column_stack([rng.uniform(0, 20, 5000), rng.uniform(0, 20, 5000),
                           rng.uniform(0, 15, 5000)])
    out["tls"] = write_las(folder / "tls_P1.laz", xyz)
    als = xyz * [10, 10, 1] + [X0 + 200, Y0 + 200, 800]
    out["als"] = write_las(folder / "als_tile.laz", als, crs_epsg=4546)
    out["models"] = folder / "models.csv"
    out["models"].write_text(model_rows(), encoding="utf-8")
    return out


def model_rows() -> str:
    """The packaged biomass-model table, restricted to its first model (all its components)."""
    import csv
    import io
    from importlib.resources import files

    text = (files("minecarbon.standard") / "data" / "biomass_models.csv").read_text("utf-8")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    first = rows[1][0]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([rows[0]] + [r for r in rows[1:]
                                                                   if r and r[0] == first])
    return buffer.getvalue()
