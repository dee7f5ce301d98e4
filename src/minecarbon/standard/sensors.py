"""Satellite sensors and their bands (appendix A, requirement F1), addressed by role.

The records live in ``data/sensors.csv`` (one row per band: sensor id, band id, role, centre
wavelength and width in nm, resolution in m, the product's scale and offset, the unit after
scaling, and the source). Code never addresses a band by its position or number: GF-6 WFV's
band numbers are not in spectral order (red-edge B5–B6, purple B7, yellow B8), Sentinel-2 has
B8A between B8 and B9, and Landsat TM's SWIR2 is B7. Everything goes through the **role**:
``coastal, blue, green, red, rededge1, rededge2, rededge3, nir, nir08, watervapour, cirrus,
swir1, swir2, pan, yellow, purple, tir``.

Scale and offset turn the delivered digital numbers into reflectance: Landsat Collection-2
Level-2 ``ρ = DN × 2.75e-5 − 0.2``; Sentinel-2 L2A ``ρ = DN × 1e-4`` with the extra −1000 DN
(−0.1 in reflectance) of processing baseline 04.00 and later (``BOA_ADD_OFFSET``), see
:func:`sentinel2_offset`. Gaofen products are delivered as DN that need CRESDA's per-year
calibration and an atmospheric correction: their scale is empty and must be given.

``data/qa_masks.csv`` lists the quality flags (Landsat QA_PIXEL bits, Sentinel-2 SCL classes)
and which of them mask a pixel by default.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from functools import cache

from minecarbon.errors import InputDataError
from minecarbon.standard._data import read_table

#: Every role a band can play, in spectral order.
ROLES = ("purple", "coastal", "blue", "green", "yellow", "red", "rededge1", "rededge2",
         "rededge3", "nir", "nir08", "watervapour", "cirrus", "swir1", "swir2", "pan", "tir")

#: The QA products known, by sensor id.
QA_PRODUCT = {"landsat5": "landsat_c2_qa_pixel", "landsat7": "landsat_c2_qa_pixel",
              "landsat8": "landsat_c2_qa_pixel", "landsat9": "landsat_c2_qa_pixel",
              "sentinel2": "sentinel2_scl"}


@dataclass(frozen=True)
class Band:
    """One band of a sensor, as in ``data/sensors.csv``."""

    sensor: str
    band: str
    role: str
    centre_nm: float
    width_nm: float
    resolution_m: float
    scale: float | None
    offset: float | None
    unit: str
    source: str


@dataclass(frozen=True)
class Sensor:
    """A sensor: its id, name, the file-name prefixes that identify it and its bands."""

    id: str
    name: str
    prefixes: tuple[str, ...]
    bands: tuple[Band, ...]

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles of the bands, in the table's order."""
        return tuple(b.role for b in self.bands)

    @property
    def reflective_roles(self) -> tuple[str, ...]:
        """Roles of the reflectance bands (no thermal, no panchromatic), in spectral order."""
        roles = {b.role for b in self.bands if b.unit != "kelvin" and b.role != "pan"}
        return tuple(r for r in ROLES if r in roles)

    def band(self, role: str) -> Band:
        """The band playing ``role``; an error names the roles this sensor has."""
        for b in self.bands:
            if b.role == role:
                return b
        raise InputDataError(
            f"{self.name} has no {role!r} band (it has {', '.join(self.roles)})",
            fix="use an index or feature that needs only these bands, or another sensor",
        )

    def band_by_id(self, band_id: str) -> Band | None:
        """The band with this id after normalising it (``SR_B4``, ``B04``, ``b4`` → ``B4``)."""
        wanted = normalise_band_id(band_id)
        return next((b for b in self.bands if b.band == wanted), None)


_BAND_ID = re.compile(r"^(?:SR_|ST_|TOA_)?B0*([0-9]+A?)$")


def normalise_band_id(text: str) -> str:
    """``SR_B4`` / ``B04`` / ``b4`` / ``B8A`` → ``B4`` / ``B4`` / ``B4`` / ``B8A``; else as is."""
    cleaned = text.strip().upper()
    if cleaned in ("PAN", "P"):
        return "PAN"
    m = _BAND_ID.match(cleaned)
    return f"B{m.group(1)}" if m else cleaned


def _float(text: str) -> float | None:
    return float(text) if text.strip() else None


@cache
def _sensors() -> dict[str, Sensor]:
    rows = read_table("sensors.csv")
    out: dict[str, Sensor] = {}
    for sid in dict.fromkeys(r["sensor"] for r in rows):
        mine = [r for r in rows if r["sensor"] == sid]
        bands = tuple(
            Band(sid, r["band"], r["role"], float(r["centre_nm"]), float(r["width_nm"]),
                 float(r["resolution_m"]), _float(r["scale"]), _float(r["offset"]), r["unit"],
                 r["source"])
            for r in mine
        )
        out[sid] = Sensor(sid, mine[0]["sensor_name"],
                          tuple(mine[0]["platform_prefixes"].split(";")), bands)
    return out


def sensor_ids() -> tuple[str, ...]:
    """Ids of every sensor in the registry."""
    return tuple(_sensors())


def sensor(sensor_id: str) -> Sensor:
    """The sensor with this id (``landsat8``, ``sentinel2``, ``gf6_wfv``, …)."""
    key = sensor_id.strip().lower().replace("-", "_")
    aliases = {"landsat_8": "landsat8", "l8": "landsat8", "l9": "landsat9", "l5": "landsat5",
               "l7": "landsat7", "s2": "sentinel2", "sentinel_2": "sentinel2", "oli": "landsat8",
               "tm": "landsat5", "etm": "landsat7", "etm+": "landsat7", "msi": "sentinel2"}
    key = aliases.get(key, key)
    found = _sensors().get(key)
    if found is None:
        close = difflib.get_close_matches(key, sensor_ids(), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise InputDataError(f"unknown sensor {sensor_id!r}{hint}",
                             fix=f"use one of {', '.join(sensor_ids())}")
    return found


def detect_sensor(name: str) -> str | None:
    """The sensor id a product or file name starts with (``LC08_…`` → ``landsat8``), or None."""
    stem = name.upper().removeprefix("SIM_")
    for s in _sensors().values():
        if any(stem.startswith(p) for p in s.prefixes):
            return s.id
    return None


def sentinel2_offset(processing_baseline: float | None, boa_add_offset: float | None = None
                     ) -> float:
    """The reflectance offset of a Sentinel-2 L2A product.

    ``BOA_ADD_OFFSET`` (in DN, −1000 from processing baseline 04.00, January 2022) when the
    product states it, else −0.1 for baseline ≥ 4.00 and 0 before. Harmonised collections that
    removed the offset state ``BOA_ADD_OFFSET = 0``.
    """
    if boa_add_offset is not None and not math.isnan(boa_add_offset):
        return boa_add_offset * 1e-4
    if processing_baseline is not None and processing_baseline >= 4.0:
        return -0.1
    return 0.0


@dataclass(frozen=True)
class QaFlag:
    """One quality flag: a QA_PIXEL bit or an SCL class."""

    product: str
    kind: str  # "bit" or "class"
    value: int
    meaning: str
    masked_by_default: bool


def qa_flags(product: str) -> tuple[QaFlag, ...]:
    """The flags of a QA product (``landsat_c2_qa_pixel`` or ``sentinel2_scl``)."""
    rows = [r for r in read_table("qa_masks.csv") if r["product"] == product]
    if not rows:
        raise InputDataError(f"unknown QA product {product!r}",
                             fix=f"use one of {', '.join(sorted(set(QA_PRODUCT.values())))}")
    return tuple(QaFlag(r["product"], r["kind"], int(r["value"]), r["meaning"],
                        r["masked_by_default"] == "yes") for r in rows)
