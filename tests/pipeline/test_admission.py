"""Admission of raw data (issue 15): warnings for usable input, --replace, withdrawal."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from minecarbon.catalog import Workspace
from minecarbon.cli.main import main
from minecarbon.errors import CatalogError, InputDataError
from minecarbon.pipeline.admission import admit
from minecarbon.pipeline.runner import signature, step_inputs
from minecarbon.pipeline.steps import default_steps
from tests.pipeline._inputs import SCENE_BANDS, X0, scene_values, write_raster


@pytest.fixture
def copy(base: Path, tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(base, ws)
    return ws


def run_cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def test_a_scene_over_part_of_the_extent_is_admitted_with_a_warning(
        copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = "LC08_L2SP_125034_20200901_20200912_02_T1_SR.tif"
    path = write_raster(tmp_path / name, scene_values(), dtype="uint16", nodata=0,
                        descriptions=SCENE_BANDS, x0=X0 + 900.0)
    code, err = run_cli(capsys, "import", "scene", path, "-w", copy)
    assert code == 0, err
    assert "warning" in err and name in err and "of the monitoring extent" in err
    assert (copy / "raw" / "scene" / name).exists()


def test_unknown_land_cover_codes_beside_known_ones_are_named_in_a_warning(
        copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    codes = np.ones((80, 80), "uint8")
    codes[:10] = 42
    path = write_raster(tmp_path / "lc_2021.tif", codes, dtype="uint8", nodata=0)
    code, err = run_cli(capsys, "import", "landcover", path, "-w", copy)
    assert code == 0, err
    assert "[42]" in err and "lc_2021.tif" in err


def test_trees_before_plots_are_admitted_with_a_warning(
        good: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "fresh"
    assert main(["--quiet", "init", str(ws)]) == 0
    code, err = run_cli(capsys, "import", "trees", good["trees"], "-w", ws)
    assert code == 0, err
    assert "no plot table is imported yet" in err


def test_replace_withdraws_the_map_of_the_same_year_and_keeps_it(
        copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_raster(tmp_path / "lc_new_2020.tif", np.ones((80, 80)), dtype="uint8", nodata=0)
    code, err = run_cli(capsys, "import", "landcover", path, "-w", copy, "--replace")
    assert code == 0, err
    with Workspace.open(copy) as ws:
        maps = [r.path for r in ws.catalog.datasets(kind="raw:landcover")]
        gone = ws.catalog.withdrawals()
    assert maps == ["raw/landcover/lc_new_2020.tif"]
    assert [w.path for w in gone] == ["raw/landcover/landcover_2020.tif"]
    assert "lc_new_2020.tif" in gone[0].reason
    assert (copy / gone[0].moved_to).is_file()
    assert not (copy / "raw/landcover/landcover_2020.tif").exists()


def test_a_corrected_file_of_the_same_name_replaces_the_old_one(
        copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fixed = tmp_path / "climate.csv"
    fixed.write_text("year,temperature_c,precipitation_mm\n"
                     + "".join(f"{y},10.0,500\n" for y in range(2000, 2025)), encoding="utf-8")
    code, err = run_cli(capsys, "import", "climate", fixed, "-w", copy)
    assert code == 2 and "--replace" in err
    code, err = run_cli(capsys, "import", "climate", fixed, "-w", copy, "--replace")
    assert code == 0, err
    assert (copy / "raw/climate/climate.csv").read_bytes() == fixed.read_bytes()
    with Workspace.open(copy) as ws:
        assert len(ws.catalog.withdrawals()) == 1
        assert ws.verify() == []


def test_remove_withdraws_and_the_steps_reading_it_re_run(
        copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    steps = {s.name: s for s in default_steps()}
    with Workspace.open(copy) as ws:
        before = {n: signature(ws, steps[n], step_inputs(ws, steps[n]))
                  for n in ("assessment", "features", "scope")}
    code, err = run_cli(capsys, "remove", "raw/climate/climate.csv", "-w", copy,
                        "--reason", "wrong station")
    assert code == 0, err
    with Workspace.open(copy) as ws:
        after = {n: signature(ws, steps[n], step_inputs(ws, steps[n]))
                 for n in ("assessment", "features", "scope")}
        (withdrawal,) = ws.catalog.withdrawals()
        assert ws.verify() == []
        assert not ws.catalog.datasets(kind="raw:climate")
    assert after["assessment"] != before["assessment"]
    assert after["features"] == before["features"]
    assert after["scope"] == before["scope"]
    assert withdrawal.reason == "wrong station"
    assert withdrawal.path == "raw/climate/climate.csv"
    assert (copy / withdrawal.moved_to).is_file()


def test_a_bad_file_no_longer_blocks_a_corrected_one_after_removal(
        copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = tmp_path / "climate_v2.csv"
    new.write_text("year,temperature_c,precipitation_mm\n2010,9,500\n2011,9.5,520\n",
                   encoding="utf-8")
    code, _ = run_cli(capsys, "import", "climate", new, "-w", copy)
    assert code == 2
    assert run_cli(capsys, "remove", "raw/climate/climate.csv", "-w", copy)[0] == 0
    code, err = run_cli(capsys, "import", "climate", new, "-w", copy)
    assert code == 0, err


def test_remove_of_a_folder_withdraws_every_file_in_it(copy: Path) -> None:
    with Workspace.open(copy) as ws:
        moved = ws.withdraw("raw/tls", reason="rescanned")
        assert moved and all(m.startswith("withdrawn/") for m in moved)
        assert not ws.catalog.datasets(kind="raw:tls")
        assert len(ws.catalog.withdrawals()) == len(moved)


def test_products_cannot_be_withdrawn(copy: Path) -> None:
    with Workspace.open(copy) as ws, pytest.raises(CatalogError, match="not an imported raw"):
        ws.withdraw("catalog.sqlite")


def test_admit_is_the_library_api_of_the_checks(copy: Path, tmp_path: Path) -> None:
    bad = tmp_path / "c.csv"
    bad.write_text("year,temperature_c,precipitation_mm\n2030,warm,1\n", encoding="utf-8")
    with Workspace.open(copy) as ws:
        with pytest.raises(InputDataError, match="row 2, column temperature_c"):
            admit(ws, "climate", bad)
        assert not ws.path("raw/climate/c.csv").exists()


def test_a_species_of_no_group_is_named_in_a_warning(
        copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trees = tmp_path / "more_trees.csv"
    trees.write_text("plot_id,tree_id,species,dbh_cm,height_m\nP0,Z1,外星树,12,9\n"
                     "P0,Z2,刺槐,14,10\n", encoding="utf-8")
    code, err = run_cli(capsys, "import", "trees", trees, "-w", copy)
    assert code == 0, err
    assert "外星树" in err and "刺槐" not in err and "generic" in err


def test_a_tree_list_with_invalid_rows_is_admitted_only_on_request(
        copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trees = tmp_path / "late.csv"
    trees.write_text("plot_id,tree_id,species,dbh_cm,height_m\nP0,Z1,刺槐,12,9\n"
                     "P0,Z2,刺槐,9999,10\n", encoding="utf-8")
    code, err = run_cli(capsys, "import", "trees", trees, "-w", copy)
    assert code == 2 and "--skip-invalid" in err and "row 3" in err
    code, err = run_cli(capsys, "import", "trees", trees, "-w", copy, "--skip-invalid")
    assert code == 0, err
    assert "row 3" in err and "plots agc" in err
    assert (copy / "raw/trees/late.csv").exists()


LANDSAT = "LC08_L2SP_125034_20200801_20200912_02_T1"


def _landsat_bundle(tmp_path: Path, *, red_dn: float | None = None) -> Path:
    """A Landsat C2 L2 .tar as USGS delivers it: one file per band, QA, MTL and extras."""
    import tarfile

    values = scene_values(seed=3)
    if red_dn is not None:
        values[2] = red_dn
    folder = tmp_path / "bundle_members"
    folder.mkdir()
    for name, band in zip(SCENE_BANDS, values, strict=True):
        write_raster(folder / f"{LANDSAT}_{name}.TIF", band, dtype="uint16",
                     nodata=1 if name == "QA_PIXEL" else 0)
    (folder / f"{LANDSAT}_MTL.txt").write_text("GROUP = LANDSAT_METADATA_FILE\n")
    (folder / f"{LANDSAT}_ANG.txt").write_text("GROUP = FILE_HEADER\n")
    write_raster(folder / f"{LANDSAT}_QA_RADSAT.TIF", values[0] * 0, dtype="uint16", nodata=None)
    (folder / f"{LANDSAT}_thumb_small.jpeg").write_bytes(b"\xff\xd8\xff\xe0")
    bundle = tmp_path / f"{LANDSAT}.tar"
    with tarfile.open(bundle, "w") as tf:
        for member in sorted(folder.iterdir()):
            tf.add(member, arcname=member.name)
    return bundle


def test_a_landsat_bundle_is_imported_member_by_member_with_its_origin(
        copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from minecarbon.io.files import sha256_file
    from minecarbon.io.scenes import find_scenes

    bundle = _landsat_bundle(tmp_path)
    code, err = run_cli(capsys, "import", "scene", bundle, "-w", copy)
    assert code == 0, err
    assert f"{LANDSAT}.tar: 9 members imported; left out 2" in err
    assert "QA_RADSAT.TIF" in err and "thumb_small.jpeg" in err
    with Workspace.open(copy) as ws:
        records = [r for r in ws.catalog.datasets(kind="raw:scene")
                   if r.path.startswith(f"raw/scene/{LANDSAT}/")]
    assert len(records) == 9  # six SR bands, QA_PIXEL, MTL, ANG
    band4 = next(r for r in records if r.path.endswith("_SR_B4.TIF"))
    assert band4.source.startswith(f"{bundle.resolve()}!{LANDSAT}_SR_B4.TIF (bundle sha256 ")
    assert sha256_file(bundle) in band4.source
    (scene,) = find_scenes([copy / r.path for r in records])
    assert scene.scene_id == LANDSAT and len(scene.bands) == 6 and scene.qa is not None
    assert not any((copy / "work" / "unpack").iterdir())  # the staging folder is gone
    code, err = run_cli(capsys, "import", "scene", bundle, "-w", copy)  # again: a no-op
    assert code == 0, err


def test_a_bundle_with_a_bad_band_leaves_nothing_behind(
        copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = _landsat_bundle(tmp_path, red_dn=60_000.0)  # ρ = 1.45: a wrong scale
    code, err = run_cli(capsys, "import", "scene", bundle, "-w", copy)
    assert code == 2 and f"{LANDSAT}.tar!{LANDSAT}_SR_B4.TIF: band B4" in err, err
    assert "work/unpack" not in err  # the member is named, not where it was staged
    assert not (copy / "raw" / "scene" / LANDSAT).exists()
    assert not any((copy / "work" / "unpack").iterdir())
    code, err = run_cli(capsys, "import", "dem", bundle, "-w", copy)
    assert code == 2 and "only scene bundles" in err


def test_a_folder_of_unpacked_scenes_leaves_the_ancillaries_out(
        copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _landsat_bundle(tmp_path)
    code, err = run_cli(capsys, "import", "scene", tmp_path / "bundle_members", "-w", copy)
    assert code == 0, err
    assert "left out 2 files" in err and "QA_RADSAT.TIF" in err and "thumb_small" in err
    got = sorted(p.name for p in (copy / "raw" / "scene").iterdir() if LANDSAT in p.name)
    assert len(got) == 9 and f"{LANDSAT}_QA_PIXEL.TIF" in got and f"{LANDSAT}_MTL.txt" in got


def test_a_sentinel2_safe_zip_of_jp2_bands_is_imported_and_read_with_its_offset(
        copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The Copernicus Data Space's download: .SAFE.zip, JPEG 2000 bands at 10, 20 and 60 m."""
    import zipfile

    import rasterio
    from affine import Affine

    from minecarbon.features.preprocess import clear_reflectance
    from minecarbon.grid import AnalysisGrid
    from minecarbon.io.scenes import find_scenes, read_scene
    from tests.pipeline._inputs import CRS, R_N, R_X0, R_Y1

    safe = "S2B_MSIL2A_20200810T031539_N0400_R118_T49SFB_20200810T062755.SAFE"
    stem = "T49SFB_20200810T031539"
    img = f"{safe}/GRANULE/L2A_T49SFB_A018000_20200810T032220/IMG_DATA"
    reflectance = {"B02": 0.04, "B03": 0.07, "B04": 0.05, "B08": 0.30, "B8A": 0.32, "B11": 0.18,
                   "B12": 0.09}
    folder = tmp_path / "safe"
    members: dict[str, Path] = {}
    for res, bands in ((10, ("B02", "B03", "B04", "B08")),
                       (20, (*(b for b in reflectance if b != "B08"), "SCL")),
                       (60, ("B04", "B8A", "SCL"))):
        n = R_N * 30 // res
        for band in bands:
            coarse = 0.02 if res == 60 else 0.0  # a coarser copy differs: reading it shows
            value = 4 if band == "SCL" else 1000 + (reflectance[band] + coarse) * 1e4
            path = folder / f"R{res}m" / f"{stem}_{band}_{res}m.jp2"
            path.parent.mkdir(parents=True, exist_ok=True)
            with rasterio.open(path, "w", driver="JP2OpenJPEG", width=n, height=n, count=1,
                               dtype="uint8" if band == "SCL" else "uint16", crs=CRS,
                               transform=Affine(res, 0, R_X0, 0, -res, R_Y1), nodata=0,
                               QUALITY=100, REVERSIBLE="YES") as dst:
                dst.write(np.full((1, n, n), value, "uint8" if band == "SCL" else "uint16"))
            members[f"{img}/R{res}m/{path.name}"] = path
    bundle = tmp_path / f"{safe}.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        zf.writestr(f"{safe}/MTD_MSIL2A.xml", "<n1:Level-2A_User_Product/>")
        zf.writestr(f"{safe}/manifest.safe", "<xfdu/>")
        for name, path in members.items():
            zf.write(path, name)
    code, err = run_cli(capsys, "import", "scene", bundle, "-w", copy)
    assert code == 0, err
    # left out: B02–B04 at 20 m, B04, B8A and SCL at 60 m (held finer), manifest.safe
    assert "9 members imported; left out 7" in err and "_B04_20m.jp2" in err
    raw = sorted((copy / "raw" / "scene" / safe).rglob("*.jp2"))
    assert len(raw) == 4 + 4  # B02–B04, B08 at 10 m; B8A, B11, B12, SCL at 20 m
    (scene,) = find_scenes(raw)
    assert (scene.sensor, scene.processing_baseline) == ("sentinel2", 4.0)
    grid = AnalysisGrid(CRS, 30.0, R_X0 + 300.0, R_Y1 - 300.0, 20, 20)
    refl = clear_reflectance(read_scene(scene, grid))
    for role, band in (("red", "B04"), ("nir", "B08"), ("nir08", "B8A"), ("swir2", "B12")):
        values = refl[role].values
        assert values.size == 20 * 20 and np.isfinite(values).all(), role
        np.testing.assert_allclose(values, reflectance[band], atol=1e-4, err_msg=role)


def test_scenes_of_a_folder_are_read_ahead_and_a_truncated_one_is_still_named(
        copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import minecarbon.pipeline.admission as admission

    monkeypatch.setattr(admission, "READ_AHEAD", 2)
    read: list[str] = []
    real = admission.read_stats

    def spy(path: Path, kind: str) -> object:
        read.append(path.name)
        return real(path, kind)

    monkeypatch.setattr(admission, "read_stats", spy)
    folder = tmp_path / "archive"
    folder.mkdir()
    names = [f"LC08_L2SP_125034_2020{md}_20200912_02_T1_SR.tif" for md in ("0617", "0703", "0719")]
    for seed, name in enumerate(names):
        write_raster(folder / name, scene_values(seed), dtype="uint16", nodata=0,
                     descriptions=SCENE_BANDS)
    whole = (folder / names[1]).read_bytes()
    (folder / names[1]).write_bytes(whole[: len(whole) * 2 // 3])
    with Workspace.open(copy) as ws, pytest.raises(InputDataError, match=names[1]):
        admit(ws, "scene", folder)
    assert read[:2] == names[:2]  # read ahead, in order; the truncated one gave None
    assert not (copy / "raw" / "scene" / names[0]).exists()  # nothing imported
    (folder / names[1]).unlink()
    read.clear()
    with Workspace.open(copy) as ws:
        records = admit(ws, "scene", folder)
    assert sorted(read) == sorted([names[0], names[2]]) and len(records) == 2
