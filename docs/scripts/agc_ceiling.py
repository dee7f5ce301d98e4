"""How well could *any* model map AGC from the site's features? A ceiling fitted on the truth.

Issue 14 asks for a per-pixel RMSE of at most 25 % of the truth mean in every year. This script
asks what the features themselves allow, whatever the model: it fits a gradient-boosting
regressor (scikit-learn's ``HistGradientBoostingRegressor``, which takes the composites' gaps
as missing values) on the simulator's *true* AGC of every truth-forest pixel and scores it by
5-fold cross-validation over pixels, with a perfect forest map (every truth-forest pixel
predicted). Per year:

``all pixels``  boosted trees fitted on the year's own feature stack
                (``products/features/features_<year>.tif``, the 41 features the AGC models
                choose from), out-of-fold over 5 shuffled folds of every truth-forest pixel
                (at most ``MAX_PIXELS`` random ones): what the features allow with perfect
                labels everywhere;
``n pixels``    a random forest (the best of random forest, ridge, SVR and boosted trees at
                the demo's sample size, tried on the small site's 2024) fitted on only ``n``
                random truth-forest pixels and scored on all the others (median of 3 draws),
                for ``n`` = the workspace's plot count (``products/plots/plot_agc.csv``) and
                4 and 16 times it: what perfect labels at a survey's sample size allow.

Next to them, the workspace's own map of that year, scored as ``truth_comparison.json`` scores it
(unmapped truth forest as 0). This is scoring code: it reads ``truth/`` (through
:mod:`minecarbon.report.truth_reading`, as the truth comparison does) and is never part of the
pipeline.

Run from the repository root on a finished demo workspace::

    .venv/bin/python docs/scripts/agc_ceiling.py WORKSPACE [--years 2000 2011 2024]

Prints the table of docs/accuracy.md ("How far the features go"): RMSE (bias) in % of the
truth mean.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import KFold, cross_val_predict

from minecarbon.report.truth_reading import truth_and_maps

Array = npt.NDArray[Any]

FOLDS = 5
DRAWS = 3
SEED = 0
#: Sample sizes of the ``n pixels`` ceilings, as multiples of the workspace's plot count.
MULTIPLES = (1, 4, 16)
#: The all-pixels ceiling is cross-validated on at most this many random truth-forest pixels
#: (the medium site has 10⁵–10⁶; more pixels would only lower the ceiling a little further).
MAX_PIXELS = 40_000


@dataclass(frozen=True)
class Ceiling:
    """RMSE and bias in % of the truth mean, over ``pixels`` truth-forest pixels."""

    rmse_pct: float
    bias_pct: float
    pixels: int


def relative_errors(truth: Array, predicted: Array) -> Ceiling:
    """RMSE and bias of ``predicted`` against ``truth`` in % of the truth mean (NaN → 0).

    An unmapped pixel (NaN) reads as 0 t C/ha, as in :mod:`minecarbon.report.truth_measures`.
    """
    truth = np.asarray(truth, float)
    predicted = np.nan_to_num(np.asarray(predicted, float), nan=0.0)
    if truth.size == 0 or not np.isfinite(truth).all():
        raise ValueError("relative_errors needs a non-empty, finite truth")
    mean = truth.mean()
    error = predicted - truth
    return Ceiling(float(100 * np.sqrt(np.mean(error**2)) / mean),
                   float(100 * error.mean() / mean), int(truth.size))


def model() -> HistGradientBoostingRegressor:
    """The all-pixels regressor: boosted trees, early stopping off (folds are the check)."""
    return HistGradientBoostingRegressor(max_iter=300, learning_rate=0.05,
                                         min_samples_leaf=20, random_state=SEED)


def small_sample_model() -> Any:
    """The ``n``-pixels regressor: a random forest (gaps imputed by the feature's median)."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    return make_pipeline(SimpleImputer(strategy="median"),
                         RandomForestRegressor(300, min_samples_leaf=3, max_features=0.33,
                                               n_jobs=-1, random_state=SEED))


def cross_validated(x: Array, y: Array) -> Array:
    """Out-of-fold predictions of :func:`model` over pixels (5 shuffled folds)."""
    folds = KFold(FOLDS, shuffle=True, random_state=SEED)
    return np.asarray(cross_val_predict(model(), x, y, cv=folds), float)


def all_pixels(x: Array, y: Array) -> Ceiling:
    """Errors of :func:`cross_validated` over every pixel, or ``MAX_PIXELS`` random ones."""
    if len(y) > MAX_PIXELS:
        keep = np.random.default_rng(SEED).choice(len(y), size=MAX_PIXELS, replace=False)
        x, y = x[keep], y[keep]
    return relative_errors(y, cross_validated(x, y))


def trained_on_sample(x: Array, y: Array, n: int) -> Ceiling:
    """Median over draws of the errors on the other pixels of a model fitted on ``n`` pixels."""
    rng = np.random.default_rng(SEED)
    results = []
    for _ in range(DRAWS):
        chosen = np.zeros(len(y), bool)
        chosen[rng.choice(len(y), size=n, replace=False)] = True
        fitted = small_sample_model().fit(x[chosen], y[chosen])
        results.append(relative_errors(y[~chosen], fitted.predict(x[~chosen])))
    return sorted(results, key=lambda c: c.rmse_pct)[DRAWS // 2]


def stack(root: Path, year: int, grid: Any) -> Array:
    """The year's feature stack on the truth grid, (feature, y, x)."""
    from minecarbon.io.raster import on_grid, read_raster

    path = root / "products" / "features" / f"features_{year}.tif"
    bands = on_grid(read_raster(path, chunks=None, band=None), grid, str(path))
    return np.asarray(bands.values, np.float32)


def plot_count(root: Path) -> int:
    """How many plots the workspace's survey has (rows of plot_agc.csv)."""
    path = root / "products" / "plots" / "plot_agc.csv"
    with path.open(encoding="utf-8-sig") as f:
        return sum(1 for _ in csv.DictReader(f))


def ceilings(root: Path, years: list[int]) -> list[dict[str, Any]]:
    """One row per year: the map's own errors and the ceilings."""
    all_years = sorted(int(p.stem.split("_")[-1])
                       for p in (root / "truth").glob("agc_*.tif"))
    truth, mapped, grid, _, _, _ = truth_and_maps(root, all_years)
    stacks = {y: stack(root, y, grid) for y in years}
    n_plots = plot_count(root)
    rows = []
    for year in years:
        i = all_years.index(year)
        forest = np.isfinite(truth[i])
        y = truth[i][forest].astype(float)
        own = stacks[year][:, forest].T
        rows.append({
            "year": year,
            "pixels": int(forest.sum()),
            "cv_pct": float(100 * y.std() / y.mean()),
            "map": relative_errors(y, mapped[i][forest]),
            "all_pixels": all_pixels(own, y),
            "n_pixels": {m * n_plots: trained_on_sample(own, y, m * n_plots)
                         for m in MULTIPLES},
        })
    return rows


def main(argv: list[str] | None = None) -> None:
    """Print the ceilings of a finished demo workspace as a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--years", type=int, nargs="+", default=[2000, 2011, 2024])
    args = parser.parse_args(argv)
    rows = ceilings(args.workspace, args.years)
    sizes = list(rows[0]["n_pixels"]) if rows else []
    print("| year | truth-forest pixels | CV of the truth | the map | all pixels | "
          + " | ".join(f"n = {n}" for n in sizes) + " |")
    print("| --- " * (5 + len(sizes)) + "|")
    for r in rows:
        cells = [r["map"], r["all_pixels"], *r["n_pixels"].values()]
        print(f"| {r['year']} | {r['pixels']} | {r['cv_pct']:.0f} % | "
              + " | ".join(f"{c.rmse_pct:.1f} ({c.bias_pct:+.1f})" for c in cells) + " |")

if __name__ == "__main__":
    main()
