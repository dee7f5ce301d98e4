"""The annual AGC maps of a demo workspace scored against the simulator's truth (issue 14).

:func:`score_workspace` reads ``truth/`` and the delivered products of a finished demo
workspace and measures what a map reader sees: over *all* truth-forest pixels inside the
monitoring extent, every year, an unmapped pixel (NaN in ``products/agc/agc_<year>.tif``, or
no file for the year) counting as 0 t C/ha. :func:`write_truth_comparison` writes the result to
``<workspace>/truth_comparison.json`` (not catalogued: it is a verdict on the products, not one
of them). The measures and the targets are those of issue 14:

==========================  ===================================================================
coverage                    share of truth-forest pixels with a finite mapped AGC (≥ 95 %)
site total                  mapped (every finite mapped pixel in the extent, so commission
                            counts) / truth (truth forest), t C (within ±10 %)
year-to-year change         of the site total in % of the previous year, mapped minus truth,
                            in points (within ±3)
persistent forest           pixels truth-forest every year: mean change first → last year,
                            mapped / truth (0.8–1.2); also, without a target, over the true
                            persistent-forest unit of the last year (持续森林, level-1 code 1)
Sen slope                   per pixel over all years on the persistent forest
                            (:func:`minecarbon.assessment.sen_mk`, default alpha, on both
                            series): ratio of the means (0.8–1.2), Pearson r (≥ 0.6) and the
                            share of pixels whose trend class is the truth's (≥ 70 %)
RMSE and bias               per year over truth forest, in % of the truth mean (RMSE ≤ 25 %,
                            |bias| ≤ 5 %)
forest area                 mapped (finite pixels in the extent) and truth, ha (no target)
error budget                per year, the bias split exactly into the unmapped truth forest's
                            part (−Σ its truth / Σ truth) and the mapped pixels'; the unmapped
                            pixels' share of the squared error; the RMSE of the mapped pixels
                            alone; commission pixels and their carbon (no target)
==========================  ===================================================================

Where it lives: the demo package sits below ``assessment`` in the import-linter layers
(``pyproject.toml``), so it may not call the project's own Sen + Mann–Kendall kernel;
``report`` is the lowest layer that may import ``assessment``, ``demo`` (for the simulated
mine's extent) and ``io``, and the comparison is a report on the products' accuracy
(``docs/accuracy.md``). The report that the pipeline renders never calls this module: it is the
only code that reads the truth rasters (besides the tests that check it), through
:mod:`minecarbon.io`, as it writes its JSON; the small site record ``truth/site.json`` is parsed
as ``minecarbon.demo.deliver.already_delivered`` parses it.

Truth layout (``minecarbon.demo.generate``): ``truth/agc_<year>.tif`` (t C/ha, float32, NaN
outside true forest) and ``truth/units_l1_<year>.tif`` (uint8, 0 outside the monitoring extent
and on never-forest pixels, so truth forest in the extent is ``finite(agc) & units_l1 > 0``).
The extent itself (needed for the commission in the mapped total and area) is the simulated
mine's, rebuilt from the spec in ``truth/site.json`` exactly as the simulator drew it (mining-
right boundary buffered by ``buffer_m``, pixel centres inside); a workspace whose truth has no
site record (a hand-made one, as in the tests) is scored over its whole grid.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from minecarbon.config import CONFIG_FILE, load_config
from minecarbon.errors import PathNotFoundError
from minecarbon.io.tables import write_json
from minecarbon.report.truth_measures import MIN_UNIT_PIXELS, TARGETS, score_series, unit_bias
from minecarbon.report.truth_reading import recorded_site_spec, truth_and_maps
from minecarbon.types import AssessmentUnit

__all__ = [
    "MIN_UNIT_PIXELS",
    "RESULT_FILE",
    "TARGETS",
    "json_ready",
    "recorded_site_spec",
    "score_series",
    "score_workspace",
    "unit_bias",
    "write_truth_comparison",
]

#: Where :func:`write_truth_comparison` writes, relative to the workspace root.
RESULT_FILE = "truth_comparison.json"


def score_workspace(root: Path) -> dict[str, Any]:
    """Score a finished demo workspace's annual AGC maps against the simulator's truth.

    Parameters
    ----------
    root
        The workspace: ``minecarbon.toml`` (its ``project.first_year``–``last_year`` are the
        years scored), ``truth/agc_<year>.tif`` and ``truth/units_l1_<year>.tif`` for every
        year, ``products/agc/agc_<year>.tif`` where mapped (a missing year is unmapped).

    Returns
    -------
    dict
        :func:`score_series`'s result plus ``workspace``, ``extent_source`` and
        ``extent_pixels``. Both series are held in memory as float32 (100 MB each for the
        medium site's 1000 × 1000 pixels × 25 years).

    Raises
    ------
    ConfigError
        If ``minecarbon.toml`` is missing or invalid.
    PathNotFoundError
        If a truth file is missing (the workspace was not made by ``minecarbon demo``).
    InputDataError
        If a raster is unreadable or the years are fewer than 4.

    """
    root = Path(root)
    if not (root / CONFIG_FILE).exists():
        raise PathNotFoundError(f"{root} has no {CONFIG_FILE}",
                                fix="name a workspace made by `minecarbon demo`")
    project = load_config(root / CONFIG_FILE).project
    years = list(range(project.first_year, project.last_year + 1))
    truth, mapped, grid, inside, source, units = truth_and_maps(root, years)
    result = score_series(truth, mapped, years, grid.pixel_area_ha,
                          persistent_unit=units[-1] == int(AssessmentUnit.PERSISTENT),
                          units_l1=units)
    return {"workspace": str(root), "extent_source": source,
            "extent_pixels": int(np.count_nonzero(inside)), **result}



# --------------------------------------------------------------------------------------------
# writing


def json_ready(value: Any, digits: int = 6) -> Any:
    """A JSON-ready copy of a score: floats to ``digits`` significant digits, NaN/inf → None.

    Parameters
    ----------
    value
        A :func:`score_workspace` result (or any part of it).
    digits
        Significant digits kept.

    Returns
    -------
    Any
        Dicts, lists, bools, ints, floats, None and strings only; strict JSON (no NaN).

    """
    if isinstance(value, dict):
        return {str(k): json_ready(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v, digits) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        if not math.isfinite(v):
            return None
        return float(f"{v:.{digits}g}")
    return value


def write_truth_comparison(result: dict[str, Any], root: Path) -> Path:
    """Write a :func:`score_workspace` result to ``<root>/truth_comparison.json``, atomically.

    Floats are kept to 6 significant digits; undefined values (NaN) are written as ``null``.
    The file is not catalogued: it judges the products, it is not one of them.

    Parameters
    ----------
    result
        The score.
    root
        The workspace folder.

    Returns
    -------
    Path
        The file written.

    """
    path = Path(root) / RESULT_FILE
    write_json(json_ready(result), path)
    return path
