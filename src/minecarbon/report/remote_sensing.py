"""The remote-sensing data of the report: sensors per year, SLC-off gaps, harmonisation.

Written from the features step's ``products/features/composite_quality.csv`` (one row per
project year) at the start of the inversion section (the annual AGC maps are the model applied
to these composites). The part has

- a lead paragraph: the scenes in all and each sensor with its years, and the years that had no
  growing-season scene (filled from neighbouring years);
- the harmonisation applied (``harmonised``, ``harmonised_to``): to Landsat 8 OLI with the
  functions of Roy et al. (2016) for TM/ETM+ (TM first calibrated to ETM+ with the gains of
  ``products/features/cross_calibration.json`` when they were fitted), the HLS bandpass
  adjustment (Claverie et al. 2018) for Sentinel-2, identity for OLI-2, or ``off`` with a
  warning naming the years where the sensors change;
- the SLC-off gaps of Landsat 7 ETM+ after 31 May 2003 (``slc_off_scenes``,
  ``slc_gap_share``, ``slc_gap_filled_share``) and how they were filled;
- a table, one row per year: sensors, scenes, SLC-off scenes, mean gap share, share of the gaps
  filled from other dates, clear share, share filled from neighbouring years (%).

Every column but ``year`` is optional: a workspace written before a column existed gives the
part without it (no sentence, no column), never an error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from minecarbon.errors import InputDataError
from minecarbon.report.document import Lang, Paragraph, Section, Table
from minecarbon.report.inputs import ReportInputs
from minecarbon.report.texts import DECIMALS, missing_reason, tr

__all__ = ["HARMONISATION_TABLE", "SOURCE", "data_table", "remote_sensing_part", "sensor_name"]

#: The product the part is written from.
SOURCE = "products/features/composite_quality.csv"
#: The table of the harmonisation functions, as the report names it.
HARMONISATION_TABLE = "minecarbon/standard/data/harmonisation.csv"
#: Sensors harmonised with Roy et al. (2016)'s ETM+ → OLI functions (TM after its own
#: calibration to ETM+ when the features step fitted one: ``cross_calibration.json``).
ROY_SENSORS = ("landsat4", "landsat5", "landsat7")
#: Sensors harmonised with the HLS bandpass adjustment (Claverie et al. 2018).
HLS_SENSORS = ("sentinel2",)


def sensor_name(sensor_id: str) -> str:
    """The display name of a sensor id (``landsat5`` → ``Landsat 5 TM``), else the id."""
    from minecarbon.standard.sensors import sensor

    try:
        return sensor(sensor_id).name
    except InputDataError:
        return sensor_id


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = str(value).strip()
    return "" if text in ("nan", "<NA>", "None") else text


def _ids(value: Any) -> list[str]:
    """The sensor ids of a ``;``-separated cell (empty → [])."""
    return [s.strip() for s in _text(value).split(";") if s.strip()]


def _number(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce")


def _pct(value: Any) -> float:
    """A 0–1 share as a percentage at the display rounding (NaN stays NaN)."""
    share = float(value)
    return share if np.isnan(share) else round(100 * share, DECIMALS)


def _years(years: list[int], lang: Lang) -> str:
    """Years with runs collapsed: ``2000—2003、2012`` / ``2000–2003, 2012``."""
    runs: list[list[int]] = []
    for y in sorted(set(years)):
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    dash, sep = ("—", "、") if lang == "zh" else ("–", ", ")
    return sep.join(f"{r[0]}{dash}{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _names(ids: list[str], lang: Lang) -> str:
    return ("、" if lang == "zh" else ", ").join(sensor_name(s) for s in ids)


def _with_scenes(quality: pd.DataFrame) -> pd.DataFrame:
    """The rows of years that had scenes."""
    if "scenes" in quality:
        return quality[_number(quality, "scenes").fillna(0) > 0]
    if "sensors" in quality:
        return quality[[bool(_ids(v)) for v in quality["sensors"]]]
    return quality


def _has_slc(quality: pd.DataFrame) -> bool:
    return "slc_off_scenes" in quality and bool(_number(quality, "slc_off_scenes").fillna(0).sum())


def data_table(quality: pd.DataFrame, lang: Lang = "zh") -> pd.DataFrame:
    """The per-year table of the remote-sensing data, headers in ``lang``.

    One row per year of ``composite_quality.csv`` (sorted): sensors (display names), scenes,
    and where the columns exist SLC-off scenes, mean gap share, share of the gaps filled from
    other dates of the year, clear share and share filled from neighbouring years, shares in %
    to :data:`DECIMALS` decimals (NaN where the product is empty, e.g. no gap that year). The
    SLC-off columns are left out when no year has an SLC-off scene.
    """
    q = quality.sort_values("year", kind="stable").reset_index(drop=True)
    table = pd.DataFrame({tr("year", lang): q["year"].astype(int).to_list()})
    if "sensors" in q:
        none = tr("rs.none", lang)
        table[tr("rs.sensors", lang)] = [_names(_ids(v), lang) or none for v in q["sensors"]]
    if "scenes" in q:
        table[tr("rs.scenes", lang)] = _number(q, "scenes").fillna(0).astype(int).to_list()
    if _has_slc(q):
        table[tr("rs.slc_scenes", lang)] = _number(q, "slc_off_scenes").fillna(0).astype(
            int).to_list()
        for column, head in (("slc_gap_share", "rs.gap"), ("slc_gap_filled_share",
                                                           "rs.gap_filled")):
            if column in q:
                table[tr(head, lang)] = [_pct(v) for v in _number(q, column)]
    for column, head in (("clear_share", "rs.clear"), ("filled_share", "rs.filled")):
        if column in q:
            table[tr(head, lang)] = [_pct(v) for v in _number(q, column)]
    return table


def _intro(quality: pd.DataFrame, lang: Lang) -> list[Paragraph]:
    used = _with_scenes(quality)
    years: dict[str, list[int]] = {}
    if "sensors" in quality:
        for year, cell in zip(used["year"].astype(int), used["sensors"], strict=True):
            for s in _ids(cell):
                years.setdefault(s, []).append(int(year))
    sep = "、" if lang == "zh" else ", "
    sensors = sep.join(tr("rs.sensor_years", lang, name=sensor_name(s), years=_years(ys, lang))
                       for s, ys in sorted(years.items(), key=lambda kv: (min(kv[1]), kv[0])))
    n = int(_number(quality, "scenes").fillna(0).sum()) if "scenes" in quality else len(used)
    out = [Paragraph(tr("rs.intro", lang, y0=int(quality["year"].min()),
                        y1=int(quality["year"].max()), n=n, sensors=sensors or "—"))]
    empty = sorted(set(quality["year"].astype(int)) - set(used["year"].astype(int)))
    if empty and ("scenes" in quality or "sensors" in quality):
        out.append(Paragraph(tr("rs.no_scene_years", lang, years=_years(empty, lang))))
    return out


def _gain(calibration: dict[str, Any], role: str) -> str:
    g = calibration.get("gains", {}).get(role, {})
    if "gain" not in g:
        return "—"
    se = g.get("stderr")
    return f"{g['gain']:.3f}" + (f" ({se:.3f})" if se is not None else "")


def _tm_text(calibration: dict[str, Any] | None, lang: Lang) -> str:
    """How TM was harmonised: gains fitted on the archive, or the table's row (and why)."""
    if calibration and calibration.get("method") == "archive":
        pairs = len(calibration.get("pairs", []))
        seasonal = calibration.get("model") == "seasonal"
        return tr("rs.harm_tm_archive", lang, pairs=pairs,
                  cross=calibration.get("cross_pairs", pairs),
                  season_zh="，季节变化按月份同时拟合" if seasonal else "",
                  season_en="; the season's drift fitted by month" if seasonal else "",
                  days=calibration.get("max_days", "—"), n=calibration.get("n_pixels", "—"),
                  red=_gain(calibration, "red"), nir=_gain(calibration, "nir"))
    if calibration and calibration.get("reason"):
        return tr("rs.harm_tm_table", lang, reason=calibration["reason"])
    return tr("rs.harm_tm", lang)


def _harmonisation(quality: pd.DataFrame, lang: Lang,
                   calibration: dict[str, Any] | None = None) -> list[Paragraph]:
    """The sentences on the harmonisation (none for a table without ``harmonised_to``)."""
    if "harmonised_to" not in quality:
        return []
    used = _with_scenes(quality)
    to = [_text(v) for v in used["harmonised_to"]]
    year_list = used["year"].astype(int).to_list()
    targets = sorted({t for t in to if t and t != "off"})
    sensor_sets = [_ids(v) for v in used["sensors"]] if "sensors" in used else [[]] * len(used)
    texts: list[str] = []
    if not targets:
        if not any(to):
            return []
        texts.append(tr("rs.harm_off", lang))
        changes = [year_list[i] for i in range(1, len(year_list))
                   if set(sensor_sets[i]) != set(sensor_sets[i - 1])]
        if changes:
            texts.append(tr("rs.harm_off_step", lang, years=_years(changes, lang)))
        return [Paragraph(" ".join(texts) if lang == "en" else "".join(texts))]
    harmonised = sorted({s for v in used.get("harmonised", []) for s in _ids(v)})
    for target in targets:
        name = sensor_name(target)
        present = sorted({s for y, ss, t in zip(year_list, sensor_sets, to, strict=True)
                          if t == target for s in ss})
        roy = [s for s in harmonised if s in ROY_SENSORS]
        hls = [s for s in harmonised if s in HLS_SENSORS]
        identity = [s for s in harmonised if s not in ROY_SENSORS + HLS_SENSORS]
        if roy:
            tm = _tm_text(calibration, lang) if set(roy) - {"landsat7"} else ""
            texts.append(tr("rs.harm_roy", lang, sensors=_names(roy, lang), target=name, tm=tm))
        if hls:
            texts.append(tr("rs.harm_hls", lang, sensors=_names(hls, lang), target=name))
        if identity:
            texts.append(tr("rs.harm_identity", lang, sensors=_names(identity, lang),
                            target=name))
        left = [s for s in present if s != target and s not in harmonised]
        if left:
            texts.append(tr("rs.harm_unknown", lang, sensors=_names(left, lang), target=name))
        if harmonised:
            texts.append(tr("rs.harm_table", lang, table=HARMONISATION_TABLE))
        elif not left:
            texts.append(tr("rs.harm_none_needed", lang, target=name))
    off = [y for y, t in zip(year_list, to, strict=True) if t == "off"]
    if off:
        texts.append(tr("rs.harm_partly_off", lang, years=_years(off, lang)))
    return [Paragraph(" ".join(texts) if lang == "en" else "".join(texts))]


def _slc(quality: pd.DataFrame, lang: Lang) -> list[Paragraph]:
    """The sentence on the SLC-off gaps (none for a table without ``slc_off_scenes``)."""
    if "slc_off_scenes" not in quality:
        return []
    if not _has_slc(quality):
        return [Paragraph(tr("rs.slc_none", lang))]
    n_scenes = _number(quality, "slc_off_scenes").fillna(0)
    rows = quality[n_scenes > 0]
    n = n_scenes[n_scenes > 0]
    gap = "—"
    if "slc_gap_share" in rows:
        shares = _number(rows, "slc_gap_share")
        ok = shares.notna()
        if ok.any():
            gap = f"{100 * float((shares[ok] * n[ok]).sum() / n[ok].sum()):.{DECIMALS}f}"
    filled = "—"
    if "slc_gap_filled_share" in rows:
        values = _number(rows, "slc_gap_filled_share").dropna()
        if len(values):
            low, high = 100 * float(values.min()), 100 * float(values.max())
            filled = (f"{low:.{DECIMALS}f} %" if len(values) == 1 or low == high else
                      tr("rs.range", lang, low=f"{low:.{DECIMALS}f}", high=f"{high:.{DECIMALS}f}"))
    return [Paragraph(tr("rs.slc", lang, n=int(n.sum()),
                         years=_years(rows["year"].astype(int).to_list(), lang), gap=gap,
                         filled=filled))]


def remote_sensing_part(section: Section, inputs: ReportInputs, lang: Lang = "zh") -> None:
    """Append the remote-sensing data part (paragraphs and the per-year table) to ``section``.

    Nothing is appended when ``inputs.composite_quality`` is absent; the loader's reason goes
    to ``section.missing`` when it recorded one (``inputs.missing["composite_quality"]``).
    """
    quality = inputs.composite_quality
    if quality is None or not len(quality) or "year" not in quality:
        if "composite_quality" in inputs.missing:
            section.missing.append(missing_reason(inputs, "composite_quality", lang))
        return
    quality = quality[_number(quality, "year").notna()].sort_values("year", kind="stable")
    section.blocks.extend(_intro(quality, lang))
    section.blocks.extend(_harmonisation(quality, lang, inputs.cross_calibration))
    section.blocks.extend(_slc(quality, lang))
    note = tr("rounding", lang, d=DECIMALS) + tr("rs.note", lang)
    if _has_slc(quality):
        note += tr("rs.note_slc", lang)
    section.blocks.append(Table(data_table(quality, lang), tr("rs.table", lang), note=note,
                                source=SOURCE))
