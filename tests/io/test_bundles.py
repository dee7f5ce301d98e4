"""Providers' scene bundles (a Landsat C2 .tar, a Sentinel-2 .SAFE.zip) unpacked for import."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from minecarbon.errors import InputDataError
from minecarbon.features.preprocess import clear_reflectance
from minecarbon.grid import AnalysisGrid
from minecarbon.io.bundles import bundle_stem, is_bundle, is_scene_ancillary, unpack
from minecarbon.io.scenes import find_scenes, read_scene

CRS = "EPSG:32649"
X0, Y0 = 600_000.0, 4_100_000.0
GRID = AnalysisGrid(CRS, 30.0, X0, Y0, 8, 6)
LANDSAT = "LC08_L2SP_125034_20200715_20200912_02_T1"
SAFE = "S2A_MSIL2A_20220715T031541_N0400_R118_T49SFB_20220715T072511.SAFE"
S2_STEM = "T49SFB_20220715T031541"
#: What USGS puts in a Landsat 8 C2 L2 bundle besides the SR bands and QA_PIXEL.
LANDSAT_EXTRAS = ("ANG.txt", "MTL.json", "MTL.txt", "MTL.xml", "QA_RADSAT.TIF",
                  "SR_QA_AEROSOL.TIF", "ST_ATRAN.TIF", "ST_QA.TIF", "thumb_small.jpeg")


def _tif(value: float, dtype: str, *, pixel: float = 30.0, n: int = 1) -> bytes:
    """A one-band GeoTIFF over the grid, at ``pixel`` metres, as bytes."""
    side = round(GRID.width * 30.0 / pixel), round(GRID.height * 30.0 / pixel)
    buf = io.BytesIO()
    with rasterio.MemoryFile() as mem:
        with mem.open(driver="GTiff", width=side[0], height=side[1], count=n, dtype=dtype,
                      crs=CRS, transform=from_origin(X0, Y0, pixel, pixel)) as dst:
            dst.write(np.full((n, side[1], side[0]), value, dtype))
        buf.write(mem.read())
    return buf.getvalue()


def _dn(reflectance: float) -> int:
    return round((reflectance + 0.2) / 2.75e-5)  # USGS C2 L2: ρ = DN × 2.75e-5 − 0.2


def _landsat_members() -> dict[str, bytes]:
    members = {f"{LANDSAT}_SR_B{b}.TIF": _tif(_dn(0.02 * b), "uint16") for b in range(1, 8)}
    members[f"{LANDSAT}_QA_PIXEL.TIF"] = _tif(21824, "uint16")  # clear land
    members[f"{LANDSAT}_ST_B10.TIF"] = _tif(44000, "uint16")
    for extra in LANDSAT_EXTRAS:
        members[f"{LANDSAT}_{extra}"] = (_tif(1, "uint8") if extra.endswith(".TIF")
                                         else b"GROUP = LANDSAT_METADATA_FILE\n")
    return members


def _tar(path: Path, members: dict[str, bytes], mode: str = "w") -> Path:
    with tarfile.open(path, mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def test_bundle_names() -> None:
    assert is_bundle(Path("a.TAR")) and is_bundle(Path("b.tar.gz")) and is_bundle(Path("c.zip"))
    assert not is_bundle(Path("d.tif"))
    assert bundle_stem(Path(f"{LANDSAT}.tar.gz")) == LANDSAT
    assert bundle_stem(Path(f"{SAFE}.zip")) == SAFE


def test_ancillaries_are_told_from_what_the_pipeline_reads() -> None:
    extra = [f"{LANDSAT}_{x}" for x in LANDSAT_EXTRAS if not x.startswith(("MTL", "ANG"))]
    extra += [f"LT05_L2SP_123032_20050801_20200902_02_T1_{x}" for x in
              ("SR_ATMOS_OPACITY.TIF", "SR_CLOUD_QA.TIF", "ST_CDIST.TIF", "thumb_large.jpeg")]
    extra += [f"x/{SAFE}/manifest.safe", f"{SAFE}/GRANULE/g/QI_DATA/MSK_CLDPRB_20m.jp2"]
    read = [f"{LANDSAT}_{x}" for x in ("SR_B4.TIF", "QA_PIXEL.TIF", "MTL.txt", "ANG.txt")]
    read += [f"{SAFE}/GRANULE/g/IMG_DATA/R10m/{S2_STEM}_B04_10m.jp2", f"{SAFE}/MTD_MSIL2A.xml",
             f"{LANDSAT}_SR.tif", "my_scene_2020.tif", "dem.tif"]  # multi-band, unknown: checked
    assert [n for n in extra if not is_scene_ancillary(Path(n))] == []
    assert [n for n in read if is_scene_ancillary(Path(n))] == []


@pytest.mark.parametrize("suffix,mode", [(".tar", "w"), (".tar.gz", "w:gz")])
def test_landsat_bundle_keeps_the_bands_qa_and_metadata(tmp_path: Path, suffix: str,
                                                        mode: str) -> None:
    bundle = _tar(tmp_path / f"{LANDSAT}{suffix}", _landsat_members(), mode)
    got = unpack(bundle, tmp_path / "out")
    names = sorted(n.name for _, n, _ in got.files)
    assert names == sorted([f"{LANDSAT}_SR_B{b}.TIF" for b in range(1, 8)]
                           + [f"{LANDSAT}_{x}" for x in ("QA_PIXEL.TIF", "ST_B10.TIF", "ANG.txt",
                                                         "MTL.json", "MTL.txt", "MTL.xml")])
    assert {n.parent for _, n, _ in got.files} == {Path(LANDSAT)}  # flat members: a folder
    assert sorted(Path(m).name for m in got.left_out) == sorted(
        f"{LANDSAT}_{x}" for x in ("QA_RADSAT.TIF", "SR_QA_AEROSOL.TIF",
                                   "ST_ATRAN.TIF", "ST_QA.TIF", "thumb_small.jpeg"))
    written = [p for p, _, _ in got.files]
    assert all(p.is_file() and p.is_relative_to(tmp_path / "out") for p in written)
    (scene,) = find_scenes(written)
    assert (scene.sensor, str(scene.date), scene.product_level) == ("landsat8", "2020-07-15",
                                                                    "sr")
    assert {"B2", "B4", "B5", "B7"} <= set(scene.bands) and scene.qa is not None
    refl = clear_reflectance(read_scene(scene, GRID))
    assert refl["red"].size == GRID.width * GRID.height
    np.testing.assert_allclose(refl["red"].values, 0.08, atol=2e-5)  # SR_B4 = 0.02 × 4
    np.testing.assert_allclose(refl["swir2"].values, 0.14, atol=2e-5)


def _safe_zip(path: Path) -> Path:
    granule = f"{SAFE}/GRANULE/L2A_T49SFB_A036912_20220715T032628/IMG_DATA"
    members = {f"{SAFE}/MTD_MSIL2A.xml": b"<xml/>", f"{SAFE}/manifest.safe": b"<xml/>"}
    for res, bands in ((10, ("B02", "B03", "B04", "B08")),
                       (20, ("B02", "B03", "B04", "B05", "B8A", "B11", "B12", "SCL")),
                       (60, ("B01", "B02", "B03", "B04", "B8A", "B11", "B12", "SCL"))):
        for band in bands:
            # L2A from baseline 04.00: ρ = (DN − 1000) / 10 000; the coarser copies differ so
            # that reading one of them shows
            dn = 4 if band == "SCL" else 1000 + {10: 500, 20: 900, 60: 1300}[res]
            members[f"{granule}/R{res}m/{S2_STEM}_{band}_{res}m.tif"] = _tif(
                dn, "uint8" if band == "SCL" else "uint16", pixel=float(res))
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_safe_zip_keeps_each_band_at_its_finest_and_reads_the_baseline(tmp_path: Path) -> None:
    got = unpack(_safe_zip(tmp_path / f"{SAFE}.zip"), tmp_path / "out")
    names = {n.name for _, n, _ in got.files}
    assert {f"{S2_STEM}_B04_10m.tif", f"{S2_STEM}_B11_20m.tif", f"{S2_STEM}_SCL_20m.tif",
            f"{S2_STEM}_B01_60m.tif", "MTD_MSIL2A.xml"} <= names
    assert not {f"{S2_STEM}_B04_20m.tif", f"{S2_STEM}_B04_60m.tif", f"{S2_STEM}_SCL_60m.tif",
                "manifest.safe"} & names
    assert all(n.parts[0] == SAFE for _, n, _ in got.files)  # one top folder: no extra folder
    assert len(got.files) == 4 + 4 + 1 + 1 + 1  # 10 m: 4; 20 m: 4 more and SCL; 60 m: B01; MTD
    (scene,) = find_scenes([p for p, _, _ in got.files])
    assert scene.sensor == "sentinel2" and scene.processing_baseline == 4.0
    refl = clear_reflectance(read_scene(scene, GRID))
    red = refl["red"].values
    assert red.size == GRID.width * GRID.height
    np.testing.assert_allclose(red, 0.05, atol=1e-6)  # the 10 m B04: (1500 − 1000) / 1e4


def test_find_scenes_reads_a_band_at_its_finest_whatever_the_file_order(tmp_path: Path) -> None:
    granule = tmp_path / SAFE / "GRANULE" / "L2A_T49SFB" / "IMG_DATA"
    paths = []
    for res, dn in ((60, 2300), (20, 1900), (10, 1500)):
        path = granule / f"R{res}m" / f"{S2_STEM}_B04_{res}m.tif"
        path.parent.mkdir(parents=True)
        path.write_bytes(_tif(dn, "uint16", pixel=float(res)))
        paths.append(path)
    (scene,) = find_scenes(paths)
    assert scene.bands["B4"][0] == paths[-1] and scene.processing_baseline == 4.0


def test_a_member_outside_its_folder_refuses_the_bundle(tmp_path: Path) -> None:
    bundle = _tar(tmp_path / "evil.tar", {"../outside_SR_B4.TIF": b"x"})
    with pytest.raises(InputDataError, match=r"evil\.tar.*outside its folder"):
        unpack(bundle, tmp_path / "out")
    assert not (tmp_path / "outside_SR_B4.TIF").exists() and not (tmp_path / "out").exists()


def test_a_link_in_a_bundle_refuses_it(tmp_path: Path) -> None:
    bundle = tmp_path / f"{LANDSAT}.tar"
    with tarfile.open(bundle, "w") as tf:
        link = tarfile.TarInfo(f"{LANDSAT}_SR_B4.TIF")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
    with pytest.raises(InputDataError, match="link"):
        unpack(bundle, tmp_path / "out")


def test_an_incomplete_download_is_named(tmp_path: Path) -> None:
    whole = _tar(tmp_path / "whole.tar.gz", _landsat_members(), "w:gz").read_bytes()
    bundle = tmp_path / f"{LANDSAT}.tar.gz"
    bundle.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputDataError, match=rf"{LANDSAT}\.tar\.gz.*download it again"):
        unpack(bundle, tmp_path / "out")


def test_a_bundle_without_bands_is_refused(tmp_path: Path) -> None:
    bundle = _tar(tmp_path / f"{LANDSAT}.tar", {f"{LANDSAT}_MTL.txt": b"GROUP = x\n",
                                                f"{LANDSAT}_ANG.txt": b"x"})
    with pytest.raises(InputDataError, match="no band the pipeline reads"):
        unpack(bundle, tmp_path / "out")


def test_a_damaged_member_names_the_bundle(tmp_path: Path) -> None:
    """A zip whose member's bytes were damaged in transfer: the CRC check catches it."""
    bundle = tmp_path / f"{SAFE}.zip"
    data = _tif(1500, "uint16", pixel=10.0)
    with zipfile.ZipFile(bundle, "w") as zf:  # stored: the damage reaches the bytes unchanged
        zf.writestr(f"{SAFE}/GRANULE/g/IMG_DATA/R10m/{S2_STEM}_B04_10m.tif", data)
    raw = bytearray(bundle.read_bytes())
    at = raw.index(data[200:240])
    raw[at:at + 40] = bytes(40)
    bundle.write_bytes(bytes(raw))
    with pytest.raises(InputDataError, match=rf"{SAFE}\.zip.*download it again"):
        unpack(bundle, tmp_path / "out")
