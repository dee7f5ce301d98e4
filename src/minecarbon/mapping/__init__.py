"""AGC maps from fitted models (requirements M6, M7; guide ch. 4).

* :mod:`~minecarbon.mapping.predict` — per-pixel AGC with each forest type's model, block by
  block, and its conformal interval bounds;
* :mod:`~minecarbon.mapping.annual` — a year's AGC totals per assessment unit.

No file access here: the pipeline's ``mapping`` step reads the stacks and writes the maps
through :mod:`minecarbon.io`. See docs/models.md, "Mapping".
"""

from __future__ import annotations

from minecarbon.mapping.annual import unit_totals
from minecarbon.mapping.predict import (
    FOREST_TYPE_LABELS,
    agc_intervals,
    model_inputs,
    predict_agc,
)

__all__ = ["FOREST_TYPE_LABELS", "agc_intervals", "model_inputs", "predict_agc", "unit_totals"]
