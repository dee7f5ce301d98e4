"""What a saved :class:`~minecarbon.modeling.stratified.StratifiedModel` carries, and its checks.

No file access here (only :mod:`minecarbon.io` opens files): :func:`model_payload` gives the
format, header and model card that :func:`minecarbon.io.models.save_model` writes beside the
model, and :func:`check_loaded` checks what :func:`minecarbon.io.models.load_model` read back::

    fmt, header, card = model_payload(model)
    save_model(model, path, fmt=fmt, header=header, card=card)
    stored = load_model(path, fmt=MODEL_FORMAT)
    model = check_loaded(stored.model, stored.header, stored.card, features=stack_variables)

:func:`check_loaded` refuses an object that is not a StratifiedModel or whose feature names
differ between the model, the file header and the card, and (given the variables of a feature
stack) one whose features are not all there; it warns when scikit-learn or XGBoost differ from
the versions that fitted the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from minecarbon.errors import InputDataError, warn
from minecarbon.modeling.stratified import StratifiedModel, software_versions

MODEL_FORMAT = "minecarbon.StratifiedModel"
MODEL_FORMAT_VERSION = 1


def model_payload(model: StratifiedModel) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The format name, the file header and the JSON model card to save with ``model``.

    Returns
    -------
    (str, dict, dict)
        :data:`MODEL_FORMAT`, ``{"features": model.features}`` and ``model.model_card()``.

    """
    if not isinstance(model, StratifiedModel):
        raise InputDataError(f"cannot save a {type(model).__name__} as an AGC model",
                             fix="give a StratifiedModel (fit_stratified)")
    return MODEL_FORMAT, {"features": list(model.features)}, model.model_card()


def check_loaded(
    obj: Any,
    header: dict[str, Any],
    card: dict[str, Any],
    *,
    features: Sequence[str] | None = None,
    name: str = "the model file",
) -> StratifiedModel:
    """Check a model read back from disk and return it.

    Parameters
    ----------
    obj
        The loaded object.
    header
        The file header saved with it (``features``).
    card
        The JSON sidecar (the model card under ``"model_card"``).
    features
        Features available for prediction (e.g. the variables of a feature stack); every
        feature of the model must be among them.
    name
        How messages name the model file.

    Raises
    ------
    InputDataError
        ``obj`` is not a StratifiedModel, its feature names differ from the header's or the
        card's, or ``features`` lacks some of the model's features.

    """
    if not isinstance(obj, StratifiedModel):
        raise InputDataError(f"{name} holds a {type(obj).__name__}, not a StratifiedModel",
                             fix="give a file written by the models step")
    card_features = (card.get("model_card") or {}).get("features_in")
    if list(obj.features) != list(header.get("features") or []) or card_features != obj.features:
        raise InputDataError(
            f"{name}: the feature names of the model, the file header and its model card differ",
            fix="save the model again",
        )
    if features is not None:
        missing = [f for f in obj.features if f not in set(features)]
        if missing:
            raise InputDataError(
                f"model {name} needs features the stack lacks: {', '.join(missing)}",
                fix="build the feature stacks with the features the model was fitted on",
            )
    now = software_versions()
    changed = [f"{k} {v} → {now.get(k)}" for k, v in obj.versions.items()
               if k in ("scikit-learn", "xgboost") and now.get(k) != v]
    if changed:
        warn(f"model {name} was fitted with other versions ({'; '.join(changed)}); "
             "predictions may differ", UserWarning, stacklevel=2)
    return obj
