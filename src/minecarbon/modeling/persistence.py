"""Save and load a fitted :class:`~minecarbon.modeling.stratified.StratifiedModel`.

``save_model(model, "work/models/agc.joblib")`` writes the model with joblib and, beside it,
``agc.json``: the model card plus the sha256 of the joblib file. :func:`load_model` checks that
the two belong together (same checksum and same feature names), optionally that a feature stack
has every feature the model needs, and warns when scikit-learn or XGBoost differ from the
versions that fitted the model. Both files are written under a temporary name and renamed, so
a failure leaves no half-written model.

A joblib file is a pickle: load only models you (or your project) wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib

from minecarbon.errors import InputDataError, PathNotFoundError, warn
from minecarbon.modeling.stratified import StratifiedModel, software_versions

FORMAT = "minecarbon.StratifiedModel"
FORMAT_VERSION = 1


def sidecar_path(path: Path | str) -> Path:
    """The JSON model card beside a model file (``agc.joblib`` → ``agc.json``)."""
    return Path(path).with_suffix(".json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_model(model: StratifiedModel, path: Path | str) -> Path:
    """Write ``model`` to ``path`` (joblib) and its model card to the ``.json`` beside it.

    Returns
    -------
    pathlib.Path
        The model file.

    """
    path = Path(path)
    if path.suffix == ".json":
        raise InputDataError(f"model file {path} ends in .json, the sidecar's suffix",
                             fix="name it e.g. agc_model.joblib")
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "features": model.features,
               "model": model}
    tmp = path.with_name(f".{path.name}.tmp")
    joblib.dump(payload, tmp, compress=3)
    card = {"format": FORMAT, "format_version": FORMAT_VERSION, "model_file": path.name,
            "sha256": _sha256(tmp), "model_card": model.model_card()}
    side = sidecar_path(path)
    side_tmp = side.with_name(f".{side.name}.tmp")
    side_tmp.write_text(json.dumps(card, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    os.replace(side_tmp, side)
    return path


def load_model(path: Path | str, *, features: Sequence[str] | None = None) -> StratifiedModel:
    """Read a model written by :func:`save_model` and check it.

    Parameters
    ----------
    path
        The model file.
    features
        Features available for prediction (e.g. the variables of a feature stack); every
        feature of the model must be among them.

    Raises
    ------
    PathNotFoundError
        The model file or its JSON sidecar is missing.
    InputDataError
        The file is not a minecarbon model, does not match its sidecar (checksum or feature
        names), or ``features`` lacks some of the model's features.

    """
    path = Path(path)
    side = sidecar_path(path)
    for p in (path, side):
        if not p.is_file():
            raise PathNotFoundError(f"model file {p} does not exist",
                                    fix="fit the models first (the modeling step writes both)")
    card: dict[str, Any] = json.loads(side.read_text(encoding="utf-8"))
    if card.get("sha256") != _sha256(path):
        raise InputDataError(f"{path} does not match its model card {side} (checksum differs)",
                             fix="save the model again; do not mix files of two fits")
    payload = joblib.load(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise InputDataError(f"{path} is not a minecarbon model file",
                             fix="give a file written by minecarbon.modeling.save_model")
    model = payload["model"]
    if not isinstance(model, StratifiedModel):
        raise InputDataError(f"{path} holds a {type(model).__name__}, not a StratifiedModel",
                             fix="give a file written by minecarbon.modeling.save_model")
    card_features = card.get("model_card", {}).get("features_in")
    if list(model.features) != list(payload["features"]) or card_features != model.features:
        raise InputDataError(
            f"{path}: the feature names of the model, the file header and {side.name} differ",
            fix="save the model again",
        )
    if features is not None:
        missing = [f for f in model.features if f not in set(features)]
        if missing:
            raise InputDataError(
                f"model {path.name} needs features the stack lacks: {', '.join(missing)}",
                fix="build the feature stacks with the features the model was fitted on",
            )
    now = software_versions()
    changed = [f"{k} {v} → {now.get(k)}" for k, v in model.versions.items()
               if k in ("scikit-learn", "xgboost") and now.get(k) != v]
    if changed:
        warn(f"model {path.name} was fitted with other versions ({'; '.join(changed)}); "
             "predictions may differ", UserWarning, stacklevel=2)
    return model
