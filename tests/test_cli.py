"""The command line: commands work, bad input gives one clear line and exit code 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from tests.conftest import write_tif


def one_error_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    text = " ".join(lines)  # rich may fold a long line; it is still one message
    assert text.startswith("error:"), err
    assert "Traceback" not in err
    return text


def test_init_import_run_list_show_verify_export(cli, tmp_path: Path, projected_tif: Path) -> None:
    ws = tmp_path / "ws"
    code, out, _ = cli("init", ws)
    assert code == 0 and "workspace created" in out
    assert "[scope]" in (ws / "minecarbon.toml").read_text()
    code, out, _ = cli("import", "dem", projected_tif, "-w", ws, "--year", "2020")
    assert code == 0 and "raw/dem/dem.tif" in out
    code, _, _ = cli("--quiet", "run", "-w", ws, "--until", "catalogue")
    assert code == 0
    code, out, _ = cli("--json", "run", "-w", ws, "--until", "catalogue")
    statuses = {o["step"]: o["status"] for o in json.loads(out)}
    assert statuses == {"import": "skipped", "catalogue": "ran"}  # the catalogue always runs
    code, out, _ = cli("--json", "catalog", "list", "-w", ws)
    listed = json.loads(out)
    assert {d["path"] for d in listed} >= {"raw/dem/dem.tif", "products/catalog/datasets.csv"}
    code, out, _ = cli("--json", "catalog", "show", "raw/dem/dem.tif", "-w", ws)
    assert json.loads(out)["crs"] == "EPSG:4546"
    code, out, _ = cli("catalog", "show", "1", "-w", ws)
    assert code == 0 and "sha256" in out
    code, out, _ = cli("catalog", "verify", "-w", ws)
    assert code == 0 and "0 missing or changed" in out
    code, out, _ = cli("catalog", "export", "--stac", tmp_path / "stac", "-w", ws)
    assert code == 0 and (tmp_path / "stac/catalog.json").exists()
    code, out, _ = cli("run", "--list")
    assert code == 0 and "import" in out and "catalogue" in out


def test_verify_sees_a_changed_product(cli, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    cli("init", ws)
    cli("-q", "run", "-w", ws, "--until", "catalogue")
    product = ws / "products/catalog/datasets.csv"
    product.write_text(product.read_text() + "tampered\n")
    code, out, _ = cli("catalog", "verify", "-w", ws)
    assert code == 1
    assert "changed" in out and "products/catalog/datasets.csv" in out
    code, out, _ = cli("--json", "catalog", "verify", "-w", ws)
    report = json.loads(out)
    assert code == 1
    assert report["problems"] == [{"path": "products/catalog/datasets.csv", "status": "changed",
                                   "detail": report["problems"][0]["detail"]}]


@pytest.mark.parametrize(
    ("setup", "args", "expect"),
    [
        ("none", ["run", "-w", "{tmp}/absent"], "does not exist"),
        ("none", ["run", "-w", "{tmp}"], "not a minecarbon workspace"),
        ("ws", ["import", "dem", "{tmp}/nothing.tif", "-w", "{tmp}/ws"], "does not exist"),
        ("ws", ["import", "dems", "{tmp}/nocrs.tif", "-w", "{tmp}/ws"], "unknown import kind"),
        ("ws", ["import", "scene", "{tmp}/nocrs.tif", "-w", "{tmp}/ws"], "no coordinate reference"),
        ("ws", ["import", "scene", "{tmp}/geo.tif", "-w", "{tmp}/ws"], "EPSG:4546"),
        ("ws", ["catalog", "show", "99", "-w", "{tmp}/ws"], "no dataset '99'"),
        ("ws", ["run", "--until", "nope", "-w", "{tmp}/ws"], "no step named 'nope'"),
        ("badkey", ["run", "-w", "{tmp}/ws"], "unknown key scope.bufer_m"),
        ("badvalue", ["run", "-w", "{tmp}/ws"], "survey.min_plots_per_unit"),
        ("badtoml", ["run", "-w", "{tmp}/ws"], "not valid TOML"),
        ("geocrs", ["run", "-w", "{tmp}/ws"], "geographic CRS"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(
    cli, tmp_path: Path, setup: str, args: list[str], expect: str
) -> None:
    write_tif(tmp_path / "nocrs.tif", crs=None)
    write_tif(tmp_path / "geo.tif", crs="EPSG:4326", x0=112.0, y0=37.5, pixel=0.0003)
    ws = tmp_path / "ws"
    if setup != "none":
        cli("init", ws)
        toml = ws / "minecarbon.toml"
        text = toml.read_text()
        text = {
            "badkey": text.replace("buffer_m = 500.0", "bufer_m = 500.0"),
            "badvalue": text.replace("min_plots_per_unit = 3", "min_plots_per_unit = 2"),
            "badtoml": text.replace("[scope]", "[scope"),
            "geocrs": text.replace('crs = "EPSG:4546"', 'crs = "EPSG:4490"'),
        }.get(setup, text)
        toml.write_text(text)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")
                    if "catalog.sqlite" not in p.name)
    code, _out, err = cli(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert code == 2
    message = one_error_line(err)
    assert expect in message
    assert "fix:" in message
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")
                   if "catalog.sqlite" not in p.name)
    assert after == before


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "minecarbon.cli.main", "--debug", "run", "-w", str(tmp_path)],
        capture_output=True, text=True,
    )
    assert done.returncode != 0
    assert "Traceback" in done.stderr and "NotAWorkspaceError" in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "minecarbon.cli.main", "run", "-w", str(tmp_path)],
        capture_output=True, text=True,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_console_script_and_version() -> None:
    exe = Path(sys.executable).with_name("minecarbon")
    done = subprocess.run([str(exe), "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("minecarbon ")


def test_buffer_outside_guide_range_warns_on_stderr(cli, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    cli("init", ws)
    toml = ws / "minecarbon.toml"
    toml.write_text(toml.read_text().replace("buffer_m = 500.0", "buffer_m = 800.0"))
    with warnings.catch_warnings():  # an earlier test in this process may have shown it once
        warnings.simplefilter("always")
        code, _, err = cli("-q", "run", "-w", ws, "--until", "import")
    assert code == 0
    assert "warning:" in err and "100–500 m" in err


def test_every_command_ignores_rasterios_spurious_warning_but_not_ours(
        cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CLI command runs inside the warning guard (``minecarbon.errors.SPURIOUS_WARNINGS``)."""
    import click
    from rasterio.errors import NotGeoreferencedWarning

    from minecarbon.cli import main as cli_main

    @click.command()
    def command() -> None:
        for module, text in (("rasterio.features", "Dataset has no geotransform, gcps, or rpcs"),
                             ("minecarbon.scope", "plot P7 lies outside the grid")):
            warnings.warn_explicit(text, NotGeoreferencedWarning if module.startswith("rasterio")
                                   else UserWarning, "f.py", 1, module=module, registry={})

    monkeypatch.setattr(cli_main.typer.main, "get_command", lambda app: command)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        code, _, err = cli()
    assert code == 0
    assert "warning:" in err and "P7 lies outside" in err
    assert "geotransform" not in err


def test_run_without_boundary_names_the_missing_import(cli, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    cli("init", ws)
    code, _, err = cli("run", "-w", ws)
    assert code == 2
    assert "no mining-right boundary" in one_error_line(err)
    assert "minecarbon import boundary" in err


def test_demo_builds_the_site_and_runs_the_pipeline(cli, small_site: Path,
                                                     tmp_path: Path) -> None:
    """The demo command on the session's demo site (built by the same library calls).

    A copy with its units removed: ``demo`` finds the site delivered, says so, and re-runs
    the steps whose products are missing.
    """
    shutil.copytree(small_site, tmp_path / "demo")
    for path in (tmp_path / "demo/products/units").glob("units_l2_*.tif"):
        path.unlink()
    code, out, _ = cli("--json", "demo", "--workspace", tmp_path / "demo")
    assert code == 0
    steps = {s["step"]: s["status"] for s in json.loads(out)["steps"]}
    assert steps["units"] == "ran"
    assert (tmp_path / "demo/products/units/units_l2_2024.tif").exists()
    assert (tmp_path / "demo/truth/site.json").exists()
    assert len(list((tmp_path / "demo/raw/scene").glob("*/*_QA_PIXEL.TIF"))) > 50
    code, out, _ = cli("demo", "--workspace", tmp_path / "demo")
    assert code == 0 and "already" in out
    code, _, _err = cli("demo", "--workspace", tmp_path / "demo", "--size", "huge")
    assert code == 2
