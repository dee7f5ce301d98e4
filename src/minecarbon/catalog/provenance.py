"""Software versions recorded with every dataset."""

from __future__ import annotations

import platform
from functools import cache
from importlib.metadata import PackageNotFoundError, version

_PACKAGES = ("minecarbon", "numpy", "pandas", "xarray", "dask", "rasterio", "geopandas",
             "scikit-learn", "xgboost")


@cache
def software_versions() -> dict[str, str]:
    """Python and the installed versions of minecarbon and its main dependencies."""
    found = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found
