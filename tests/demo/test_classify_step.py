"""The classify step on the simulated site (issue 7, C1, C2, C4): land cover and leaf habit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import rasterio

from minecarbon.standard.species import by_code


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1)


def test_held_out_accuracy_is_reported(small_site: Path) -> None:
    acc = json.loads((small_site / "products/classification/accuracy.json").read_text())
    land = acc["landcover"]
    assert land["held_out_share"] == 0.3 and land["n"] > 100
    assert land["layout"].startswith("confusion rows = map")
    assert land["overall_accuracy"] > 0.85 and land["kappa"] > 0.8
    # held out by place, and the maps' forests never trained on the held-out samples
    assert land["held_out_by_location"] is True
    for model in land["models"].values():
        assert model["n"] + model["n_training"] == model["n_samples"]
        assert 0.2 <= model["n"] / model["n_samples"] <= 0.4
    habit = acc["leaf_habit"]
    assert habit["overall_accuracy"] > 0.85
    assert 1.0 < habit["rvi_threshold"] < 10.0


def test_maps_agree_with_the_simulated_truth(small_site: Path) -> None:
    """Pixel agreement with the truth over the extent (a check the samples cannot give)."""
    for year in (2004, 2024):
        mapped = _read(small_site / f"products/classification/landcover_{year}.tif")
        truth = _read(small_site / f"raw/landcover/landcover_{year}.tif")
        both = (mapped > 0) & (truth > 0)
        assert ((mapped == 1) == (truth == 1))[both].mean() > 0.85  # forest / non-forest
        habit = _read(small_site / f"products/classification/leaf_habit_{year}.tif")
        species = _read(small_site / f"truth/species_{year}.tif")
        true_habit = np.zeros_like(species)
        for code in np.unique(species[species > 0]):
            true_habit[species == code] = 1 if by_code(int(code)).leaf_habit == "evergreen" else 2
        ok = (habit > 0) & (true_habit > 0)
        assert (habit[ok] == true_habit[ok]).mean() > 0.85
        assert set(np.unique(habit[mapped != 1])) <= {0}  # leaf habit only within forest


def test_species_and_forest_type_maps_for_every_year(small_site: Path) -> None:
    acc = json.loads((small_site / "products/classification/accuracy.json").read_text())
    species = acc["species"]
    assert species["phenology_years"] == [2004, 2014, 2024]
    # issue 7 asks ≥ 0.80 on the medium site; not met yet (see the issue notes)
    assert species["overall_accuracy"] > 0.5
    for year in (2004, 2010, 2024):
        mapped = _read(small_site / f"products/classification/species_{year}.tif")
        truth = _read(small_site / f"truth/species_{year}.tif")
        ok = (mapped > 0) & (truth > 0)
        assert (mapped[ok] == truth[ok]).mean() > 0.5
        ftype = _read(small_site / f"products/classification/forest_type_{year}.tif")
        landcover = _read(small_site / f"products/classification/landcover_{year}.tif")
        assert set(np.unique(ftype[landcover != 1])) <= {0}


def test_land_cover_series_has_no_holes_no_flicker_and_says_where_classes_came_from(
        small_site: Path) -> None:
    """Issue 14, points 1–2: every pixel classified every year, no one-year flicker."""
    years = range(2000, 2025)
    lc = np.stack([_read(small_site / f"products/classification/landcover_{y}.tif")
                   for y in years])
    quality = np.stack([_read(small_site / f"products/classification/landcover_quality_{y}.tif")
                        for y in years])
    inside = (lc > 0).any(axis=0)
    assert inside.sum() > 20_000
    assert (lc[:, inside] == 0).mean() < 0.005
    flicker = (lc[1:-1] != lc[:-2]) & (lc[:-2] == lc[2:])
    assert flicker[:, inside].mean() < 0.002
    assert set(np.unique(quality[:, inside])) <= {0, 1, 2, 3, 9, 10, 11}
    assert ((quality[:, inside] == 3) == ((lc[:, inside] > 0) & (quality[:, inside] == 3))).all()
    # a year with cloud gaps in its composite has classes filled from its neighbours (code 3)
    assert (quality[:, inside] == 3).sum() > 100
    assert ((quality & 7)[:, inside] == 1).mean() > 0.5  # mostly with the leaf-off forest
    ftype = np.stack([_read(small_site / f"products/classification/forest_type_{y}.tif")
                      for y in years])
    steady = (lc[1:] == 1) & (lc[:-1] == 1) & inside
    assert steady.sum() > 100_000
    assert (ftype[1:][steady] == ftype[:-1][steady]).all()  # one forest type per span
    assert 4 in set(np.unique(ftype))  # sparse forest from the land-cover subclass


def test_reclaimed_dumps_become_forest_after_their_planting_year(small_site: Path) -> None:
    """Trees planted on a reclaimed dump look like grassland for a year or two; the change to
    forest is free in the reclamation year and the ``classify.reclamation_years`` after it."""
    years = range(2000, 2025)
    truth = np.stack([_read(small_site / f"raw/landcover/landcover_{y}.tif") for y in years])
    mapped = np.stack([_read(small_site / f"products/classification/landcover_{y}.tif")
                       for y in years])
    reclaimed = (truth == 7).any(axis=0) & (truth[-1] == 1)  # mined, forest again by 2024
    assert reclaimed.sum() > 200
    share = float((mapped[-1][reclaimed] == 1).mean())
    assert share >= 0.8, share  # 0.67 with the change free in the recorded year only


def test_series_maps_the_forest_area_the_reference_samples_estimate(small_site: Path) -> None:
    """The forest-area calibration (decision 42): the weight, its target and its effect."""
    acc = json.loads((small_site / "products/classification/accuracy.json").read_text())
    land = acc["landcover"]
    series = land["series"]
    assert series["forest_area_calibration"] == "made"
    assert land["probability_sample"]["n"] < land["n"]  # purposive samples left out
    target, se = series["forest_share_estimated"], series["forest_share_estimated_se"]
    assert 0.0 < se < 0.05
    assert abs(series["forest_share_series"] - target) <= 0.002
    assert series["forest_weight"] != 1.0
    # the published series is checked against the random held-out samples
    held = series["held_out"]
    assert held["n"] > 100 and held["layout"].startswith("confusion rows = map")
    # and the assessment's forest areas use that matrix: the mapped forest area lies inside
    # the interval of the estimate in every year of the series
    import pandas as pd

    areas = pd.read_csv(small_site / "products/assessment/area_estimates.csv")
    forest = areas[(areas["layer"] == "landcover") & (areas["class"] == 1)]
    assert len(forest) == 25
    inside = ((forest["mapped_area_ha"] >= forest["area_ha_ci_low"])
              & (forest["mapped_area_ha"] <= forest["area_ha_ci_high"]))
    assert inside.mean() >= 0.8
