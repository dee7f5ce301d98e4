"""What the report is written from: the workspace's products, loaded in memory.

The pipeline's report step fills a :class:`ReportInputs` through ``minecarbon.io`` (rasters
lazily, as xarray objects on the project grid); the report package only reads it. Every field
is optional: a product missing from the workspace is ``None``, and the section that needs it
says so instead of failing. ``missing`` maps a product name to the reason it is absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
import xarray as xr


@dataclass
class ReportInputs:
    """The products a report is written from (all optional).

    Attributes
    ----------
    project
        ``name``, ``crs``, ``first_year``, ``last_year``, ``pixel_size_m``, ``buffer_m`` and
        ``base_years`` of the project.
    boundary, extent, damage, plan, reclamation
        The mining-right boundary, the monitoring extent and the event polygons (damage with
        ``form`` and ``year``; plan with ``form`` and ``year``; reclamation with ``year``), in the
        project CRS.
    unit_areas
        ``products/units/unit_areas.csv``: ``year, level, code, zh, en, n_pixels, area_ha,
        forest_source``.
    units_l1, units_l2
        Level-1 and level-2 unit maps of the last year (y, x), codes as in
        :class:`minecarbon.types.AssessmentUnit` (l2 = l1 × 10 + damage form).
    plots
        Plot centres (points) with ``plot_id``; ``plot_units`` the plot → unit table
        (``plot_id, unit_l1, unit_l2, crosses_border, smaller_than_pixel``); ``plot_agc``
        ``products/plots/plot_agc.csv`` (``plot_id, unit_l1, unit_l2, forest_type, n_trees,
        agb_t_per_ha, agc_t_per_ha, agc_ci_low, agc_ci_high, co2e_t_per_ha, species_group, …``).
    allometry_report
        ``products/plots/allometry_report.json``: the model table, notes and, in workspaces
        written since decision 48, ``models`` (each biomass model's trees, share of the plots'
        carbon and systematic error, :func:`minecarbon.allometry.systematic.model_shares`).
    accuracy
        ``products/classification/accuracy.json`` (land cover, leaf habit, species reports).
    composite_quality
        ``products/features/composite_quality.csv``, one row per project year: ``year,
        sensor, sensors, scenes, clear_share, filled_share, valid_share`` and, in workspaces
        written since issue 16, ``harmonised, harmonised_to, slc_off_scenes, slc_gap_share,
        slc_gap_filled_share`` (the report's remote-sensing data part); ``cross_calibration``
        the features step's ``products/features/cross_calibration.json`` (TM → ETM+ gains
        fitted on the archive, or why the table's TM row was used).
    cv_results, selected_features, model_card, oof_predictions
        The models step's products; ``oof_predictions`` has ``plot_id, stratum, observed,
        predicted`` (out-of-fold, never the training fit).
    agc
        Annual AGC maps (year, y, x), t C/ha, NaN outside forest; ``agc_totals`` per level-2
        unit and year (``year, unit_l2, agc_t_per_ha, area_ha, agc_t``);
        ``agc_calibration`` the mapping step's ``products/agc/calibration.json`` (trajectory
        fit, the attenuation b and its source, the residual offsets).
    change, change_degree
        Name (``change_2000_2024``) → map (y, x).
    trend_class, sen_slope, cumulative_effect, cumulative_grade
        Assessment maps (y, x); ``gistar_bin`` layer name → bin map (−3 … 3).
    zonal_stats, assessment_summary
        ``products/assessment/zonal_stats.csv`` and ``summary.json``.
    carbon_totals, change_totals
        ``products/assessment/totals.csv`` and ``change_totals.csv``: totals and changes with
        their 95 % intervals (issue 17); ``area_estimates``, ``area_estimates.csv``.
    catalogue
        Every dataset of the catalogue: ``path, kind, sha256, size_bytes, crs, time, step,
        inputs`` (space-separated input paths).
    missing
        Product → why it is absent (e.g. ``"assessment": "the assessment step has not run"``).

    """

    project: dict[str, Any] = field(default_factory=dict)
    boundary: gpd.GeoDataFrame | None = None
    extent: gpd.GeoDataFrame | None = None
    damage: gpd.GeoDataFrame | None = None
    plan: gpd.GeoDataFrame | None = None
    reclamation: gpd.GeoDataFrame | None = None
    unit_areas: pd.DataFrame | None = None
    units_l1: xr.DataArray | None = None
    units_l2: xr.DataArray | None = None
    plots: gpd.GeoDataFrame | None = None
    plot_units: pd.DataFrame | None = None
    plot_agc: pd.DataFrame | None = None
    allometry_report: dict[str, Any] | None = None
    accuracy: dict[str, Any] | None = None
    composite_quality: pd.DataFrame | None = None
    cross_calibration: dict[str, Any] | None = None
    cv_results: pd.DataFrame | None = None
    selected_features: pd.DataFrame | None = None
    model_card: dict[str, Any] | None = None
    oof_predictions: pd.DataFrame | None = None
    agc: xr.DataArray | None = None
    agc_totals: pd.DataFrame | None = None
    agc_calibration: dict[str, Any] | None = None
    change: dict[str, xr.DataArray] = field(default_factory=dict)
    change_degree: dict[str, xr.DataArray] = field(default_factory=dict)
    trend_class: xr.DataArray | None = None
    sen_slope: xr.DataArray | None = None
    cumulative_effect: xr.DataArray | None = None
    cumulative_grade: xr.DataArray | None = None
    gistar_bin: dict[str, xr.DataArray] = field(default_factory=dict)
    zonal_stats: pd.DataFrame | None = None
    carbon_totals: pd.DataFrame | None = None
    tls_validation: list[dict[str, Any]] | None = None
    area_estimates: pd.DataFrame | None = None
    change_totals: pd.DataFrame | None = None
    assessment_summary: dict[str, Any] | None = None
    catalogue: pd.DataFrame | None = None
    missing: dict[str, str] = field(default_factory=dict)
