"""Scene bundles at import: unpacked into a staging folder, then admitted member by member.

A Landsat Collection-2 ``.tar`` or a Sentinel-2 ``.SAFE.zip`` (:mod:`minecarbon.io.bundles`)
is unpacked into ``work/unpack/``; its members are checked like any scene file and moved into
``raw/scene/<bundle>/``, each recording ``<bundle path>!<member>`` (and the bundle's sha256)
as its source. The staging folder is removed whatever happens, so a refused bundle leaves
nothing behind.

A folder of scenes as the providers unpack them may hold files the pipeline does not read
(Landsat's ``…_QA_RADSAT.TIF`` and thumbnails, a ``.SAFE`` folder's ``manifest.safe`` and
``QI_DATA``); they are left out with a warning naming them instead of refusing the folder.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from minecarbon.catalog import Workspace
from minecarbon.catalog.workspace import RawFile
from minecarbon.errors import InputDataError, MinecarbonError, warn
from minecarbon.io.bundles import BUNDLE_SUFFIXES, is_bundle, is_scene_ancillary, unpack
from minecarbon.io.files import sha256_file

__all__ = ["unpacked_bundles"]

SCENE_KIND = "scene"


@contextmanager
def unpacked_bundles(ws: Workspace, kind: str, source: Path,
                     files: list[Path]) -> Iterator[list[RawFile]]:
    """The files an import brings: every bundle replaced by its members, ancillaries left out.

    Raises
    ------
    InputDataError
        For a bundle imported as another kind than ``scene``, or one :func:`unpack` refuses.

    """
    base = source if source.is_dir() else source.parent
    bundles = [f for f in files if is_bundle(f)]
    if bundles and kind != SCENE_KIND:
        raise InputDataError(
            f"{bundles[0]} is an archive ({', '.join(BUNDLE_SUFFIXES)}); only scene bundles "
            "are unpacked at import",
            fix=f"import it as `minecarbon import {SCENE_KIND} …`, or unpack it and import "
                "its files",
        )
    extras = ([f for f in files if is_scene_ancillary(f.relative_to(base))]
              if kind == SCENE_KIND and source.is_dir() else [])
    entries = [RawFile(f, f.relative_to(base)) for f in files
               if not is_bundle(f) and f not in extras]
    said = [f"{source}: left out {len(extras)} files the provider delivers with its scenes but "
            f"the pipeline does not read ({_names(extras)})"] if extras else []
    if not bundles:
        yield entries
        for text in said:
            warn(text)
        return
    staging_root = ws.path("work/unpack")
    staging_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=staging_root))
    shown: dict[str, str] = {}  # staged path → how a message names it: bundle!member
    left_out: list[Path] = []
    imported = 0
    try:
        for i, bundle in enumerate(bundles):
            got = unpack(bundle, staging / str(i))
            folder = bundle.relative_to(base).parent
            digest = sha256_file(bundle)
            for path, name, member in got.files:
                shown[str(path)] = f"{bundle}!{member}"
                entries.append(RawFile(path, folder / name, f"{bundle.resolve()}!{member} "
                                       f"(bundle sha256 {digest})", move=True))
            left_out += [Path(m) for m in got.left_out]
            imported += len(got.files)
        try:
            yield sorted(entries, key=lambda e: e.name)
        except MinecarbonError as error:  # name the bundle's member, not the staging folder
            message = error.message
            for staged, shown_as in shown.items():
                message = message.replace(staged, shown_as)
            if message == error.message:
                raise
            raise type(error)(message, fix=error.fix) from None
        if left_out:  # said only once the bundles are admitted
            what = bundles[0].name if len(bundles) == 1 else f"{len(bundles)} bundles"
            said.append(f"{what}: {imported} members imported; left out {len(left_out)} the "
                        f"pipeline does not read or holds at a finer resolution "
                        f"({_names(left_out)})")
        for text in said:
            warn(text)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _names(paths: list[Path], shown: int = 6) -> str:
    return ", ".join(p.name for p in paths[:shown]) + (" …" if len(paths) > shown else "")
