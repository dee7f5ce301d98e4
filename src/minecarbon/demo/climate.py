"""The site's annual climate series: mean temperature and precipitation, 1995–2035."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Long-term means for the central Loess Plateau near Taiyuan (≈ 37°N, 112°E).
MEAN_TEMPERATURE_C = 9.8
MEAN_PRECIPITATION_MM = 470.0


def climate_series(years: list[int], seed: int) -> pd.DataFrame:
    """Annual mean temperature (°C, warming 0.03 °C/yr, AR(1) anomalies) and precipitation (mm).

    Returns a DataFrame with columns year, temperature_c, precipitation_mm.
    """
    rng = np.random.default_rng([seed, 4242])
    n = len(years)
    t_anom = np.zeros(n)
    p_anom = np.zeros(n)
    for i in range(n):
        prev_t = t_anom[i - 1] if i else 0.0
        prev_p = p_anom[i - 1] if i else 0.0
        t_anom[i] = 0.35 * prev_t + rng.normal(0.0, 0.45)
        p_anom[i] = 0.25 * prev_p + rng.normal(0.0, 0.17)
    yrs = np.asarray(years, dtype=float)
    temperature = MEAN_TEMPERATURE_C + 0.03 * (yrs - 2000.0) + t_anom
    precipitation = MEAN_PRECIPITATION_MM * np.exp(p_anom - 0.17**2 / 2)
    return pd.DataFrame({
        "year": np.asarray(years, dtype=int),
        "temperature_c": temperature.round(2),
        "precipitation_mm": precipitation.round(1),
    })


def growth_modifier(climate: pd.DataFrame) -> np.ndarray:
    """Yearly growth multiplier from climate: wetter and (mildly) warmer years grow more.

    ``m = 1 + 0.9·(P/P̄ − 1) + 0.06·(T − T̄)`` clipped to 0.4–1.6 — water limits growth on the
    Loess Plateau, so precipitation dominates. This is the simulator's truth of the climate
    signal that the cumulative-effect assessment (requirement A3) must separate from mining.
    """
    p = climate["precipitation_mm"].to_numpy() / MEAN_PRECIPITATION_MM - 1.0
    t = climate["temperature_c"].to_numpy() - MEAN_TEMPERATURE_C
    return np.asarray(np.clip(1.0 + 0.9 * p + 0.06 * t, 0.4, 1.6), dtype=float)
