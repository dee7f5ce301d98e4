"""Cross-sensor harmonisation of surface reflectance, as data (requirement F2, issue 16).

The records live in ``data/harmonisation.csv``: one row per (from_sensor, to_sensor, role) with
``slope`` and ``intercept`` of ``to = intercept + slope × from`` in reflectance units, the band
it is computed from (``from_role``; empty: the same role) and the source. Rows:

- Landsat 7 ETM+ → Landsat 8 OLI: Roy et al. (2016), Remote Sensing of Environment 185: 57–70,
  Table 2, the ordinary-least-squares fits of surface reflectance over the conterminous US
  (59 million 30 m observations sensed one day apart);
- Landsat 4/5 TM → OLI: the same functions (TM and ETM+ are close in band position and width);
- Landsat 9 OLI-2 → OLI: identity;
- Sentinel-2 MSI → OLI: the bandpass adjustment of the Harmonized Landsat Sentinel-2 product
  (HLS v2.0; Claverie et al. 2018, Remote Sensing of Environment 219: 145–161), linear fits
  between the two sensors' bands synthesised from 500 Hyperion surface-reflectance spectra,
  for Sentinel-2A (Sentinel-2B's differ by at most 0.016 in slope). OLI's NIR (B5,
  851–879 nm) is matched by MSI's narrow B8A (``nir08``), not the broad B8 (the MSI ``nir``
  role): the row for ``nir`` is computed from ``nir08``.

Uncertainty: the functions remove the *systematic* difference between the sensors' surface
reflectance (ETM+ is darker than OLI in most bands); they cannot remove the per-observation
scatter from view and sun geometry (BRDF), residual atmosphere and registration, which is
present in Roy et al.'s one-day-apart pairs and not modelled by a band-wise linear function. A
harmonised series has no sensor step in its means, but single observations of two sensors
still differ by that scatter. The Sentinel-2 functions adjust only the bands' spectral
response; a different atmospheric correction (Sen2Cor for ESA's L2A, LaSRC for Landsat
Collection 2) and the MSI's view geometry leave differences of their own, which HLS removes by
processing both sensors alike and by a BRDF normalisation that this table cannot stand for.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from minecarbon.errors import InputDataError
from minecarbon.standard._data import read_table

#: What ``features.harmonise_to`` may name, and the sensor each stands for.
TARGETS = {"oli": "landsat8"}


@dataclass(frozen=True)
class BandTransform:
    """``to = intercept + slope × from`` for one band role (``from`` the band ``source_role``)."""

    role: str
    slope: float
    intercept: float
    source: str
    from_role: str = ""

    @property
    def source_role(self) -> str:
        """The band the role is computed from: ``from_role``, or the role itself."""
        return self.from_role or self.role

    def inverse(self, value: float) -> float:
        """The ``from`` reflectance that gives ``value`` (the simulator uses this)."""
        return (value - self.intercept) / self.slope


@cache
def _rows() -> dict[tuple[str, str], dict[str, BandTransform]]:
    out: dict[tuple[str, str], dict[str, BandTransform]] = {}
    last_source = ""
    for row in read_table("harmonisation.csv"):
        source = row["source"] if not row["source"].startswith("as ") else last_source
        last_source = source if not row["source"].startswith("as ") else last_source
        out.setdefault((row["from_sensor"], row["to_sensor"]), {})[row["role"]] = BandTransform(
            row["role"], float(row["slope"]), float(row["intercept"]), source,
            row.get("from_role") or "")
    return out


def target_sensor(target: str) -> str:
    """The sensor id of a ``features.harmonise_to`` value (``oli`` → ``landsat8``)."""
    if target not in TARGETS:
        raise InputDataError(f"features.harmonise_to = {target!r} is not a harmonisation target",
                             fix=f"use one of {', '.join(TARGETS)} or 'off'")
    return TARGETS[target]


def transforms(from_sensor: str, to_sensor: str) -> dict[str, BandTransform] | None:
    """The per-role transforms from one sensor to another; identity → ``{}``; unknown → None."""
    if from_sensor == to_sensor:
        return {}
    return _rows().get((from_sensor, to_sensor))


def harmonised_pairs() -> tuple[tuple[str, str], ...]:
    """Every (from, to) pair the table holds."""
    return tuple(_rows())
