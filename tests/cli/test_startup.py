"""The CLI starts without the raster and modelling stack: ``--help`` is instant."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("xarray", "rioxarray", "rasterio", "dask", "sklearn", "geopandas", "pandas", "scipy",
         "matplotlib", "docx")


def test_importing_the_cli_loads_no_heavy_module() -> None:
    code = ("import sys, minecarbon.cli.main\n"
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    assert done.stdout.strip() == "", f"imported at start: {done.stdout.strip()}"


def test_help_lists_the_commands() -> None:
    done = subprocess.run([sys.executable, "-m", "minecarbon.cli.main", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for command in ("init", "import", "run", "report", "demo", "tls", "view", "plots"):
        assert command in done.stdout
