"""AGC maps from fitted models (requirements M6, M7; guide ch. 4).

* :mod:`~minecarbon.mapping.predict` — per-pixel AGC with each forest type's model, block by
  block, and its conformal interval bounds;
* :mod:`~minecarbon.mapping.annual` — a year's AGC totals per assessment unit;
* :mod:`~minecarbon.mapping.trajectory` — each pixel's annual series fitted per forest span as
  a piecewise-linear trajectory (exact penalised segmentation, numba);
* :mod:`~minecarbon.mapping.calibration` — the change from the plots' year rescaled by the
  model's attenuation, and the residual offsets of the difference estimator.

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
