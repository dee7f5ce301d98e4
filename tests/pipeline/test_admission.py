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
