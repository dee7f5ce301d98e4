"""Landsat scenes delivered as USGS delivers Collection-2 Level-2 products: one ``.tar`` each.

The simulator renders a scene as one multi-band GeoTIFF (block by block, every scene at once);
:func:`landsat_bundle` then packs it as EarthExplorer's download of the product: a ``.tar``
named by the product identifier ``LXSS_L2SP_PPPRRR_YYYYMMDD_yyyymmdd_02_T1`` (acquisition and
processing dates, Collection 2, Tier 1; ``SIM_`` in front says it is simulated), holding one
GeoTIFF per band (``…_SR_B4.TIF``; ``…_QA_PIXEL.TIF`` with fill 1) and the ``…_MTL.txt``
metadata with the keys a reader looks for (product id, spacecraft, sensor, date, path/row, the
reflectance scale and offset). The USGS's other members (surface-temperature bands and their
intermediates, angle bands, thumbnails) are not simulated.
"""

from __future__ import annotations

import io
import re
import tarfile
import tempfile
from datetime import date, timedelta
from pathlib import Path

import rasterio

from minecarbon.demo.scenes import WRS_PATH_ROW

#: Days from acquisition to the product's processing date (our figure: Tier-1 Level-2
#: products appear some two weeks after acquisition).
PROCESSING_DAYS = 16
_NAME = re.compile(r"^(?P<sim>SIM_)?(?P<mission>L[CET]0[5789])_L2SP_(?P<pr>[0-9]{6})_"
                   r"(?P<date>[0-9]{8})_SR$")
_SPACECRAFT = {"LT05": ("LANDSAT_5", "TM"), "LE07": ("LANDSAT_7", "ETM"),
               "LC08": ("LANDSAT_8", "OLI_TIRS"), "LC09": ("LANDSAT_9", "OLI_TIRS")}


def is_landsat_scene(path: Path) -> bool:
    """Whether a rendered scene file is a Landsat one (``SIM_LC08_L2SP_…_SR.tif``)."""
    return _NAME.match(path.stem) is not None


def product_id(path: Path) -> str:
    """The product id of a rendered scene.

    ``SIM_LC08_L2SP_125034_20130727_SR.tif`` → ``SIM_LC08_L2SP_125034_20130727_20130812_02_T1``.
    """
    m = _NAME.match(path.stem)
    if m is None:
        raise ValueError(f"{path.name} is not a rendered Landsat scene")
    acquired = date(int(m["date"][:4]), int(m["date"][4:6]), int(m["date"][6:]))
    processed = (acquired + timedelta(days=PROCESSING_DAYS)).strftime("%Y%m%d")
    return f"{m['sim'] or ''}{m['mission']}_L2SP_{m['pr']}_{m['date']}_{processed}_02_T1"


def _mtl(pid: str, mission: str, acquired: str, bands: list[str], scale: str,
         offset: str) -> bytes:
    spacecraft, sensor = _SPACECRAFT[mission]
    lines = ["GROUP = LANDSAT_METADATA_FILE", "  GROUP = PRODUCT_CONTENTS",
             f'    LANDSAT_PRODUCT_ID = "{pid}"', '    COLLECTION_NUMBER = 02',
             '    COLLECTION_CATEGORY = "T1"', '    PROCESSING_LEVEL = "L2SP"',
             "  END_GROUP = PRODUCT_CONTENTS", "  GROUP = IMAGE_ATTRIBUTES",
             f'    SPACECRAFT_ID = "{spacecraft}"', f'    SENSOR_ID = "{sensor}"',
             f"    WRS_PATH = {int(WRS_PATH_ROW[:3])}", f"    WRS_ROW = {int(WRS_PATH_ROW[3:])}",
             f"    DATE_ACQUIRED = {acquired}", "  END_GROUP = IMAGE_ATTRIBUTES",
             "  GROUP = LEVEL2_SURFACE_REFLECTANCE_PARAMETERS"]
    for band in bands:
        number = band.removeprefix("SR_B")
        lines += [f"    REFLECTANCE_MULT_BAND_{number} = {scale}",
                  f"    REFLECTANCE_ADD_BAND_{number} = {offset}"]
    lines += ["  END_GROUP = LEVEL2_SURFACE_REFLECTANCE_PARAMETERS",
              "END_GROUP = LANDSAT_METADATA_FILE", "END"]
    return ("\n".join(lines) + "\n").encode("ascii")


def landsat_bundle(path: Path, folder: Path) -> Path:
    """Pack the rendered scene ``path`` as its USGS ``.tar`` in ``folder``; returns the bundle.

    The rendered file is left as it was (the caller removes it).
    """
    pid = product_id(path)
    folder.mkdir(parents=True, exist_ok=True)
    bundle = folder / f"{pid}.tar"
    with rasterio.open(path) as src, tarfile.open(bundle, "w") as tf, \
            tempfile.TemporaryDirectory(dir=folder) as tmp:
        profile = {**src.profile, "count": 1}
        tags = src.tags()
        names = list(src.descriptions)
        for index, band in enumerate(names, start=1):
            member = Path(tmp) / f"{pid}_{band}.TIF"
            with rasterio.open(member, "w", **{**profile, "nodata": 1 if band == "QA_PIXEL"
                                                  else profile.get("nodata")}) as dst:
                dst.write(src.read(index), 1)
                dst.update_tags(**tags)
            tf.add(member, arcname=member.name)
            member.unlink()
        mission = pid.removeprefix("SIM_")[:4]
        text = _mtl(pid, mission, tags.get("ACQUISITION_DATE", ""),
                    [b for b in names if b.startswith("SR_B")],
                    tags.get("SR_SCALE", "2.75e-05"), tags.get("SR_OFFSET", "-0.2"))
        info = tarfile.TarInfo(f"{pid}_MTL.txt")
        info.size = len(text)
        tf.addfile(info, io.BytesIO(text))
    return bundle
