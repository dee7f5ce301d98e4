"""Export the catalogued rasters as a STAC catalogue (pystac).

The catalogue is self-contained and relative: its links and every asset href are relative to
the JSON file that holds them, so a catalogue written inside the workspace moves with it (and
one written elsewhere stays valid while it keeps its place relative to the workspace).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from minecarbon.catalog.database import DatasetRecord
from minecarbon.catalog.workspace import Workspace
from minecarbon.io.raster import is_raster


def _time_range(rec: DatasetRecord) -> tuple[datetime | None, datetime | None, datetime | None]:
    """(datetime, start, end) for STAC: a year becomes that calendar year."""
    t = rec.time
    if t:
        first, _, last = t.partition("/")
        if first.isdigit() and len(first) == 4:
            end = last if last.isdigit() else first
            return (
                None,
                datetime(int(first), 1, 1, tzinfo=UTC),
                datetime(int(end), 12, 31, 23, 59, 59, tzinfo=UTC),
            )
        try:
            return datetime.fromisoformat(t).replace(tzinfo=UTC), None, None
        except ValueError:
            pass
    return datetime.fromisoformat(rec.recorded_at), None, None


def stac_folder(ws: Workspace, out_dir: Path) -> Path:
    """Where the STAC catalogue goes: a relative ``out_dir`` lies inside the workspace root."""
    return (out_dir if out_dir.is_absolute() else ws.root / out_dir).resolve()


def export_stac(ws: Workspace, out_dir: Path) -> Path:
    """Write a self-contained, relative STAC catalogue of every catalogued raster.

    Each item carries the dataset's geometry (in WGS 84), its time, its CRS (projection
    extension), the sha256, kind, step and lineage, and one asset pointing at the file.

    Parameters
    ----------
    ws
        The workspace.
    out_dir
        The catalogue's folder; a relative path is taken inside the workspace root (``stac``
        → ``<workspace>/stac``), so that the catalogue moves with the workspace.

    Returns
    -------
    The path of ``catalog.json``. Links (catalogue type ``SELF_CONTAINED``) and asset hrefs are
    relative to the file that holds them.

    """
    import pystac
    from pyproj import Transformer
    from pystac.extensions.projection import ProjectionExtension

    catalog = pystac.Catalog(
        id="minecarbon",
        description=f"minecarbon monitoring database of {ws.root.name}: rasters and lineage",
        title=f"minecarbon — {ws.config.project.name}",
    )
    transformers: dict[str, Transformer] = {}
    for rec in ws.catalog.datasets():
        if not (is_raster(Path(rec.path)) and rec.crs and rec.bbox):
            continue
        if rec.crs not in transformers:
            transformers[rec.crs] = Transformer.from_crs(rec.crs, "EPSG:4326", always_xy=True)
        to_wgs84 = transformers[rec.crs]
        x0, y0, x1, y1 = rec.bbox
        lon0, lat0, lon1, lat1 = to_wgs84.transform_bounds(x0, y0, x1, y1)
        ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
        when, start, end = _time_range(rec)
        item = pystac.Item(
            id=f"{rec.id}-{Path(rec.path).stem}",
            geometry={"type": "Polygon", "coordinates": [ring]},
            bbox=[lon0, lat0, lon1, lat1],
            datetime=when,
            start_datetime=start,
            end_datetime=end,
            properties={
                "minecarbon:kind": rec.kind,
                "minecarbon:step": rec.step,
                "minecarbon:sha256": rec.sha256,
                "minecarbon:inputs": [p for p, _ in rec.inputs],
                "minecarbon:parameters": rec.parameters,
                "minecarbon:versions": rec.versions,
            },
        )
        proj = ProjectionExtension.ext(item, add_if_missing=True)
        from pyproj import CRS

        epsg = CRS.from_user_input(rec.crs).to_epsg()
        if epsg is not None:
            proj.epsg = epsg
        else:
            proj.wkt2 = CRS.from_user_input(rec.crs).to_wkt()
        proj.bbox = [x0, y0, x1, y1]
        item.add_asset(
            "data",
            pystac.Asset(
                href=str(ws.root / rec.path),
                media_type=pystac.MediaType.GEOTIFF,
                roles=["data"],
                title=rec.path,
            ),
        )
        catalog.add_item(item)
    folder = stac_folder(ws, out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    catalog.normalize_hrefs(str(folder))
    catalog.make_all_asset_hrefs_relative()  # relative to each item's JSON file
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return folder / "catalog.json"
