"""GeoPackages written by minecarbon are byte-deterministic (issue 15, point 3)."""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
from shapely.geometry import box

from minecarbon.io.files import sha256_file
from minecarbon.io.vector import read_vector, write_vector


def test_equal_layers_written_at_different_times_have_equal_bytes(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"unit": ["a", "b"]},
                             geometry=[box(0, 0, 30, 30), box(30, 0, 60, 30)], crs="EPSG:32650")
    first, second = tmp_path / "one" / "extent.gpkg", tmp_path / "two" / "extent.gpkg"
    first.parent.mkdir()
    second.parent.mkdir()
    write_vector(frame, first)
    time.sleep(1.1)  # GDAL's default timestamp has one-second resolution
    write_vector(frame, second)
    assert sha256_file(first) == sha256_file(second)
    back = read_vector(second)
    assert list(back["unit"]) == ["a", "b"]
    assert back.geometry.area.sum() == 1800.0


def test_different_layers_have_different_bytes(tmp_path: Path) -> None:
    a = gpd.GeoDataFrame(geometry=[box(0, 0, 30, 30)], crs="EPSG:32650")
    b = gpd.GeoDataFrame(geometry=[box(0, 0, 30, 60)], crs="EPSG:32650")
    write_vector(a, tmp_path / "a.gpkg")
    write_vector(b, tmp_path / "b.gpkg")
    assert sha256_file(tmp_path / "a.gpkg") != sha256_file(tmp_path / "b.gpkg")
