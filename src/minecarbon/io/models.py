"""Fitted models on disk: a joblib file and a JSON model card beside it.

``save_model(obj, "work/models/agc.joblib", fmt=..., card=..., header=...)`` writes the object
with joblib (compressed) inside a small payload ``{"format", "format_version", **header,
"model"}`` and, beside it, ``agc.json``: the format, the model file's name, its sha256 and the
caller's model card. :func:`load_model` checks that the two files exist and belong together
(same checksum) and that the payload has the expected format, and returns the object, the
header and the card. Both files are written under a temporary name and renamed, so a failure
leaves no half-written model.

This module knows nothing of what the object is: checks of the object itself (its class, its
features, the library versions that fitted it) belong to the layer that defines it, e.g.
:func:`minecarbon.modeling.persistence.check_loaded`.

A joblib file is a pickle: load only models you (or your project) wrote.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NamedTuple

import joblib

from minecarbon.errors import InputDataError, PathNotFoundError
from minecarbon.io.files import sha256_file


class StoredModel(NamedTuple):
    """What :func:`load_model` read: the object, the payload header and the model card."""

    model: Any
    header: dict[str, Any]
    card: dict[str, Any]


def sidecar_path(path: Path | str) -> Path:
    """The JSON model card beside a model file (``agc.joblib`` → ``agc.json``)."""
    return Path(path).with_suffix(".json")


def save_model(
    obj: Any,
    path: Path | str,
    *,
    fmt: str,
    card: dict[str, Any],
    header: dict[str, Any] | None = None,
    format_version: int = 1,
) -> Path:
    """Write ``obj`` to ``path`` (joblib) and its model card to the ``.json`` beside it.

    Parameters
    ----------
    obj
        The fitted model (anything joblib can pickle).
    path
        The model file; must not end in ``.json`` (the sidecar's suffix).
    fmt
        Format name recorded in both files and required by :func:`load_model`.
    card
        JSON-ready model card (stored under ``"model_card"`` in the sidecar).
    header
        Extra JSON-ready items stored in the joblib payload beside the object (e.g. the
        feature names, checked against the object on loading).
    format_version
        Version of ``fmt``.

    Returns
    -------
    pathlib.Path
        The model file.

    Raises
    ------
    InputDataError
        ``path`` ends in ``.json``, or ``header`` uses a reserved key.

    """
    path = Path(path)
    if path.suffix == ".json":
        raise InputDataError(f"model file {path} ends in .json, the sidecar's suffix",
                             fix="name it e.g. agc_model.joblib")
    header = dict(header or {})
    reserved = {"format", "format_version", "model"} & set(header)
    if reserved:
        raise InputDataError(f"model file {path}: header keys {sorted(reserved)} are reserved",
                             fix="rename them")
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": fmt, "format_version": format_version, **header, "model": obj}
    tmp = path.with_name(f".{path.name}.tmp")
    side = sidecar_path(path)
    side_tmp = side.with_name(f".{side.name}.tmp")
    try:
        joblib.dump(payload, tmp, compress=3)
        sidecar = {"format": fmt, "format_version": format_version, "model_file": path.name,
                   "sha256": sha256_file(tmp), "model_card": card}
        side_tmp.write_text(json.dumps(sidecar, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
        os.replace(side_tmp, side)
    finally:
        tmp.unlink(missing_ok=True)
        side_tmp.unlink(missing_ok=True)
    return path


def load_model(path: Path | str, *, fmt: str) -> StoredModel:
    """Read a model written by :func:`save_model` and check the files belong together.

    Parameters
    ----------
    path
        The model file.
    fmt
        The format the file must have (as given to :func:`save_model`).

    Returns
    -------
    StoredModel
        ``model`` (the object), ``header`` (the payload items other than the object, the
        format included) and ``card`` (the whole JSON sidecar; the caller's card is under
        ``"model_card"``).

    Raises
    ------
    PathNotFoundError
        The model file or its JSON sidecar is missing.
    InputDataError
        The sidecar's checksum does not match the model file, or the file is not of ``fmt``.

    """
    path = Path(path)
    side = sidecar_path(path)
    for p in (path, side):
        if not p.is_file():
            raise PathNotFoundError(f"model file {p} does not exist",
                                    fix="fit the models first (the modeling step writes both)")
    try:
        card: Any = json.loads(side.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputDataError(f"model card {side} is not JSON ({error})",
                             fix="save the model again") from None
    if not isinstance(card, dict) or card.get("sha256") != sha256_file(path):
        raise InputDataError(f"{path} does not match its model card {side} (checksum differs)",
                             fix="save the model again; do not mix files of two fits")
    payload = joblib.load(path)
    if not isinstance(payload, dict) or payload.get("format") != fmt or "model" not in payload:
        raise InputDataError(f"{path} is not a minecarbon model file of format {fmt!r}",
                             fix="give a file written by minecarbon.io.models.save_model")
    header = {k: v for k, v in payload.items() if k != "model"}
    return StoredModel(payload["model"], header, card)
