"""Carbon totals with intervals on the simulated site (issue 17), checked against the truth.

The coverage test is the issue's proof by simulation: with the site's maps fixed, many
independent plot samples are drawn in the plots' year (as many plots per level-2 unit as the
field crew measured, at random truth-forest pixels of the unit, each with the plots' own
random measurement error, and one systematic factor for the whole sample drawn from the
biomass models' shared error), the totals and changes of every unit and year are estimated from each
sample with the pipeline's estimator and error budget, and the share of intervals containing
the true totals (the truth's carbon over the unit's pixels) is measured and printed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio

from minecarbon.assessment.carbon_totals import estimate_totals

REPLICATES = 60


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1).astype("float64")


def test_totals_tables_are_complete_and_consistent(small_site: Path) -> None:
    out = small_site / "products/assessment"
    totals = pd.read_csv(out / "totals.csv")
    changes = pd.read_csv(out / "change_totals.csv")
    areas = pd.read_csv(out / "area_estimates.csv")
    for column in ("year", "zone", "area_ha", "area_ha_ci_low", "area_ha_ci_high", "agc_t",
                   "agc_t_ci_low", "agc_t_ci_high", "method"):
        assert column in totals.columns
    years = json.loads((out / "summary.json").read_text(encoding="utf-8"))["years"]
    extent = totals[totals["zone"] == "extent"]
    assert extent["year"].tolist() == years
    assert {"l1:1", "l2:10"} <= set(totals["zone"])
    assert (totals["agc_t_ci_low"] <= totals["agc_t"] + 1e-6).all()
    assert (totals["agc_t"] <= totals["agc_t_ci_high"] + 1e-6).all()
    assert (totals.loc[totals["agc_t"] > 0, "agc_se_t"] > 0).all()
    # the extent's totals exceed every unit's (units lie inside it)
    by_year = totals[totals["zone"].str.startswith("l1:")].groupby("year")["agc_t"].max()
    assert (extent.set_index("year")["agc_t"] >= by_year.reindex(extent["year"]) - 1e-6).all()
    # a change pair for every zone, and the trend period
    assert set(changes["kind"]) == {"change", "trend_t_per_yr"}
    persistent = changes[(changes["zone"] == "l1:1") & (changes["kind"] == "change")]
    assert len(persistent) >= 1 and persistent["differs_from_zero"].all()
    forest = areas[(areas["layer"] == "landcover") & (areas["class"] == 1)]
    assert len(forest) == len(years)
    assert (forest["area_ha_ci_low"] < forest["area_ha"]).all()
    # one survey only: the cumulative-effect grades stand as mapped, and the record says why
    record = json.loads((out / "summary.json").read_text(encoding="utf-8"))["totals"][
        "cumulative_reference"]
    assert record["applied"] is False and record["n_pairs"] == 0
    assert "measured in both 2005 and 2024" in record["reason"]
    assert not areas["layer"].astype(str).str.startswith("cumulative").any()


def _truth_and_maps(site: Path, years: list[int]) -> tuple[dict, dict, dict]:
    truth = {y: np.nan_to_num(_read(site / f"truth/agc_{y}.tif")) for y in years}
    maps = {y: _read(site / f"products/agc/agc_{y}.tif") for y in years}
    units = {(lv, y): _read(site / f"products/units/units_l{lv}_{y}.tif").astype(int)
             for lv in (1, 2) for y in years}
    return truth, maps, units


def test_intervals_cover_the_true_totals_and_changes(small_site: Path) -> None:
    out = small_site / "products/assessment"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    info = summary["totals"]
    years: list[int] = summary["years"]
    ref = int(info["reference_year"])
    totals = pd.read_csv(out / "totals.csv")
    changes = pd.read_csv(out / "change_totals.csv")
    pairs = [(int(a), int(b)) for a, b in changes.loc[changes["kind"] == "change",
                                                       ["year_from", "year_to"]]
             .drop_duplicates().itertuples(index=False)]
    truth, maps, units = _truth_and_maps(small_site, years)
    with rasterio.open(small_site / f"products/agc/agc_{ref}.tif") as src:
        pixel_area_ha = abs(src.transform.a * src.transform.e) / 1e4
    zones = sorted(z for z in totals["zone"].unique() if z != "extent")
    sums = totals[totals["zone"] != "extent"][["year", "zone", "mapped_agc_t",
                                                 "mapped_area_ha"]].copy()
    sums["map_t"] = sums.pop("mapped_agc_t")
    sums["forest_px"] = (sums.pop("mapped_area_ha") / pixel_area_ha).round().astype(int)
    true_total = {}
    for zone in zones:
        level, code = int(zone[1]), int(zone.split(":")[1])
        for y in years:
            inside = units[(level, y)] == code
            if inside.any():
                true_total[(zone, y)] = float(truth[y][inside].sum() * pixel_area_ha)
    plot_units = pd.read_csv(small_site / "products/units/plot_units.csv")
    per_unit = plot_units["unit_l2"].dropna().astype(int).value_counts().to_dict()
    plots = pd.read_csv(small_site / "products/plots/plot_agc.csv")
    # a plot's interval holds random errors (its own) and its models' systematic error (shared
    # by every plot of those models): each replicate draws the random part per plot and one
    # systematic factor for the whole sample, of mean 1 and the totals' relative sd δ
    plot_sd = (plots["agc_ci_high"] - plots["agc_ci_low"]) / 3.92 / plots["agc_t_per_ha"]
    rel_sd = float(np.sqrt((plot_sd ** 2 - plots["agc_systematic_sd_rel"] ** 2)
                           .clip(lower=0.0)).median())
    delta = float(info["systematic_rel_sd"])
    assert 0.01 < delta < 0.2
    assert plots.loc[plots["n_trees"] > 0, "agc_systematic_sd_rel"].gt(0).all()
    log_sd = math.sqrt(math.log1p(delta ** 2))
    rng = np.random.default_rng(17)
    forest_ref = truth[ref] > 0
    hits: dict[str, list[bool]] = {"total": [], "change": []}
    by_unit: dict[str, list[bool]] = {}  # level-1 units' totals, every year
    for _ in range(REPLICATES):
        picks = []
        for code, n in per_unit.items():
            where = np.flatnonzero((units[(2, ref)] == code) & forest_ref)
            if where.size:
                picks.append(rng.choice(where, min(n, where.size), replace=False))
        idx = np.concatenate(picks)
        flat = truth[ref].ravel()[idx]
        shared = math.exp(log_sd * rng.standard_normal() - log_sd ** 2 / 2)
        sample = pd.DataFrame({
            "observed": flat * shared * (1 + rel_sd * rng.standard_normal(idx.size)),
            "mapped": np.nan_to_num(maps[ref].ravel()[idx]),
            "unit_l1": units[(1, ref)].ravel()[idx], "unit_l2": units[(2, ref)].ravel()[idx]})
        est, chg = estimate_totals(sums, sample, years=years, reference_year=ref, pairs=pairs,
                                   change_rel_var=info["change_rel_var"],
                                   systematic_rel_var=info["systematic_rel_sd"] ** 2,
                                   pixel_area_ha=pixel_area_ha,
                                   min_plots=info["min_plots"],
                                   scale_log_sd=info["change_scale_log_sd"])
        for row in est.itertuples():
            true = true_total.get((row.zone, row.year))
            if true is None or (true == 0 and row.mapped_agc_t == 0):
                continue  # no forest in truth or map: nothing to estimate
            hits["total"].append(row.agc_t_ci_low <= true <= row.agc_t_ci_high)
            if str(row.zone).startswith("l1:"):
                by_unit.setdefault(str(row.zone), []).append(hits["total"][-1])
        for row in chg[chg["kind"] == "change"].itertuples():
            a = true_total.get((row.zone, row.year_from), 0.0)
            b = true_total.get((row.zone, row.year_to), 0.0)
            if a == 0 and b == 0 and row.mapped_t == 0:
                continue
            hits["change"].append(row.ci_low_t <= b - a <= row.ci_high_t)
    coverage = {k: float(np.mean(v)) for k, v in hits.items()}
    both = float(np.mean(hits["total"] + hits["change"]))
    print(f"coverage of the 95 % intervals over {REPLICATES} plot samples: {both:.3f} of all; "
          f"totals {coverage['total']:.3f} of {len(hits['total'])} unit-years, changes "
          f"{coverage['change']:.3f} of {len(hits['change'])} unit-changes")
    units_cover = {k: float(np.mean(v)) for k, v in sorted(by_unit.items())}
    print("level-1 units' totals covered: " + ", ".join(f"{k} {v:.3f}"
                                                      for k, v in units_cover.items()))
    assert len(hits["total"]) >= REPLICATES * len(years)
    assert len(units_cover) >= 3 and all(len(v) >= REPLICATES for v in by_unit.values())
    assert min(units_cover.values()) >= 0.85  # no level-1 unit far below the nominal 95 %
    assert len(hits["change"]) >= REPLICATES * len(pairs)
    assert 0.90 <= both <= 0.98  # the band, over unit-years and unit-changes together
    assert coverage["total"] >= 0.90 and coverage["change"] >= 0.90


def test_trend_areas_from_the_interpreted_sample_are_closer_to_the_truth(
        small_site: Path) -> None:
    """The error-adjusted areas of the trend categories against the truth's own categories."""
    from minecarbon.assessment.trend_reference import NONE, map_category
    from minecarbon.demo.reference import interpret

    out = small_site / "products/assessment"
    years = json.loads((out / "summary.json").read_text(encoding="utf-8"))["years"]
    areas = pd.read_csv(out / "area_estimates.csv")
    trend = areas[areas["layer"].str.startswith("trend")].set_index("class")
    assert sorted(trend.index) == [-1, 0, 1, NONE]
    values = np.stack([_read(small_site / f"truth/agc_{y}.tif") for y in years])
    series = values.reshape(len(years), -1).T
    forest = np.isfinite(series)
    before = np.cumsum(forest, axis=1) > 0
    after = np.cumsum(forest[:, ::-1], axis=1)[:, ::-1] > 0
    series = np.where(forest, series, np.where(before & after, np.nan, 0.0))
    truth = np.full(series.shape[0], NONE)
    ever = forest.any(axis=1)
    truth[ever] = interpret(series[ever]) - 1
    extent = _read(small_site / f"products/classification/landcover_{years[-1]}.tif").ravel() > 0
    with rasterio.open(out / "trend_class.tif") as src:
        pixel_area_ha = abs(src.transform.a * src.transform.e) / 1e4
        mapped = map_category(src.read(1).ravel())[extent]
    truth = truth[extent]
    err_map, err_est, covered = 0.0, 0.0, 0
    for code, row in trend.iterrows():
        true_area = float((truth == code).sum() * pixel_area_ha)
        assert row["mapped_area_ha"] == pytest.approx((mapped == code).sum() * pixel_area_ha,
                                                      abs=0.01)
        err_map += abs(row["mapped_area_ha"] - true_area)
        err_est += abs(row["area_ha"] - true_area)
        covered += row["area_ha_ci_low"] <= true_area <= row["area_ha_ci_high"]
        print(f"category {code}: truth {true_area:.0f} ha, mapped {row['mapped_area_ha']:.0f}, "
              f"estimated {row['area_ha']:.0f} [{row['area_ha_ci_low']:.0f}, "
              f"{row['area_ha_ci_high']:.0f}]")
    assert err_est < 0.6 * err_map
    assert covered >= 3
    # the demo's provider checked a fifth of the points: the interpreter's errors corrected
    method = str(trend["method"].iloc[0])
    checked = int(method.split(" checked points")[0].rsplit(" ", 1)[-1])
    assert "two-phase difference estimator" in method and 150 <= checked <= 400


def test_the_trend_reference_has_a_checked_subsample_that_errs_less(small_site: Path) -> None:
    """A random fifth of the points is interpreted again (``trend_checked``, blank elsewhere)."""
    import geopandas as gpd

    from minecarbon.demo.reference import CHECK_SHARE

    paths = sorted((small_site / "raw/reference").glob("*.gpkg"))
    points = pd.concat([gpd.read_file(p) for p in paths], ignore_index=True)
    years = json.loads((small_site / "products/assessment/summary.json").read_text(
        encoding="utf-8"))["years"]
    with rasterio.open(small_site / f"truth/agc_{years[0]}.tif") as src:
        rows, cols = (np.asarray(v) for v in rasterio.transform.rowcol(
            src.transform, points.geometry.x.to_numpy(), points.geometry.y.to_numpy()))
    from minecarbon.demo.reference import LABELS, interpret

    values = np.stack([_read(small_site / f"truth/agc_{y}.tif")[rows, cols] for y in years],
                      axis=1).astype(np.float64)
    forest = np.isfinite(values)
    ever = forest.any(axis=1)
    before = np.cumsum(forest, axis=1) > 0
    after = np.cumsum(forest[:, ::-1], axis=1)[:, ::-1] > 0
    series = np.where(forest, values, np.where(before & after, np.nan, 0.0))
    truth = np.full(len(points), 3)
    truth[ever] = interpret(series[ever])
    truth_label = np.array([LABELS[t] for t in truth])
    checked = points["trend_checked"].notna() & (points["trend_checked"].astype(str) != "")
    n = int(checked.sum())
    assert abs(n / len(points) - CHECK_SHARE) < 0.04 and n >= 150
    first_wrong = float(np.mean(points["trend"].to_numpy() != truth_label))
    check_wrong = float(np.mean(points.loc[checked, "trend_checked"].to_numpy()
                                != truth_label[checked.to_numpy()]))
    print(f"{n} checked; wrong labels: first interpretation {first_wrong:.3%}, "
          f"checked {check_wrong:.3%}")
    assert 0.003 < first_wrong < 0.04  # 3 % of the forest points
    assert check_wrong < first_wrong and check_wrong < 0.01
