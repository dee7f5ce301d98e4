"""The field campaign a surveyor would run on the simulated site in its last year.

Plots are single pixels (30 m squares for 30 m imagery, requirement P1), placed in the
interior of every level-2 assessment unit of the survey year (at least ``min_per_unit``, more
in larger units), at least ``min_spacing_px`` apart. Each plot gets a tree list whose carbon,
through the default biomass models, equals the pixel's true AGC to within one tree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage

from minecarbon.allometry.equations import BiomassModel, ModelTable
from minecarbon.demo.forest import mean_dbh_cm, mean_height_m
from minecarbon.grid import AnalysisGrid
from minecarbon.standard.species import by_code

_TOTAL_PLOTS = {200: 120, 1000: 240, 4000: 400}


def place_plots(units_l2: np.ndarray, in_extent: np.ndarray, grid: AnalysisGrid, seed: int,
                *, min_per_unit: int = 5, min_spacing_px: int = 3) -> pd.DataFrame:
    """Plot pixels per level-2 unit: interior pixels (3 × 3 of one unit), spaced, seeded.

    Returns plot_id, row, col, x, y (pixel centre), unit_l2 (the truth the plot was drawn in).
    """
    rng = np.random.default_rng([seed, 7001])
    total = _TOTAL_PLOTS.get(grid.width, 200)
    codes = [int(c) for c in np.unique(units_l2) if c]
    interior = {}
    for code in codes:
        mask = (units_l2 == code) & in_extent
        interior[code] = np.argwhere(ndimage.binary_erosion(mask, np.ones((3, 3), bool)))
    area = {c: len(v) for c, v in interior.items()}
    forest_area = sum(area.values()) or 1
    taken = np.zeros(units_l2.shape, bool)
    rows = []
    for code in codes:
        cand = interior[code]
        if len(cand) == 0:
            cand = np.argwhere((units_l2 == code) & in_extent)
        want = max(min_per_unit, round(total * area[code] / forest_area))
        for r, c in cand[rng.permutation(len(cand))]:
            if want == 0:
                break
            r0, c0 = max(r - min_spacing_px + 1, 0), max(c - min_spacing_px + 1, 0)
            if taken[r0:r + min_spacing_px, c0:c + min_spacing_px].any():
                continue
            taken[r, c] = True
            rows.append((int(r), int(c), code))
            want -= 1
    rows.sort(key=lambda t: (-t[0], t[1]))  # south to north, west to east: survey order
    frame = pd.DataFrame(rows, columns=["row", "col", "unit_l2"])
    frame.insert(0, "plot_id", [f"P{i + 1:03d}" for i in range(len(frame))])
    frame["x"] = grid.x_coords()[frame["col"]]
    frame["y"] = grid.y_coords()[frame["row"]]
    return frame


def tree_list(plot_id: str, x: float, y: float, side_m: float, agc_t_per_ha: float,
              species: int, species2: int, share2: float, age: float, seed: int,
              models: ModelTable) -> pd.DataFrame:
    """Trees of one plot whose total AGC (default models, true heights) matches the pixel.

    ``plot_id`` is ``P<number>``, or ``P<number>-<year>`` for a re-measurement (its own random
    stream). Columns: plot_id, tree_id, species_code, dbh_cm, height_m, x, y, lean_deg,
    lean_azimuth_deg, crown_radius_m, agc_kg (the simulator's own allometry).
    """
    number, _, year = plot_id[1:].partition("-")
    rng = np.random.default_rng([seed, int(number)] + ([int(year)] if year else []))
    target_kg = agc_t_per_ha * side_m**2 / 10_000.0 * 1000.0
    parts = [(species, 1.0 - share2), (species2, share2)] if species2 else [(species, 1.0)]
    trees: list[tuple[int, float, float, float]] = []
    for code, share in parts:
        if code == 0 or share <= 0:
            continue
        model = models.model_for(by_code(int(code)).key)
        d_mean = float(mean_dbh_cm(np.array([code]), np.array([age]))[0])
        h_mean = float(mean_height_m(np.array([code]), np.array([age]))[0])
        goal, total = target_kg * share, 0.0
        carbon = _TreeCarbon(model, d_mean, h_mean)
        while goal > 0:
            factor = float(rng.lognormal(0.0, 0.07))
            d, h, c = carbon(float(np.clip(d_mean * rng.lognormal(0.0, 0.28), 5.0, 120.0)),
                             factor)
            if total + c <= goal:
                trees.append((int(code), d, h, c))
                total += c
                continue
            # the last tree is sized (bisection on DBH) to carry exactly what is left
            rest = goal - total
            lo, hi = 5.0, d
            if carbon(lo, factor)[2] <= rest:
                for _ in range(40):
                    mid = (lo + hi) / 2
                    lo, hi = (mid, hi) if carbon(mid, factor)[2] <= rest else (lo, mid)
                trees.append((int(code), *carbon(lo, factor)))
            break
    n = len(trees)
    frame = pd.DataFrame(trees, columns=["species_code", "dbh_cm", "height_m", "agc_kg"])
    frame.insert(0, "tree_id", [f"{plot_id}-{i + 1:03d}" for i in range(n)])
    frame.insert(0, "plot_id", plot_id)
    half = side_m / 2 - 0.5
    xs, ys = _spread(rng, n, half)
    frame["x"] = np.round(x + xs, 2)
    frame["y"] = np.round(y + ys, 2)
    lean = np.where(rng.random(n) < 0.12, rng.uniform(5, 15, n), rng.uniform(0, 4, n))
    frame["lean_deg"] = lean.round(1)
    frame["lean_azimuth_deg"] = rng.uniform(0, 360, n).round(0)
    frame["crown_radius_m"] = (0.8 + 0.075 * frame["dbh_cm"]).round(2)
    return frame


class _TreeCarbon:
    """(rounded DBH, rounded height, AGC kg) of a tree on a stand's height–diameter curve."""

    def __init__(self, model: BiomassModel, d_mean: float, h_mean: float) -> None:
        self.model, self.d_mean, self.h_mean = model, d_mean, h_mean

    def __call__(self, dbh: float, factor: float) -> tuple[float, float, float]:
        h = 1.3 + max(self.h_mean - 1.3, 1.0) * (dbh / self.d_mean) ** 0.55 * factor
        d, h = round(dbh, 1), round(float(np.clip(h, 2.0, 45.0)), 1)
        return d, h, float(self.model.agc_kg(np.array([d]), np.array([h]))[0])


def _spread(rng: np.random.Generator, n: int, half: float) -> tuple[np.ndarray, np.ndarray]:
    """Stem positions in the square, at least 1.2 m apart where space allows."""
    pts: list[tuple[float, float]] = []
    tries = 0
    while len(pts) < n:
        p = rng.uniform(-half, half, 2)
        tries += 1
        if tries < 200 * n and any((p[0] - a) ** 2 + (p[1] - b) ** 2 < 1.44 for a, b in pts):
            continue
        pts.append((float(p[0]), float(p[1])))
    arr = np.array(pts).reshape(-1, 2)
    return arr[:, 0], arr[:, 1]
