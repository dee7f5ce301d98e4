"""Simulated TLS plots for the TLS tests, built once per session (each takes a few seconds)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from minecarbon.demo.pointclouds import simulate_tls, synthetic_stand
from minecarbon.survey.tls import TlsResult, match_to_tally, process_plot
from minecarbon.survey.tls.matching import MatchResult

CX, CY = 500_000.0, 4_000_000.0
SIDE = 30.0
GROUND = (300.0, 0.12, -0.06)  # about 7.7 % and 3.5 % slopes


def stand(seed: int, n: int = 45, *, min_gap_m: float = 1.8) -> pd.DataFrame:
    """A stand like the simulator's: n trees over the scanned 36 m square (≈ 35 in the plot)."""
    return synthetic_stand(seed, n, (CX, CY), SIDE, min_gap_m=min_gap_m)


@dataclass(frozen=True)
class SimPlot:
    xyz: np.ndarray
    classification: np.ndarray
    truth: pd.DataFrame

    @property
    def tally(self) -> pd.DataFrame:
        """The in-plot trees as a tally (columns x, y, dbh_cm, height_m, tree_id, lean_deg)."""
        t = self.truth[self.truth["in_plot"]]
        return t.rename(columns={"x_m": "x", "y_m": "y"}).reset_index(drop=True)

    def run(self, xyz: np.ndarray | None = None, **kwargs: object) -> tuple[TlsResult, MatchResult]:
        result = process_plot(self.xyz if xyz is None else xyz, centre_xy=(CX, CY),
                              side_m=SIDE, **kwargs)  # type: ignore[arg-type]
        return result, match_to_tally(result.trees, self.tally, max_distance_m=1.0)


_CACHE: dict[int, SimPlot] = {}


def simulated(seed: int) -> SimPlot:
    if seed not in _CACHE:
        xyz, cls, truth = simulate_tls(stand(seed), (CX, CY), SIDE, GROUND, seed)
        _CACHE[seed] = SimPlot(xyz, cls, truth)
    return _CACHE[seed]


@pytest.fixture(scope="session")
def plot1() -> SimPlot:
    return simulated(1)
