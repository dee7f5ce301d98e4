"""The report's remote-sensing data part (issue 16): sensors per year, SLC-off gaps, harmonisation.

Built from small hand-made ``composite_quality.csv`` tables, with and without the columns added
in issue 16, with the harmonisation on and off.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from minecarbon.catalog import Workspace
from minecarbon.report import Paragraph, ReportInputs, Section, Table, build_report
from minecarbon.report.remote_sensing import (
    HARMONISATION_TABLE,
    SOURCE,
    data_table,
    remote_sensing_part,
    sensor_name,
)


def quality(harmonise: bool = True) -> pd.DataFrame:
    """Five years: TM, TM + ETM+ (SLC-on), a year without scene, ETM+ SLC-off, ETM+ + OLI."""
    to = "landsat8" if harmonise else "off"
    return pd.DataFrame({
        "year": [2001, 2002, 2003, 2004, 2013],
        "sensor": ["landsat8"] * 5 if harmonise else
        ["landsat5", "landsat5", "landsat5", "landsat7", "landsat8"],
        "sensors": ["landsat5", "landsat5;landsat7", np.nan, "landsat7", "landsat7;landsat8"],
        "scenes": [3, 4, 0, 2, 5],
        "scene_ids": ["a b c", "d e f g", np.nan, "h i", "j k l m n"],
        "months": ["6 7 8", "6 7 8", np.nan, "7 8", "6 7 8"],
        "harmonised": ["landsat5", "landsat5;landsat7", np.nan, "landsat7", "landsat7"]
        if harmonise else [np.nan] * 5,
        "harmonised_to": [to, to, np.nan, to, to],
        "slc_off_scenes": [0, 0, np.nan, 2, 1],
        "slc_gap_share": [0.0, 0.0, np.nan, 0.2213, 0.2],
        "slc_gap_filled_share": [np.nan, np.nan, np.nan, 0.8731, 0.95],
        "clear_share": [0.9912, 0.98, 0.0, 0.9, 0.97],
        "filled_share": [0.0088, 0.02, 1.0, 0.1, 0.03],
        "valid_share": [1.0, 1.0, 1.0, 1.0, 1.0]})


OLD_COLUMNS = ["year", "sensor", "sensors", "levels", "scenes", "scene_ids", "clear_share",
               "mean_clear_count", "months", "filled_share", "valid_share"]


def old_quality() -> pd.DataFrame:
    """A table written before issue 16: no harmonisation or SLC-off columns."""
    q = quality(harmonise=False).assign(levels="L2", mean_clear_count=3.0)
    return q[OLD_COLUMNS]


def _part(table: pd.DataFrame | None, lang: str = "en",
          missing: dict[str, str] | None = None) -> Section:
    section = Section("data")
    remote_sensing_part(section, ReportInputs(composite_quality=table, missing=missing or {}),
                        lang)  # type: ignore[arg-type]
    return section


def _text(section: Section) -> str:
    return "\n".join(b.text for b in section.blocks if isinstance(b, Paragraph))


def _table(section: Section) -> Table:
    tables = [b for b in section.blocks if isinstance(b, Table)]
    assert len(tables) == 1
    return tables[0]


# ------------------------------------------------------------------------------ the table
def test_one_row_per_year_with_sensor_names_and_percentages() -> None:
    table = data_table(quality(), "en")
    assert list(table.columns) == [
        "year", "sensors", "scenes", "SLC-off scenes", "mean gap share (%)",
        "gaps filled from other dates (%)", "clear share (%)",
        "filled from neighbouring years (%)"]
    assert table["year"].tolist() == [2001, 2002, 2003, 2004, 2013]
    assert table["sensors"].tolist() == [
        "Landsat 5 TM", "Landsat 5 TM, Landsat 7 ETM+", "no scene", "Landsat 7 ETM+",
        "Landsat 7 ETM+, Landsat 8 OLI/TIRS"]
    assert table["scenes"].tolist() == [3, 4, 0, 2, 5]
    assert table["SLC-off scenes"].tolist() == [0, 0, 0, 2, 1]
    assert table["mean gap share (%)"].tolist()[3:] == [22.13, 20.0]
    filled = table["gaps filled from other dates (%)"]
    assert filled.isna().tolist() == [True, True, True, False, False]
    assert filled.tolist()[3:] == [87.31, 95.0]
    assert table["clear share (%)"].tolist() == [99.12, 98.0, 0.0, 90.0, 97.0]
    assert table["filled from neighbouring years (%)"].tolist() == [0.88, 2.0, 100.0, 10.0, 3.0]


def test_chinese_headers_and_names() -> None:
    table = data_table(quality(), "zh")
    assert list(table.columns)[:3] == ["年份", "传感器", "影像数"]
    assert "有效观测比例 (%)" in table.columns and "由相邻年份填补 (%)" in table.columns
    assert table["传感器"].tolist()[1] == "Landsat 5 TM、Landsat 7 ETM+"
    assert table["传感器"].tolist()[2] == "无影像"


def test_rows_come_sorted_by_year() -> None:
    shuffled = quality().iloc[[4, 0, 3, 1, 2]]
    assert data_table(shuffled, "en")["year"].tolist() == [2001, 2002, 2003, 2004, 2013]


def test_sensor_names_come_from_the_registry_and_unknown_ids_print_as_given() -> None:
    assert sensor_name("landsat5") == "Landsat 5 TM"
    assert sensor_name("landsat7") == "Landsat 7 ETM+"
    assert sensor_name("landsat99") == "landsat99"


# ------------------------------------------------------------------------------ the part
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_part_has_the_table_with_its_source_and_no_missing(lang: str) -> None:
    section = _part(quality(), lang)
    assert section.missing == []
    table = _table(section)
    assert table.source == SOURCE == "products/features/composite_quality.csv"
    assert table.note and table.caption
    assert isinstance(section.blocks[-1], Table)  # the sentences come first
    text = _text(section)
    for name in ("Landsat 5 TM", "Landsat 7 ETM+", "Landsat 8 OLI/TIRS"):
        assert name in text
    assert ("共使用影像 14 景" if lang == "zh" else "14 scenes") in text


def test_sensors_are_listed_with_their_years_and_the_year_without_scenes() -> None:
    text = _text(_part(quality(), "en"))
    assert "2001–2013: 14 scenes from Landsat 5 TM (2001–2002), Landsat 7 ETM+ (2002, 2004, " \
           "2013), Landsat 8 OLI/TIRS (2013)" in text
    assert "No growing-season scene in 2003" in text


def test_harmonisation_on_names_roy_2016_and_the_function_table() -> None:
    text = _text(_part(quality(), "en"))
    assert "Surface reflectance of Landsat 5 TM, Landsat 7 ETM+ was transformed band by band " \
           "to Landsat 8 OLI/TIRS" in text
    assert "Roy et al. (2016, Remote Sensing of Environment 185: 57–70, Table 2)" in text
    assert "TM uses the same functions" in text
    assert HARMONISATION_TABLE in text
    assert "not harmonised" not in text
    zh = _text(_part(quality(), "zh"))
    assert "Roy 等（2016" in zh and "转换至 Landsat 8 OLI/TIRS" in zh and HARMONISATION_TABLE in zh


CALIBRATION = {"method": "archive", "max_days": 32, "n_pixels": 48034,
               "pairs": [["t1", "e1"], ["t2", "e2"], ["t3", "e3"], ["t4", "e4"]],
               "gains": {"red": {"gain": 0.82931, "stderr": 0.04259},
                         "nir": {"gain": 1.01365, "stderr": 0.01851}}}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_tm_calibrated_on_the_archive_is_stated_with_its_gains(lang: str) -> None:
    section = Section("data")
    remote_sensing_part(section, ReportInputs(composite_quality=quality(),
                                              cross_calibration=CALIBRATION), lang)  # type: ignore[arg-type]
    text = _text(section)
    assert "0.829 (0.043)" in text and "1.014 (0.019)" in text
    assert ("4 same-year growing-season scene pairs at most 32 days apart, 4 of them TM/ETM+ "
            "(48034 stable clear pixels)" in text if lang == "en"
            else "4 对同年生长季影像（相隔不超过 32 天，其中 TM/ETM+ 4 对，48034 个稳定晴空像元）"
            in text)
    assert "TM uses the same functions" not in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_seasonal_fit_is_stated_with_its_pairs_of_one_sensor(lang: str) -> None:
    section = Section("data")
    seasonal = {**CALIBRATION, "model": "seasonal", "max_days": 64, "cross_pairs": 2,
                "pairs": [[f"a{i}", f"b{i}"] for i in range(14)]}
    remote_sensing_part(section, ReportInputs(composite_quality=quality(),
                                              cross_calibration=seasonal), lang)  # type: ignore[arg-type]
    text = _text(section)
    assert ("14 same-year growing-season scene pairs at most 64 days apart, 2 of them TM/ETM+ "
            "(48034 stable clear pixels; the season's drift fitted by month)" in text
            if lang == "en" else "其中 TM/ETM+ 2 对，48034 个稳定晴空像元，季节变化按月份同时拟合）"
            in text)


def test_tm_left_on_the_table_says_why() -> None:
    section = Section("data")
    why = {"method": "table", "reason": "no TM and ETM+ scenes of months [6, 7, 8, 9] within 32 "
           "days of each other"}
    remote_sensing_part(section, ReportInputs(composite_quality=quality(),
                                              cross_calibration=why), "en")
    assert ("TM uses the same functions (no TM and ETM+ scenes of months [6, 7, 8, 9] within "
            "32 days of each other)") in _text(section)


def test_oli2_is_stated_as_identity_and_an_untabled_sensor_is_warned_about() -> None:
    q = pd.DataFrame({"year": [2022, 2023], "sensors": ["landsat8;landsat9", "gf1_wfv"],
                      "scenes": [4, 3], "harmonised": ["landsat9", ""],
                      "harmonised_to": ["landsat8", "landsat8"]})
    text = _text(_part(q, "en"))
    assert "Landsat 9 OLI-2/TIRS-2 shares OLI's bands and calibration" in text
    assert "(identity)" in text
    assert "Roy et al." not in text
    assert "No function to Landsat 8 OLI/TIRS is tabled for GF-1 WFV" in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_sentinel2_is_stated_as_adjusted_with_hls_not_as_identity(lang: str) -> None:
    q = pd.DataFrame({"year": [2018, 2019], "sensors": ["landsat8;sentinel2", "sentinel2"],
                      "scenes": [5, 3], "harmonised": ["sentinel2", "sentinel2"],
                      "harmonised_to": ["landsat8", "landsat8"]})
    text = _text(_part(q, lang))
    assert "Claverie" in text and "B8A" in text and HARMONISATION_TABLE in text
    assert ("Surface reflectance of Sentinel-2 MSI was adjusted band by band to Landsat 8 "
            "OLI/TIRS" in text) == (lang == "en")
    assert "identity" not in text and "恒等" not in text
    assert "No function" not in text and "没有到" not in text


def test_harmonisation_on_with_only_oli_scenes_needs_no_transformation() -> None:
    q = pd.DataFrame({"year": [2014, 2015], "sensors": ["landsat8", "landsat8"],
                      "scenes": [3, 3], "harmonised": [np.nan, np.nan],
                      "harmonised_to": ["landsat8", "landsat8"]})
    text = _text(_part(q, "en"))
    assert "Every scene is Landsat 8 OLI/TIRS; no cross-sensor transformation was needed" in text
    assert HARMONISATION_TABLE not in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_harmonisation_off_warns_of_a_step_where_the_sensors_change(lang: str) -> None:
    text = _text(_part(quality(harmonise=False), lang))
    if lang == "en":
        assert "not harmonised between sensors (features.harmonise_to = off)" in text
        # sensor sets of the years with scenes: L5 | L5+L7 | (2003 none) | L7 | L7+L8
        assert "The sensors change in 2002, 2004, 2013: the carbon series may show a step" in text
    else:
        assert "未进行传感器间反射率归一化" in text
        assert "所用传感器在 2002、2004、2013 年发生变化" in text and "阶跃" in text
    assert "Roy" not in text


def test_harmonisation_off_with_one_sensor_gives_no_step_warning() -> None:
    q = pd.DataFrame({"year": [2014, 2015, 2016], "sensors": ["landsat8"] * 3,
                      "scenes": [3, 2, 4], "harmonised": [np.nan] * 3,
                      "harmonised_to": ["off"] * 3})
    text = _text(_part(q, "en"))
    assert "not harmonised" in text and "step" not in text


def test_years_left_unharmonised_in_a_mixed_table_are_named() -> None:
    q = quality().assign(harmonised_to=["off", "off", np.nan, "landsat8", "landsat8"])
    text = _text(_part(q, "en"))
    assert "Roy et al." in text and "The composites of 2001–2002 were not harmonised." in text


def test_slc_off_sentence_gives_the_scenes_years_gap_share_and_fill() -> None:
    text = _text(_part(quality(), "en"))
    assert "From 31 May 2003 the scan-line corrector (SLC) of Landsat 7 ETM+ has failed" in text
    # 2 + 1 scenes; gap share weighted by the scenes: (2 × 0.2213 + 1 × 0.2) / 3 = 21.42 %
    assert "3 SLC-off scenes were used (2004, 2013); on average 21.42 % of the extent" in text
    assert "87.31 %–95.00 % (per year) got a clear observation from another date" in text
    assert "neighbouring years' composites" in text
    zh = _text(_part(quality(), "zh"))
    assert "2003 年 5 月 31 日起" in zh
    assert "SLC-off 影像 3 景（2004、2013 年），每景平均 21.42 %" in zh
    assert "各年 87.31 %—95.00 % 由同年生长季其他日期的晴空观测填补" in zh


def test_one_slc_off_year_gives_one_fill_value() -> None:
    q = quality().iloc[:4]
    text = _text(_part(q, "en"))
    assert "2 SLC-off scenes were used (2004); on average 22.13 % of the extent" in text
    assert "Of the pixels in a gap, 87.31 % got" in text


def test_no_slc_off_scene_drops_the_gap_columns_and_says_so() -> None:
    q = quality().iloc[:2]
    section = _part(q, "en")
    assert "None of the scenes is an SLC-off scene" in _text(section)
    columns = list(_table(section).frame.columns)
    assert "SLC-off scenes" not in columns and "mean gap share (%)" not in columns
    assert "clear share (%)" in columns


# ------------------------------------------------------------------------------ old workspaces
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_table_without_the_new_columns_gives_the_part_without_them(lang: str) -> None:
    section = _part(old_quality(), lang)
    assert section.missing == []
    text = _text(section)
    for word in ("SLC", "Roy", "harmonis", "归一化", "harmonisation.csv"):
        assert word not in text
    frame = _table(section).frame
    heads = (["year", "sensors", "scenes", "clear share (%)",
              "filled from neighbouring years (%)"] if lang == "en" else
             ["年份", "传感器", "影像数", "有效观测比例 (%)", "由相邻年份填补 (%)"])
    assert list(frame.columns) == heads
    assert frame.iloc[:, 0].tolist() == [2001, 2002, 2003, 2004, 2013]
    assert frame.iloc[:, 3].tolist() == [99.12, 98.0, 0.0, 90.0, 97.0]
    assert "SLC" not in _table(section).note


def test_a_table_with_only_a_year_column_does_not_fail() -> None:
    section = _part(pd.DataFrame({"year": [2001, 2002]}), "en")
    assert list(_table(section).frame.columns) == ["year"]
    assert section.missing == []


def test_no_table_says_nothing_unless_the_loader_recorded_why() -> None:
    assert _part(None).blocks == [] and _part(None).missing == []
    section = _part(None, "en", {"composite_quality":
                                 "products/features/composite_quality.csv is missing"})
    assert section.blocks == []
    assert section.missing == ["Not available, the composite quality (composite_quality.csv): "
                               "products/features/composite_quality.csv is missing"]
    assert _part(pd.DataFrame(columns=["year", "sensors"])).blocks == []


# ------------------------------------------------------------------------------ in the report
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_part_opens_the_inversion_section(lang: str) -> None:
    inputs = ReportInputs(project={"first_year": 2001, "last_year": 2013},
                          composite_quality=quality())
    report = build_report(inputs, lang, today="2025-06-30")  # type: ignore[arg-type]
    inversion = next(s for s in report.sections if s.key == "inversion")
    assert isinstance(inversion.blocks[0], Paragraph)
    assert inversion.blocks[0].text.startswith("遥感数据" if lang == "zh"
                                               else "Remote-sensing data")
    tables = [b for b in inversion.blocks if isinstance(b, Table)]
    assert [t.source for t in tables] == [SOURCE]
    assert sum(t.source == SOURCE for t in report.tables()) == 1


# ------------------------------------------------------------------------------ the loader
def test_the_report_step_loads_the_table_or_records_why_not(ws: Workspace) -> None:
    from minecarbon.pipeline.report_steps import load_report_inputs

    inputs = load_report_inputs(ws)
    assert inputs.composite_quality is None
    assert inputs.missing["composite_quality"] == f"{SOURCE} is missing"
    path = ws.path(SOURCE)
    path.parent.mkdir(parents=True, exist_ok=True)
    quality().to_csv(path, index=False)
    inputs = load_report_inputs(ws)
    assert inputs.composite_quality is not None and "composite_quality" not in inputs.missing
    assert data_table(inputs.composite_quality, "en").equals(data_table(quality(), "en"))
