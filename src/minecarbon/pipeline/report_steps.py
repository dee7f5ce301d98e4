"""Pipeline step of the report (R1): load the products, write the report in DOCX and HTML.

Every product the report needs is optional here: what is missing is recorded in
``ReportInputs.missing`` with the reason, and the report says which sections could not be
written instead of failing. The data appendix lists every dataset of the catalogue.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from minecarbon.catalog import Workspace
from minecarbon.errors import MinecarbonError, warn
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import read_on_grid
from minecarbon.io.tables import read_table, write_csv
from minecarbon.io.vector import read_vector
from minecarbon.pipeline.assessment_steps import OUT as ASSESSMENT_OUT
from minecarbon.pipeline.model_steps import AGC
from minecarbon.pipeline.scope_steps import EXTENT_FILE, load_grid
from minecarbon.pipeline.step import Step, StepContext
from minecarbon.report.appendix import ANNEX
from minecarbon.report.document import Lang
from minecarbon.report.inputs import ReportInputs

REPORT = "reports/report.{lang}.{ext}"
VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".fgb")


def _try(inputs: ReportInputs, name: str, load: Callable[[], Any], why: str) -> Any:
    """``load()``, or None with ``why`` recorded when the product is missing or unreadable."""
    try:
        return load()
    except (MinecarbonError, OSError, ValueError, KeyError) as error:
        inputs.missing[name] = f"{why} ({error})" if not isinstance(error, FileNotFoundError) \
            else why
        return None


def _file(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(path)
    return path


def _read_csv(path: Path) -> pd.DataFrame:
    return read_table(_file(path))


def _raw_vectors(ws: Workspace, kind: str) -> Any:
    records = [r for r in ws.catalog.datasets(kind=f"raw:{kind}")
               if Path(r.path).suffix.lower() in VECTOR_SUFFIXES]
    if not records:
        raise FileNotFoundError(kind)
    frames = [read_vector(ws.path(r.path)) for r in records]
    crs = ws.config.project.crs
    return pd.concat([f.to_crs(crs) if f.crs is not None else f for f in frames],
                     ignore_index=True).pipe(lambda d: d.set_crs(crs, allow_override=True))


def load_report_inputs(ws: Workspace) -> ReportInputs:
    """Everything the report reads, from the workspace's products (rasters lazily)."""
    cfg = ws.config
    inputs = ReportInputs()
    years = list(range(cfg.project.first_year, cfg.project.last_year + 1))
    inputs.project = {
        "name": cfg.project.name, "crs": cfg.project.crs, "first_year": years[0],
        "last_year": years[-1], "pixel_size_m": cfg.scope.pixel_size_m,
        "buffer_m": cfg.scope.buffer_m, "base_years": list(cfg.assessment.base_years),
        "min_plots_per_unit": cfg.survey.min_plots_per_unit}
    chunk = cfg.compute.chunk_px
    grid: AnalysisGrid | None = _try(inputs, "grid", lambda: load_grid(ws.root),
                                     "the scope step has not run")
    p = ws.path
    inputs.extent = _try(inputs, "extent", lambda: read_vector(_file(p(EXTENT_FILE))),
                         "no monitoring extent (scope step)")
    for kind in ("boundary", "damage", "plan", "reclamation"):
        setattr(inputs, kind, _try(inputs, kind, partial(_raw_vectors, ws, kind),
                                   f"no {kind} polygons imported"))
    inputs.unit_areas = _try(inputs, "unit_areas", lambda: read_table(_file(p(
        "products/units/unit_areas.csv"))), "the units step has not run")
    inputs.plot_units = _try(inputs, "plot_units", lambda: read_table(_file(p(
        "products/units/plot_units.csv"))), "no plot units (units step with plots)")
    inputs.plot_agc = _try(inputs, "plot_agc", lambda: read_table(_file(p(
        "products/plots/plot_agc.csv"))), "the plots step has not run")
    inputs.allometry_report = _try(inputs, "allometry_report", lambda: json.loads(_file(p(
        "products/plots/allometry_report.json")).read_text(encoding="utf-8")),
        "the plots step has not run")
    inputs.plots = _try(inputs, "plots", lambda: _plot_points(ws), "no plot positions imported")
    inputs.accuracy = _try(inputs, "accuracy", lambda: json.loads(_file(p(
        "products/classification/accuracy.json")).read_text(encoding="utf-8")),
        "the classify step has not run (no training samples?)")
    for name, rel in (("composite_quality", "products/features/composite_quality.csv"),
                      ("cv_results", "products/models/cv_results.csv"),
                      ("selected_features", "products/models/selected_features.csv"),
                      ("oof_predictions", "products/models/oof_predictions.csv"),
                      ("agc_totals", "products/agc/agc_totals.csv"),
                      ("zonal_stats", f"{ASSESSMENT_OUT}zonal_stats.csv"),
                      ("carbon_totals", f"{ASSESSMENT_OUT}totals.csv"),
                      ("change_totals", f"{ASSESSMENT_OUT}change_totals.csv"),
                      ("area_estimates", f"{ASSESSMENT_OUT}area_estimates.csv")):
        setattr(inputs, name, _try(inputs, name, partial(_read_csv, p(rel)),
                                   f"{rel} is missing"))
    validations = sorted(ws.path("products/tls").glob("*_validation.json"))
    inputs.tls_validation = [json.loads(v.read_text(encoding="utf-8")) for v in validations]
    inputs.model_card = _try(inputs, "model_card", lambda: json.loads(_file(p(
        "products/models/model_card.json")).read_text(encoding="utf-8")),
        "the models step has not run")
    inputs.cross_calibration = _try(inputs, "cross_calibration", lambda: json.loads(_file(p(
        "products/features/cross_calibration.json")).read_text(encoding="utf-8")),
        "the features step has not run")
    inputs.agc_calibration = _try(inputs, "agc_calibration", lambda: json.loads(_file(p(
        "products/agc/calibration.json")).read_text(encoding="utf-8")),
        "the mapping step has not run")
    inputs.assessment_summary = _try(inputs, "assessment_summary", lambda: json.loads(_file(p(
        f"{ASSESSMENT_OUT}summary.json")).read_text(encoding="utf-8")),
        "the assessment step has not run")
    inputs.catalogue = _catalogue(ws)
    if grid is None:
        return inputs

    def raster(rel: str, masked: bool = True) -> xr.DataArray:
        return read_on_grid(_file(p(rel)), grid, chunks=chunk, masked=masked)

    last = years[-1]
    inputs.units_l1 = _try(inputs, "units_l1", lambda: raster(
        f"products/units/units_l1_{last}.tif", False), "the units step has not run")
    inputs.units_l2 = _try(inputs, "units_l2", lambda: raster(
        f"products/units/units_l2_{last}.tif", False), "the units step has not run")
    mapped = [y for y in years if p(AGC.format(year=y)).exists()]
    if mapped:
        inputs.agc = xr.concat([raster(AGC.format(year=y)) for y in mapped],
                               dim=pd.Index(mapped, name="year"))
    else:
        inputs.missing["agc"] = "the mapping step has not run (no products/agc/agc_<year>.tif)"
    out = p(ASSESSMENT_OUT)
    for path in sorted(out.glob("change_degree_*.tif")) if out.exists() else []:
        inputs.change_degree[path.stem.removeprefix("change_degree_")] = raster(
            f"{ASSESSMENT_OUT}{path.name}")
    for path in sorted(out.glob("change_*.tif")) if out.exists() else []:
        if not path.stem.startswith("change_degree_"):
            inputs.change[path.stem] = raster(f"{ASSESSMENT_OUT}{path.name}")
    for path in sorted(out.glob("gistar_bin_*.tif")) if out.exists() else []:
        inputs.gistar_bin[path.stem.removeprefix("gistar_bin_")] = raster(
            f"{ASSESSMENT_OUT}{path.name}", False)
    for name, masked in (("trend_class", False), ("sen_slope", True),
                         ("cumulative_effect", True), ("cumulative_grade", False)):
        setattr(inputs, name, _try(inputs, name, partial(raster, f"{ASSESSMENT_OUT}{name}.tif",
                                                         masked),
                                   f"{ASSESSMENT_OUT}{name}.tif is missing"))
    return inputs


def _plot_points(ws: Workspace) -> Any:
    from minecarbon.pipeline.records import read_plot_records

    records = read_plot_records(ws, [ws.path(r.path) for r in ws.catalog.datasets(
        kind="raw:plots")])
    if records is None:
        raise FileNotFoundError("plots")
    return records


def _catalogue(ws: Workspace) -> pd.DataFrame:
    rows = [{"path": r.path, "kind": r.kind, "sha256": r.sha256, "size_bytes": r.size_bytes,
             "crs": r.crs or "", "time": r.time or "", "step": r.step or "",
             "inputs": " ".join(path for path, _ in r.inputs)}
            for r in ws.catalog.datasets()]
    return pd.DataFrame(rows, columns=["path", "kind", "sha256", "size_bytes", "crs", "time",
                                       "step", "inputs"])


def _report(ctx: StepContext) -> None:
    from minecarbon.report.appendix import data_annex
    from minecarbon.report.content import build_report
    from minecarbon.report.render_docx import render_docx
    from minecarbon.report.render_html import render_html

    cfg = ctx.config.report
    lang: Lang = cfg.lang
    inputs = load_report_inputs(ctx.workspace)
    if inputs.missing:
        warn("the report leaves out what these products would give: " + "; ".join(
            f"{k}: {v}" for k, v in sorted(inputs.missing.items())), stacklevel=2)
    report = build_report(inputs, lang)
    annex = data_annex(inputs)
    ctx.publish(ANNEX, lambda tmp: write_csv(annex, tmp), kind="report:data_annex")
    if "docx" in cfg.formats:
        data = render_docx(report)
        ctx.publish(REPORT.format(lang=lang, ext="docx"), lambda tmp: tmp.write_bytes(data),
                    kind="report:docx")
    if "html" in cfg.formats:
        text = render_html(report)
        ctx.publish(REPORT.format(lang=lang, ext="html"),
                    lambda tmp: tmp.write_text(text, encoding="utf-8"), kind="report:html")


REPORT_STEP = Step(
    "report",
    _report,
    needs=("units", "plots", "classify", "models", "mapping", "assessment"),
    raw=("boundary", "damage", "plan", "reclamation", "plots"),
    makes=("reports/report.*.docx", "reports/report.*.html", ANNEX),
    config=("project", "scope", "assessment", "report"),
    description="the monitoring and assessment report after appendix E, DOCX and HTML (R1)",
)
