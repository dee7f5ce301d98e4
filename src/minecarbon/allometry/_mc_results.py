"""The Monte Carlo's result: the draws per plot (:class:`PlotDraws`) and their summary.

Part of :mod:`minecarbon.allometry.uncertainty`: ``plot_carbon_draws`` returns a
:class:`PlotDraws`, and its :meth:`PlotDraws.summary` is the per-hectare table of
``plot_agc_monte_carlo`` (deterministic estimate, mean, standard deviation and 2.5 / 97.5
percentiles of the draws, per plot).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Float32Array = NDArray[np.float32]
IntArray = NDArray[np.intp]


@dataclass(frozen=True)
class PlotDraws:
    """Monte-Carlo draws per plot (rows in the order of ``plot_area_ha``), in kg per plot."""

    plot_ids: tuple[Hashable, ...]
    area_ha: FloatArray
    n_trees: IntArray
    agb_kg: FloatArray
    """Deterministic AGB per plot (no error)."""
    agc_kg: FloatArray
    """Deterministic AGC per plot (no error)."""
    agb_draws_kg: Float32Array
    """(n_plots, n_draws) AGB draws."""
    agc_draws_kg: Float32Array
    """(n_plots, n_draws) AGC draws."""

    @property
    def n_draws(self) -> int:
        """Number of Monte-Carlo draws."""
        return int(self.agb_draws_kg.shape[1])

    def summary(self) -> pd.DataFrame:
        """Per-hectare summary, one row per plot (see :func:`plot_agc_monte_carlo`)."""
        per_ha = 1.0 / (1000.0 * self.area_ha)
        out: dict[str, Any] = {
            "plot_id": list(self.plot_ids),
            "n_trees": self.n_trees.astype(np.int64),
            "n_draws": np.full(len(self.plot_ids), self.n_draws, dtype=np.int64),
        }
        for name, value, draws in (("agc", self.agc_kg, self.agc_draws_kg),
                                   ("agb", self.agb_kg, self.agb_draws_kg)):
            mean, sd, low, high = _summarise(draws)
            out[f"{name}_t_per_ha"] = value * per_ha
            out[f"{name}_mc_mean"] = mean * per_ha
            out[f"{name}_sd"] = sd * per_ha
            out[f"{name}_ci_low"] = low * per_ha
            out[f"{name}_ci_high"] = high * per_ha
        return pd.DataFrame(out)


def _summarise(draws: Float32Array) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Mean, sd, 2.5 and 97.5 percentiles of each row, in float64 (row blocks bound memory)."""
    n_plots, n_draws = draws.shape
    mean = np.empty(n_plots)
    sd = np.empty(n_plots)
    low = np.empty(n_plots)
    high = np.empty(n_plots)
    step = max(1, 2**22 // max(n_draws, 1))
    for start in range(0, n_plots, step):
        rows = draws[start : start + step].astype(np.float64)
        mean[start : start + step] = rows.mean(axis=1)
        sd[start : start + step] = rows.std(axis=1, ddof=1) if n_draws > 1 else 0.0
        low[start : start + step], high[start : start + step] = np.percentile(
            rows, [2.5, 97.5], axis=1
        )
    return mean, sd, low, high
