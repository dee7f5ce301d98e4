"""Training samples delivered by the simulated provider (issue 7: C1–C3 need labelled points)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import rowcol

from minecarbon.io.vector import read_vector
from minecarbon.standard.species import by_key


def test_samples_are_labelled_from_the_truth_of_their_year(small_site: Path) -> None:
    samples = read_vector(small_site / "raw/samples/samples.gpkg")
    assert set(samples["year"]) == {2000, 2004, 2005, 2010, 2014, 2015, 2020, 2024}
    assert samples["sample_id"].is_unique
    for year, part in samples.groupby("year"):
        with rasterio.open(small_site / f"truth/species_{year}.tif") as src:
            rows, cols = rowcol(src.transform, part.geometry.x.to_numpy(),
                                part.geometry.y.to_numpy())
            species = src.read(1)[np.asarray(rows), np.asarray(cols)]
        forest = part["landcover"].to_numpy() == 1
        keys = part["species"].to_numpy()
        codes = np.array([by_key(k).code if k else 0 for k in keys])
        assert (codes[forest] == species[forest]).all()
        assert (keys[~forest] == "").all() and (part["leaf_habit"][~forest] == 0).all()
        # every land-cover class and every species group of the year is sampled
        assert part["landcover"].value_counts().min() >= 10
        if year in (2004, 2014, 2024):  # species samples in the phenology years only
            assert part.loc[forest, "species"].value_counts().min() >= 10


def test_samples_say_which_were_drawn_at_random(small_site: Path) -> None:
    """``design``: the per-class random draw, or stands picked for the species (purposive)."""
    samples = read_vector(small_site / "raw/samples/samples.gpkg")
    assert set(samples["design"]) == {"random", "purposive"}
    purposive = samples[samples["design"] == "purposive"]
    assert (purposive["landcover"] == 1).all() and (purposive["cover"] >= 0.3).all()
    assert set(purposive["year"]) == {2004, 2014, 2024}  # the phenology years
    random = samples[samples["design"] == "random"]
    # at most 60 per class and year (fewer where the class has fewer pixels)
    assert random.groupby(["year", "landcover"]).size().max() == 60
