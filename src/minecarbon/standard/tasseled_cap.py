"""Tasseled-cap coefficient sets, as data.

The records live in ``data/tasseled_cap.csv``, one row per (set, component, band) with columns
set, sensor, component, band, role, coefficient, input_unit, source. ``sensor`` lists the
sensor ids the set fits (``;``-separated), ``band`` is the band id of that sensor and ``role``
the band's role (``nir``, ``swir1`` …), by which the transform addresses the data: the order of
the rows does not matter. ``input_unit`` is the product level the coefficients were derived for:
``sr`` (surface reflectance / reflectance factor) or ``toa`` (top-of-atmosphere reflectance).

A component is Σ coefficient × band reflectance, with no additive term. Sets:

- ``crist1985`` — Landsat TM reflectance factor (Crist 1985), used here for TM and ETM+ surface
  reflectance;
- ``huang2002`` — Landsat 7 ETM+ TOA reflectance (Huang et al. 2002);
- ``baig2014`` — Landsat 8/9 OLI TOA reflectance (Baig et al. 2014);
- ``zhai2022_sr`` — Landsat 8/9 OLI surface reflectance, five bands without blue (Zhai et al. 2022);
- ``shi_xu2019`` — Sentinel-2 MSI L1C TOA reflectance, all 13 bands (Shi & Xu 2019);
- ``nedkov2017`` — Sentinel-2 MSI, all 13 bands (Nedkov 2017).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from minecarbon.errors import InputDataError
from minecarbon.standard._data import read_table

ProductLevel = Literal["sr", "toa"]

#: The tasseled-cap components, in the order the sets define them.
COMPONENTS = ("brightness", "greenness", "wetness", "fourth")

#: Default set per (sensor, product level).
DEFAULT_SETS: dict[tuple[str, ProductLevel], str] = {
    ("landsat4", "sr"): "crist1985",
    ("landsat5", "sr"): "crist1985",
    ("landsat7", "sr"): "crist1985",
    ("landsat4", "toa"): "crist1985",
    ("landsat5", "toa"): "crist1985",
    ("landsat7", "toa"): "huang2002",
    ("landsat8", "sr"): "zhai2022_sr",
    ("landsat9", "sr"): "zhai2022_sr",
    ("landsat8", "toa"): "baig2014",
    ("landsat9", "toa"): "baig2014",
    ("sentinel2", "sr"): "shi_xu2019",
    ("sentinel2", "toa"): "shi_xu2019",
}


@dataclass(frozen=True)
class CoefficientSet:
    """One tasseled-cap coefficient set.

    ``coefficients[component][role]`` is the coefficient of the band with that role;
    ``bands[role]`` the sensor's band id for that role.
    """

    name: str
    sensors: tuple[str, ...]
    input_unit: ProductLevel
    source: str
    bands: dict[str, str]
    coefficients: dict[str, dict[str, float]]

    @property
    def roles(self) -> tuple[str, ...]:
        """The band roles the set needs, all of them."""
        return tuple(self.bands)


@cache
def coefficient_sets() -> dict[str, CoefficientSet]:
    """Every coefficient set in ``data/tasseled_cap.csv``, by name."""
    grouped: dict[str, list[dict[str, str]]] = {}
    for row in read_table("tasseled_cap.csv"):
        grouped.setdefault(row["set"], []).append(row)
    sets: dict[str, CoefficientSet] = {}
    for name, rows in grouped.items():
        first = rows[0]
        unit = first["input_unit"]
        if unit not in ("sr", "toa"):
            raise ValueError(f"tasseled_cap.csv: set {name} has input_unit {unit!r}")
        coefficients: dict[str, dict[str, float]] = {}
        bands: dict[str, str] = {}
        for row in rows:
            coefficients.setdefault(row["component"], {})[row["role"]] = float(row["coefficient"])
            bands[row["role"]] = row["band"]
        sets[name] = CoefficientSet(
            name=name,
            sensors=tuple(first["sensor"].split(";")),
            input_unit="sr" if unit == "sr" else "toa",
            source=first["source"],
            bands=bands,
            coefficients=coefficients,
        )
    return sets


def coefficient_set(name: str) -> CoefficientSet:
    """Look a coefficient set up by name.

    Raises
    ------
    InputDataError
        If no set has that name (the message lists the sets).

    """
    sets = coefficient_sets()
    if name not in sets:
        raise InputDataError(
            f"no tasseled-cap coefficient set {name!r}",
            fix=f"use one of {', '.join(sets)}",
        )
    return sets[name]


def default_set(sensor: str, product_level: ProductLevel) -> CoefficientSet:
    """The set used by default for ``sensor`` data at ``product_level``.

    Raises
    ------
    InputDataError
        If the standard has no tasseled-cap set for the sensor.

    """
    key = (sensor, product_level)
    if key not in DEFAULT_SETS:
        known = sorted({s for s, _ in DEFAULT_SETS})
        raise InputDataError(
            f"no tasseled-cap coefficient set for sensor {sensor!r}",
            fix=f"tasseled-cap sets exist for {', '.join(known)}; use spectral indices instead",
        )
    return coefficient_set(DEFAULT_SETS[key])
