"""Admission of tables: plot records, tree lists, climate series, biomass models, TLS tallies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from minecarbon.catalog.workspace import RAW_KINDS
from minecarbon.errors import InputDataError, warn
from minecarbon.io.tables import read_table
from minecarbon.pipeline.admission.context import Project

#: Kinds delivered as tables (CSV, XLSX). ``tls`` takes tallies beside its clouds.
TABLE_KINDS = ("plots", "trees", "climate", "models", "tls")

#: Climate columns and their plausible range of annual values (unit in the name).
CLIMATE_RANGES = {
    "temperature_c": (-30.0, 40.0),
    "precipitation_mm": (0.0, 5000.0),
}

#: How many problems one refusal names before "… and N more".
LISTED = 5


def one_line(error: InputDataError, path: Path) -> InputDataError:
    """An error of a survey validator as one line: the summary, the first rows, the fix."""
    issues = getattr(error, "issues", None)
    if issues:
        rows = sorted({i.row for i in issues})
        shown = "; ".join(str(i) for i in issues[:LISTED])
        more = f"; … and {len(issues) - LISTED} more" if len(issues) > LISTED else ""
        noun = "row" if len(rows) == 1 else "rows"
        fix = (issues[0].fix if len({i.fix for i in issues}) == 1
               else "correct the rows named and import the file again")
        return InputDataError(f"{path}: {len(rows)} invalid {noun} — {shown}{more}", fix=fix)
    message = " ".join(error.message.split())
    return InputDataError(message if str(path.name) in message else f"{path}: {message}",
                          fix=error.fix)


def _read(path: Path) -> pd.DataFrame:
    frame = read_table(path, as_text=True)
    if len(frame.columns) == 1:
        header = str(frame.columns[0])
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in header:
                raise InputDataError(
                    f"{path}: its columns are separated by {name} ({header[:60]!r})",
                    fix="save it as a comma-separated CSV (Excel: CSV UTF-8)")
    if frame.columns.empty or frame.dropna(how="all").empty or all(
            str(v).strip() == "" for v in frame.to_numpy().ravel()):
        raise InputDataError(f"{path} has no data rows", fix="check that this is the right file")
    return frame


def check_table(project: Project, kind: str, path: Path, time: str | None) -> None:
    """Check a table of ``kind`` as the pipeline will read it."""
    if kind not in TABLE_KINDS:
        raise InputDataError(
            f"{path} is not a spatial file, but {RAW_KINDS[kind][1]} must be one",
            fix="give a GeoPackage, shapefile or GeoJSON (vectors) or a GeoTIFF (rasters)")
    if path.suffix.lower() not in (".csv", ".xlsx", ".xls", ".txt"):
        raise InputDataError(f"{path}: {RAW_KINDS[kind][1]} must be a CSV or Excel table",
                             fix="save it as UTF-8 CSV")
    frame = _read(path)
    try:
        {"plots": _plots, "trees": _trees, "climate": _climate, "models": _models,
         "tls": _tally}[kind](project, path, frame)
    except InputDataError as error:
        refusal = one_line(error, path)
        if kind == "trees" and getattr(error, "issues", None):
            refusal = InputDataError(refusal.message, fix=f"{refusal.fix}, or import it with "
                                     "--skip-invalid to leave them out")
        raise refusal from None


def _plots(project: Project, path: Path, frame: pd.DataFrame) -> None:
    from minecarbon.survey.plots import validate_plots

    cfg = project.ws.config
    plots = validate_plots(frame, path.name, cfg.project.crs, cfg.scope.pixel_size_m)
    known = _plot_ids(project)
    if known is not None:
        again = sorted(set(plots["plot_id"].astype(str)) & known)
        if again:
            shown = ", ".join(again[:LISTED]) + (" …" if len(again) > LISTED else "")
            raise InputDataError(
                f"{path}: plot ids {shown} are already in an imported plot table",
                fix="give each plot one record (a re-measurement gets its own plot_id), or "
                "withdraw the old table with `minecarbon remove raw/plots/…`")
    _points_inside(project, path, plots)


def _points_inside(project: Project, path: Path, plots: pd.DataFrame) -> None:
    extent = project.extent
    if extent is None or plots.empty:
        return
    import shapely

    inside = shapely.contains_xy(extent, plots["x"].to_numpy(float), plots["y"].to_numpy(float))
    if not inside.any():
        raise InputDataError(
            f"{path}: none of its {len(plots)} plots lies in the monitoring extent",
            fix="check the coordinates and their crs column (x = easting, y = northing)")
    if not inside.all():
        out = plots.loc[~inside, "plot_id"].astype(str).tolist()
        warn(f"{path}: plots {', '.join(out[:10])}{' …' if len(out) > 10 else ''} lie outside "
             "the monitoring extent and will not be used")


def _plot_ids(project: Project) -> set[str] | None:
    from minecarbon.pipeline.records import read_plot_records

    known = read_plot_records(project.ws, [project.ws.path(r.path)
                                           for r in project.imported("plots")])
    return None if known is None else {str(p) for p in known["plot_id"]}


def _trees(project: Project, path: Path, frame: pd.DataFrame) -> None:
    from minecarbon.survey.trees import validate_tree_list

    known = _plot_ids(project)
    if known is None:
        warn(f"{path}: no plot table is imported yet, so its plot ids are checked at "
             "`minecarbon run` (import the plots first to check them now)")
    if project.skip_invalid:
        from minecarbon.survey.trees import skipped_summary

        trees = validate_tree_list(frame, path.name, known_plots=known, skip_invalid=True)
        if trees.attrs["skipped"]:
            rows = " ".join(skipped_summary(trees.attrs["skipped"]).split())
            warn(f"{path}: admitted with invalid rows, which `minecarbon plots agc "
                 f"--skip-invalid` leaves out — {rows}")
    else:
        trees = validate_tree_list(frame, path.name, known_plots=known)
    _generic_species(path, trees)


def _generic_species(path: Path, trees: pd.DataFrame) -> None:
    """Warn about species names that resolve to no species, genus or group (generic model)."""
    from minecarbon.standard.species import resolve_model_key

    if "species" not in trees:
        return
    names = sorted({str(n) for n in trees["species"].dropna() if str(n).strip()})
    generic = [n for n in names if resolve_model_key(n).level == "generic"]
    if generic:
        warn(f"{path}: species {', '.join(generic[:10])}{' …' if len(generic) > 10 else ''} "
             "match no species, genus or group of the species table; their trees get the "
             "generic biomass model")


def _tally(project: Project, path: Path, frame: pd.DataFrame) -> None:
    from minecarbon.survey.trees import validate_tree_list

    validate_tree_list(frame, path.name)


def _number_column(path: Path, frame: pd.DataFrame, column: str) -> np.ndarray:
    values: np.ndarray = np.asarray(
        pd.to_numeric(frame[column].astype(str).str.strip(), errors="coerce"), dtype=float)
    text = frame[column].astype(str).str.strip()
    bad = np.flatnonzero(~np.isfinite(values) & (text != "").to_numpy())
    if bad.size:
        row = int(bad[0]) + 2
        raise InputDataError(
            f"{path}: row {row}, column {column}: {text.iloc[bad[0]]!r} is not a number"
            + (f" (and {bad.size - 1} more rows)" if bad.size > 1 else ""),
            fix="write plain decimal numbers (no units or words in the cells)")
    return values


def _climate(project: Project, path: Path, frame: pd.DataFrame) -> None:
    frame = frame.rename(columns=lambda c: str(c).strip().lower())
    needed = ["year", *CLIMATE_RANGES]
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if missing:
        raise InputDataError(
            f"{path} has no column {', '.join(missing)} (columns: {', '.join(frame.columns)})",
            fix="give columns year, " + ", ".join(CLIMATE_RANGES) + " (annual values)")
    years = _number_column(path, frame, "year")
    if np.isnan(years).any():
        row = int(np.flatnonzero(np.isnan(years))[0]) + 2
        raise InputDataError(f"{path}: row {row} has no year", fix="give every row its year")
    if (years != np.round(years)).any() or ((years < 1900) | (years > 2100)).any():
        row = int(np.flatnonzero((years != np.round(years)) | (years < 1900) | (years > 2100))[0])
        raise InputDataError(f"{path}: row {row + 2}, column year: {years[row]:g} is not a year "
                             "in 1900–2100", fix="write four-digit years")
    dup = sorted({int(y) for y in years[pd.Series(years).duplicated().to_numpy()]})
    if dup:
        raise InputDataError(f"{path}: years {dup} appear more than once",
                             fix="give one row per year")
    _climate_years_new(project, path, {int(y) for y in years})
    for column in needed[1:]:
        values = _number_column(path, frame, column)
        lo, hi = CLIMATE_RANGES.get(column, (-np.inf, np.inf))
        off = np.flatnonzero((values < lo) | (values > hi))
        if off.size:
            row = int(off[0])
            raise InputDataError(
                f"{path}: row {row + 2}, column {column}: {values[row]:g} is outside the "
                f"plausible annual range {lo:g}–{hi:g}",
                fix="give annual means of temperature in °C and annual totals of precipitation "
                "in mm")
        gaps = [int(y) for y, v in zip(years, values, strict=True) if np.isnan(v)]
        if gaps:
            warn(f"{path}: no {column} in years {gaps}; the cumulative effect needs every year "
                 "of its base period and of the period assessed")
    span = set(range(int(years.min()), int(years.max()) + 1)) - {int(y) for y in years}
    if span:
        warn(f"{path}: the series has no rows for years {sorted(span)}")
    cfg = project.ws.config.project
    wanted = set(range(cfg.first_year, cfg.last_year + 1)) - {int(y) for y in years}
    if wanted and len(wanted) > (cfg.last_year - cfg.first_year) // 2:
        warn(f"{path}: covers few of the project years {cfg.first_year}–{cfg.last_year} "
             f"({len(wanted)} missing)")


def _climate_years_new(project: Project, path: Path, years: set[int]) -> None:
    for rec in project.imported("climate"):
        other = project.ws.path(rec.path)
        if other.name == path.name:
            continue  # the same name: a re-import, or a --replace of it
        table = read_table(other).rename(columns=lambda c: str(c).strip().lower())
        both = sorted(years & {int(y) for y in pd.to_numeric(table.get("year"), errors="coerce")
                               .dropna()})
        if both:
            raise InputDataError(
                f"{path}: years {both[:5]}{' …' if len(both) > 5 else ''} are already in "
                f"{rec.path}", fix=f"withdraw the old series (`minecarbon remove {rec.path}`) "
                "and import the whole new one, or import only the years it lacks")


def _models(project: Project, path: Path, frame: pd.DataFrame) -> None:
    from minecarbon.allometry.equations import ModelTable
    from minecarbon.standard.biomass_models import model_rows_from_text

    if path.suffix.lower() != ".csv":
        raise InputDataError(f"{path}: the biomass model table must be a CSV file",
                             fix="save it as UTF-8 CSV")
    rows = model_rows_from_text(path.read_text(encoding="utf-8-sig"))
    ModelTable.from_rows(rows, path.name)
