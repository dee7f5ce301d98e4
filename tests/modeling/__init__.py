"""Synthetic plot tables with a known AGC–feature relation, shared by the modeling tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: True AGC (t C/ha) = a + b·(ndvi − 0.3) + c·(tc_wetness + 0.1) per stratum.
TRUTH = {"coniferous": (5.0, 80.0, 400.0), "broadleaf": (10.0, 50.0, 600.0),
         "sparse": (2.0, 30.0, 100.0)}
RELEVANT = ["ndvi", "tc_wetness"]
IRRELEVANT = ["elevation_m", "slope_deg", "northness", "glcm_nir_mean", "glcm_nir_contrast",
              "tpi_m"]
FEATURES = ["ndvi", "savi", "tc_wetness", *IRRELEVANT]


def true_agc(table: pd.DataFrame) -> np.ndarray:
    """The noise-free AGC of each row of a synthetic table."""
    coef = np.array([TRUTH[s] for s in table["stratum"]])
    return coef[:, 0] + coef[:, 1] * (table["ndvi"] - 0.3) + coef[:, 2] * (
        table["tc_wetness"] + 0.1)


def synthetic_plots(counts: dict[str, int], seed: int = 0, noise_sd: float = 2.0) -> pd.DataFrame:
    """Plots of the given strata: AGC from ndvi and tc_wetness plus Gaussian noise.

    ``savi`` is a collinear twin of ``ndvi`` (r ≈ 0.97); the other features are noise.
    """
    rng = np.random.default_rng(seed)
    strata = np.repeat(list(counts), list(counts.values()))
    n = strata.size
    ndvi = rng.uniform(0.3, 0.9, n)
    table = pd.DataFrame({
        "plot_id": [f"P{i:03d}" for i in range(n)],
        "year": 2020,
        "stratum": strata,
        "ndvi": ndvi,
        "savi": 1.5 * ndvi - 0.2 + rng.normal(0, 0.06, n),
        "tc_wetness": rng.uniform(-0.1, 0.0, n),
        "elevation_m": rng.normal(1200, 100, n),
        "slope_deg": rng.uniform(0, 30, n),
        "northness": rng.uniform(-1, 1, n),
        "glcm_nir_mean": rng.uniform(0.1, 0.4, n),
        "glcm_nir_contrast": rng.gamma(2.0, 1.0, n),
        "tpi_m": rng.normal(0, 3, n),
    })
    table["agc_t_ha"] = true_agc(table) + rng.normal(0, noise_sd, n)
    return table
