"""Delivering the simulated site into a workspace, as a user importing provider data would."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from minecarbon.catalog import Workspace
from minecarbon.catalog.workspace import RawFile
from minecarbon.config import CONFIG_FILE, render_config
from minecarbon.demo._usgs import is_landsat_scene, landsat_bundle
from minecarbon.demo.generate import generate_site
from minecarbon.demo.spec import SiteSpec
from minecarbon.io.bundles import unpack
from minecarbon.io.files import atomic_path

SOURCE_NOTE = "minecarbon demo: simulated provider delivery"


def demo_config(spec: SiteSpec) -> str:
    """The workspace configuration of the simulated site."""
    return render_config({
        "project": {"name": f"模拟煤矿 simulated coal mine ({spec.size.value}, seed {spec.seed})",
                    "crs": spec.grid.crs, "first_year": spec.first_year,
                    "last_year": spec.last_year},
        "scope": {"buffer_m": spec.buffer_m, "pixel_size_m": spec.pixel_size_m},
        "assessment": {"base_years": spec.base_years},
        "mapping": {"prediction_intervals": True},
    })


def _spec_record(spec: SiteSpec) -> dict[str, object]:
    return spec.record()


def already_delivered(ws: Workspace, spec: SiteSpec) -> bool:
    """Whether the workspace holds this very site (same spec) already."""
    path = ws.path("truth/site.json")
    if not path.exists():
        return False
    recorded = json.loads(path.read_text(encoding="utf-8")).get("spec", {})
    return bool(recorded == json.loads(json.dumps(_spec_record(spec))))


def _deliver_bundle(ws: Workspace, scene: Path, folder: Path, time: str | None) -> int:
    """A Landsat scene as USGS delivers it (a ``.tar``), unpacked into ``raw/scene/``.

    As an import of the download would (:func:`minecarbon.io.bundles.unpack`).
    """
    bundle = landsat_bundle(scene, folder)
    scene.unlink()
    got = unpack(bundle, folder / "unpacked")
    entries = [RawFile(path, name, f"{SOURCE_NOTE}: {bundle.name}!{member}", move=True)
               for path, name, member in got.files]
    count = len(ws.import_files("scene", entries, time=time))
    bundle.unlink()
    return count


def deliver(ws: Workspace, spec: SiteSpec,
            progress: Callable[[str, float], None] | None = None) -> int:
    """Generate the site in ``work/delivery``, import it into ``raw/``, publish ``truth/``.

    Returns the number of datasets delivered. The configuration is rewritten for the site.
    """
    with atomic_path(ws.path(CONFIG_FILE)) as tmp:
        tmp.write_text(demo_config(spec), encoding="utf-8")
    ws.reload_config()
    staging = ws.path("work/delivery")
    shutil.rmtree(staging, ignore_errors=True)
    delivery = generate_site(spec, staging, progress)
    count = 0
    for kind, path, time in delivery.raw:
        if kind == "scene" and is_landsat_scene(path):
            count += _deliver_bundle(ws, path, staging / "bundles", time)
            continue
        count += len(ws.import_raw(kind, path, time=time, move=True, source_note=SOURCE_NOTE))
    for path, kind, time in delivery.truth:
        rel = "truth/" + path.relative_to(staging / "truth").as_posix()
        ws.publish(rel, (lambda src: lambda tmp: os.replace(src, tmp))(path), kind=kind,
                   step="demo", time=time, parameters=_spec_record(spec))
        count += 1
    shutil.rmtree(staging, ignore_errors=True)
    return count
