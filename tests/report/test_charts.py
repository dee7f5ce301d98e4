"""Report charts: AGC totals per unit, model comparison, observed against predicted."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.metrics import mean_squared_error, r2_score

from minecarbon.errors import InputDataError
from minecarbon.report import charts

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_MAGIC
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        return image.size


def no_missing_glyphs(make: Callable[[], bytes]) -> bytes:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = make()
    assert not [w for w in caught if "missing from font" in str(w.message)]
    return png


def totals() -> pd.DataFrame:
    rows = []
    for year in range(2000, 2006):
        for code, agc_t in ((10, 20_000.0 + year), (21, 3000.0), (23, 1000.0), (31, 500.0),
                            (50, 10.0 * (year - 1999))):
            rows.append((year, code, agc_t))
    rows.append((2003, 43, 250.0))
    rows.append((2003, 0, 99.0))
    return pd.DataFrame(rows, columns=["year", "unit_l2", "agc_t"])


def cv_results() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [(stratum, model, fold, rng.uniform(-0.2, 0.8), rng.uniform(8, 18))
            for stratum in ("(pooled)", "broadleaf", "coniferous", "mixed")
            for model in ("svr", "rf", "gbdt", "xgboost") for fold in range(5)]
    frame = pd.DataFrame(rows, columns=["stratum", "model", "fold", "r2", "rmse"])
    frame.loc[(frame["stratum"] == "mixed"), "r2"] -= 20.0  # tiny folds: very negative R²
    return frame


def oof() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    observed = rng.uniform(10, 90, 60)
    return pd.DataFrame({"plot_id": [f"P{i:03d}" for i in range(60)],
                         "stratum": rng.choice(["broadleaf", "coniferous", "(pooled)"], 60),
                         "observed": observed,
                         "predicted": 0.7 * observed + 12 + rng.normal(0, 6, 60)})


# ------------------------------------------------------------------------------ totals
def test_level1_totals_sum_level2_by_code_div_10() -> None:
    wide = charts.totals_by_l1(totals())
    assert list(wide.columns) == [0, 1, 2, 3, 4, 5]
    assert wide.loc[2001, 2] == 4000.0  # 21 + 23
    assert wide.loc[2003, 4] == 250.0 and wide.loc[2002, 4] == 0.0
    assert wide.loc[2005, 1] == 22_005.0
    assert wide.loc[2004, 5] == 50.0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_totals_chart_is_a_png(lang: str) -> None:
    png = no_missing_glyphs(lambda: charts.totals_chart(totals(), lang=lang))
    width, height = png_size(png)
    assert 900 <= width <= 2000 and 500 <= height <= 1200


def test_totals_chart_takes_names_and_refuses_bad_tables() -> None:
    png = charts.totals_chart(totals(), lang="en", names={0: "outside the units", 1: "kept"})
    assert png[:8] == PNG_MAGIC
    with pytest.raises(InputDataError, match="agc_t"):
        charts.totals_chart(totals().drop(columns="agc_t"))
    with pytest.raises(InputDataError, match="no assessment unit"):
        charts.totals_chart(totals().query("unit_l2 == 0"))


# ---------------------------------------------------------------------- model comparison
def test_cv_summary_means_and_spreads_over_folds() -> None:
    cv = cv_results()
    summary = charts.cv_summary(cv)
    assert list(dict.fromkeys(summary["stratum"])) == [
        "broadleaf", "coniferous", "mixed", "(pooled)"]
    row = summary.query("stratum == 'coniferous' and model == 'gbdt'").iloc[0]
    folds = cv.query("stratum == 'coniferous' and model == 'gbdt'")
    assert row["r2_mean"] == pytest.approx(np.mean(folds["r2"]))
    assert row["rmse_std"] == pytest.approx(np.std(folds["rmse"], ddof=1))
    assert row["r2_count"] == 5


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_model_comparison_chart_marks_the_chosen_models(lang: str) -> None:
    chosen = {"broadleaf": "svr", "coniferous": "rf", "mixed": "gbdt", "(pooled)": "rf"}
    png = no_missing_glyphs(
        lambda: charts.model_comparison_chart(cv_results(), lang=lang, chosen=chosen))
    width, height = png_size(png)
    assert width > height > 400
    assert png != charts.model_comparison_chart(cv_results(), lang=lang)


def test_model_comparison_needs_the_fold_columns() -> None:
    with pytest.raises(InputDataError, match="rmse"):
        charts.model_comparison_chart(cv_results().drop(columns="rmse"))


def test_labels_of_strata_and_models() -> None:
    assert charts.stratum_label("broadleaf", "zh") == "阔叶林"
    assert charts.stratum_label("mixed", "en") == "mixed coniferous-broadleaf"
    assert charts.stratum_label("(pooled)", "zh") == "合并建模"
    assert charts.stratum_label("birch", "en") == "birch"
    assert charts.model_label("rf", "en") == "random forest"
    assert charts.model_label("lasso", "zh") == "lasso"


# ------------------------------------------------------------------- observed vs predicted
def test_fit_statistics_equal_scikit_learn() -> None:
    frame = oof()
    stats = charts.fit_statistics(frame["observed"], frame["predicted"])
    assert stats["r2"] == pytest.approx(r2_score(frame["observed"], frame["predicted"]))
    assert stats["rmse"] == pytest.approx(
        np.sqrt(mean_squared_error(frame["observed"], frame["predicted"])))
    assert stats["n"] == 60


def test_bias_is_predicted_minus_observed() -> None:
    # known answer: predictions 1 t C/ha above on average (positive = over-prediction)
    stats = charts.fit_statistics([10.0, 20.0, 30.0], [12.0, 20.0, 31.0])
    assert stats["bias"] == pytest.approx(1.0)
    assert stats["rmse"] == pytest.approx(np.sqrt(5 / 3))
    assert stats["r2"] == pytest.approx(1 - 5 / 200)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_observed_predicted_chart_is_a_square_png(lang: str) -> None:
    frame = oof()
    frame.loc[0, "stratum"] = np.nan
    png = no_missing_glyphs(lambda: charts.observed_predicted_chart(frame, lang=lang))
    width, height = png_size(png)
    assert 0.8 < width / height < 1.25


def test_observed_predicted_chart_refuses_bad_input() -> None:
    with pytest.raises(InputDataError, match="predicted"):
        charts.observed_predicted_chart(oof().drop(columns="predicted"))
    empty = oof().assign(predicted=np.nan)
    with pytest.raises(InputDataError, match="no plot"):
        charts.observed_predicted_chart(empty)
    stratum_free = oof().drop(columns="stratum")
    assert charts.observed_predicted_chart(stratum_free, lang="en")[:8] == PNG_MAGIC
