"""One pydantic configuration, a section per stage, loaded from the workspace's TOML file.

Unknown keys are refused (``extra="forbid"``); bounds come from the standard (requirements S1,
P1, M4, A2). Loading errors become one :class:`~minecarbon.errors.ConfigError` that names the
file, the key and the fix.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from minecarbon.errors import ConfigError, PathNotFoundError, warn
from minecarbon.types import ModelKind

CONFIG_FILE = "minecarbon.toml"


def _odd(value: int, info: ValidationInfo) -> int:
    """A window width: odd, so that the window has a centre pixel."""
    if value % 2 == 0:
        raise ValueError(f"{info.field_name} must be odd (1, 3, 5, …), not {value}")
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class ProjectConfig(_Section):
    """Identity and time frame of the monitoring project."""

    name: str = "minecarbon project"
    crs: str = Field("EPSG:4546", description="projected metric CRS of the analysis grid")
    first_year: int = Field(2000, ge=1972, le=2100)
    last_year: int = Field(2024, ge=1972, le=2100)

    @field_validator("crs")
    @classmethod
    def _projected(cls, value: str) -> str:
        from minecarbon.grid import require_projected

        require_projected(value, "[project] crs")
        return value


class ScopeConfig(_Section):
    """Monitoring extent (S1) and analysis grid."""

    buffer_m: float = Field(500.0, ge=0.0, description="guide: 100–500 m; outside is warned")
    pixel_size_m: float = Field(30.0, gt=0.0, le=1000.0)
    landcover_forest_codes: list[int] = Field(
        default_factory=lambda: [1], description="land-cover codes that are (arbor) forest"
    )
    forest_source: Literal["auto", "imported", "classified"] = Field(
        "auto", description="annual forest masks of the assessment units: imported land-cover "
        "maps, the classify step's maps, or auto (imported when there is one for every year, "
        "else classified)")

    @field_validator("buffer_m")
    @classmethod
    def _warn_buffer(cls, value: float) -> float:
        if not 100.0 <= value <= 500.0:
            warn(
                f"[scope] buffer_m = {value:g} m is outside the guide's 100–500 m",
                UserWarning,
                stacklevel=2,
            )
        return value


class SurveyConfig(_Section):
    """Plot design (P1)."""

    plot_side_m: float | None = Field(None, gt=0.0, description="default: the pixel size")
    min_plots_per_unit: int = Field(3, ge=3, description="guide: at least 3 per unit")
    min_spacing_m: float = Field(60.0, ge=0.0)
    extra_plots_planned_damage: int = Field(2, ge=0)
    skip_invalid_trees: bool = Field(
        False, description="drop invalid tree rows (reported) instead of stopping"
    )
    tls_trees: Literal["where_no_tally", "prefer", "never"] = Field(
        "where_no_tally", description="when TLS-measured trees feed plot carbon"
    )


class AllometryErrors(_Section):
    """Error sources of the Monte-Carlo plot AGC interval (requirement P6)."""

    dbh_sd_cm: float = Field(0.3, ge=0.0, description="DBH tape error, absolute (cm)")
    dbh_sd_rel: float = Field(0.01, ge=0.0, description="DBH error, relative")
    height_sd_rel: float = Field(0.05, ge=0.0, description="measured-height error, relative")
    residual_sd_log: float = Field(0.25, ge=0.0, description="model residual sd (log scale) "
                                   "where the model table gives none")
    carbon_fraction_sd: float = Field(0.01, ge=0.0, description="carbon-fraction error")
    model_sd_rel: float | None = Field(
        None, ge=0.0, le=1.0, description="biomass models' systematic error, relative, for "
        "every model (0 = off); empty: each model's model_sd_rel from the table, else 0.10")


class AllometryConfig(_Section):
    """Biomass models and plot carbon (P5, P6)."""

    models_file: str | None = Field(None, description="a biomass model table in our schema")
    hd_min_trees: int = Field(10, ge=3, description="trees with heights a species needs for "
                              "its own height–diameter model")
    mc_draws: int = Field(1000, ge=10)
    seed: int = 0
    errors: AllometryErrors = Field(default_factory=AllometryErrors)


class FeaturesConfig(_Section):
    """Remote-sensing features (F1–F8)."""

    sensor: str = "auto"  # sensor id, or "auto" = from the scene file names
    harmonise_to: Literal["oli", "off"] = Field(
        "oli", description="express every sensor's surface reflectance as Landsat 8 OLI's "
        "(TM/ETM+: Roy et al. 2016) before indices, so a mixed archive has no sensor step")
    tm_calibration: Literal["archive", "table"] = Field(
        "archive", description="how Landsat 4/5 TM is harmonised: 'archive' fits a per-band TM → "
        "ETM+ gain on the archive's own TM/ETM+ scene pairs (features.crosscal) and chains the "
        "table's ETM+ → OLI; 'table' (or too few pairs) uses the table's TM row")
    calibration_max_days: int = Field(
        64, ge=1, le=120, description="largest gap in days between the two scenes of a "
        "calibration pair (one year, growing-season months, one sensor or TM and ETM+)")
    product_level: Literal["auto", "sr", "toa"] = "auto"
    growing_season_months: list[int] = Field(default_factory=lambda: [6, 7, 8, 9])
    composite: Literal["median", "mean"] = "median"
    # keep only the growing-season months that have a scene in at least this share of the years,
    # so that every year's composite has the same seasonal make-up (0 = use every month found)
    season_consistency: float = Field(0.5, ge=0.0, le=1.0)
    min_valid_share: float = Field(0.8, ge=0.0, le=1.0)  # warn below this share of clear pixels
    gap_fill_years: int = Field(2, ge=0, le=5)  # fill cloud gaps from the nearest years' composites
    indices: list[str] = Field(
        default_factory=lambda: ["NDVI", "RVI", "DVI", "EVI", "SAVI", "MSAVI", "NDWI", "NDMI",
                                 "NBR", "GNDVI"]
    )
    tasseled_cap: bool = True
    tasseled_cap_set: str | None = None  # None = the sensor's default for the product level
    disturbance_normalisation: Literal["forest", "all"] = "forest"
    glcm_bands: list[str] = Field(default_factory=lambda: ["nir"])
    glcm_window: int = Field(7, ge=3)
    glcm_levels: int = Field(32, ge=2, le=256)
    glcm_directions_deg: list[float] = Field(default_factory=lambda: [0.0, 45.0, 90.0, 135.0])
    glcm_distance_px: int = Field(1, ge=1)
    glcm_convention: Literal["envi", "skimage"] = "envi"
    glcm_value_range: tuple[float, float] = (0.0, 0.6)  # fixed, so years are comparable
    glcm_min_valid_fraction: float = Field(0.5, gt=0.0, le=1.0)  # of a window's pairs
    terrain_window: int = Field(3, ge=3)
    tpi_window: int = Field(9, ge=3)

    @field_validator("glcm_window", "terrain_window", "tpi_window")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError("window sides must be odd (3, 5, 7, …)")
        return value

    @field_validator("growing_season_months")
    @classmethod
    def _months(cls, value: list[int]) -> list[int]:
        if not value or any(m < 1 or m > 12 for m in value):
            raise ValueError("months are 1–12, at least one")
        return value


class ClassifyConfig(_Section):
    """Land cover, leaf habit and species (C1–C4)."""

    forest_min_cover: float = Field(0.20, ge=0.0, le=1.0)
    sparse_min_cover: float = Field(0.10, ge=0.0, le=1.0)
    dominant_share: float = Field(0.65, gt=0.5, le=1.0)
    n_estimators: int = Field(300, ge=10)
    test_fraction: float = Field(0.3, ge=0.05, le=0.5)  # held out for the accuracy report
    leaf_off_features: bool = True  # land cover also sees the leaf-off (March) composite
    rvi_threshold: Literal["samples", "otsu"] | float = "samples"
    evergreen_min_fraction: float = Field(0.5, gt=0.0, lt=1.0)
    type_window: int = Field(3, ge=1)  # forest type from species shares in this window (px)
    species_window: int = Field(3, ge=1)  # species from class probabilities summed in a window
    # land-cover series made temporally consistent by a per-pixel hidden Markov model
    temporal_consistency: bool = True
    prior_adjustment: bool = False  # probabilities re-weighted to the area's class shares (EM)
    # forest's probability weighted so that the series maps as much forest as its own error
    # matrix at the held-out random samples estimates there is (decision 42)
    forest_area_calibration: bool = True
    context_years: int = Field(4, ge=0, le=12)  # running median of ±this many years (0: off)
    context_features: list[str] = Field(default_factory=lambda: [
        "ndvi", "gndvi", "nbr", "ndwi_mcfeeters", "ndmi_gao", "tc_angle_deg", "tc_greenness",
        "tc_wetness", "tc_brightness", "sr_red", "sr_nir", "sr_swir1"])
    min_samples_leaf: int = Field(5, ge=1)  # of the land-cover forests' trees
    temporal_stay_probability: float = Field(0.95, gt=0.5, lt=1.0)  # keep the class a year
    temporal_mixing: float = Field(0.05, ge=0.0, lt=1.0)  # uniform share in each year's probs
    temporal_fill_years: int = Field(3, ge=0, le=25)  # unobserved years filled this far
    # a change of land cover is also free this many years after a reclamation's year: planted
    # trees close their canopy over years, so the change to forest comes after the record
    reclamation_years: int = Field(3, ge=0, le=10)
    seed: int = 0

    _odd_window = field_validator("species_window")(_odd)

    @model_validator(mode="after")
    def _cover_order(self) -> ClassifyConfig:
        if self.sparse_min_cover >= self.forest_min_cover:
            raise ValueError(
                f"sparse_min_cover ({self.sparse_min_cover}) must be below forest_min_cover "
                f"({self.forest_min_cover})"
            )
        return self


class ModelingConfig(_Section):
    """AGC models (M1–M5)."""

    models: list[ModelKind] = Field(default_factory=lambda: list(ModelKind))
    k_folds: int = Field(5, ge=2, le=20)
    inner_folds: int = Field(3, ge=2, le=10)
    min_plots_per_stratum: int = Field(15, ge=3)
    selection_method: Literal["correlation", "pca", "rf_importance", "none"] = "correlation"
    n_features: int | None = Field(10, ge=1)  # kept by correlation / rf_importance selection
    max_collinearity: float = Field(0.9, gt=0.0, le=1.0)
    n_jobs: int = Field(1, ge=1)
    seed: int = 0


class MappingConfig(_Section):
    """Annual AGC maps (M6, M7)."""

    prediction_intervals: bool = False
    interval_level: float = Field(0.90, gt=0.0, lt=1.0)
    # each pixel's annual predictions fitted as a piecewise-linear trajectory per forest span
    temporal_fit: bool = True
    max_segments: int = Field(3, ge=1, le=10)
    segment_penalty: float = Field(1.0, gt=0.0)  # × the BIC-like penalty of a new segment
    # change from the plots' year rescaled by 1/b: "plots" (b from out-of-fold predictions),
    # "none", or a given b in (0, 1]
    change_calibration: Literal["plots", "none"] | float = "plots"
    bias_correction: bool = True  # + each stratum's mean out-of-fold residual (difference est.)
    # the offsets' strata: the map's forest type at the plots (decision 46) or the plots' own
    offset_strata: Literal["map", "plots"] = "map"
    # × each level-1 unit's plot ratio, shrunk toward all plots' (decision 44)
    unit_calibration: bool = True
    unit_min_plots: int = Field(3, ge=3, description="plots a unit needs for its own ratio")
    # forest types whose out-of-fold R² ≤ 0 take the informative types' relative change
    # (decision 45), and b comes from the informative types' plots
    synthetic_change: bool = True
    # with b from one survey year, the maps' change is multiplied by the random-effects pooled
    # scale of the maps' and the spectral features' own change where the two differ at
    # space_for_time_alpha (Cochran's Q; decision 47); off: checked and carried by the totals'
    # intervals only
    space_for_time_pooling: bool = True
    space_for_time_alpha: float = Field(0.05, gt=0.0, lt=0.5)
    # stable forest's change since the plots' year averaged over this window of stable forest
    # of the same forest type and unit (decision 56); 1: each pixel keeps its own change
    change_window_px: int = Field(3, ge=1, le=15)

    _odd_window = field_validator("change_window_px")(_odd)

    @field_validator("change_calibration")
    @classmethod
    def _slope(cls, value: str | float) -> str | float:
        if not isinstance(value, str) and not 0.0 < value <= 1.0:
            raise ValueError("a given attenuation b must lie in (0, 1]")
        return value


class AssessmentConfig(_Section):
    """Assessment (A1–A5)."""

    base_years: list[int] = Field(default_factory=list, description="empty: years before mining")
    alpha: float = Field(0.05, gt=0.0, lt=0.5)
    min_years_trend: int = Field(4, ge=4)
    jenks_classes: int = Field(5, ge=2, le=10)
    gistar_distance_m: float = Field(90.0, gt=0.0)
    gistar_fdr: bool = False  # Benjamini–Hochberg correction of the Gi* bins
    change_pairs: list[tuple[int, int]] = Field(
        default_factory=list, description="empty: first → last year and base end → last year")
    period: tuple[int, int] | None = Field(
        None, description="cumulative-effect period; None: last base year → last year")
    totals_min_plots: int = Field(
        5, ge=3, description="plots a unit needs for its own ratio in the carbon totals; "
        "fewer: the pooled ratio, widened by the between-unit variance")


class ReportConfig(_Section):
    """The report (R1)."""

    lang: Literal["zh", "en"] = "zh"
    formats: list[Literal["docx", "html"]] = Field(
        default_factory=lambda: list[Literal["docx", "html"]](["docx", "html"])
    )


class ComputeConfig(_Section):
    """Where dask runs: ``threads``, ``processes``, ``synchronous`` or a scheduler address."""

    scheduler: str = "threads"
    chunk_px: int = Field(1024, ge=64, le=16384)


class Config(_Section):
    """The whole configuration of one monitoring project."""

    project: ProjectConfig = Field(default_factory=ProjectConfig)
    scope: ScopeConfig = Field(default_factory=ScopeConfig)
    survey: SurveyConfig = Field(default_factory=SurveyConfig)
    allometry: AllometryConfig = Field(default_factory=AllometryConfig)
    features: FeaturesConfig = Field(default_factory=FeaturesConfig)
    classify: ClassifyConfig = Field(default_factory=ClassifyConfig)
    modeling: ModelingConfig = Field(default_factory=ModelingConfig)
    mapping: MappingConfig = Field(default_factory=MappingConfig)
    assessment: AssessmentConfig = Field(default_factory=AssessmentConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    compute: ComputeConfig = Field(default_factory=ComputeConfig)

    @model_validator(mode="after")
    def _cross_checks(self) -> Config:
        p = self.project
        if p.first_year > p.last_year:
            raise ValueError(
                f"project.first_year ({p.first_year}) is after project.last_year ({p.last_year})"
            )
        outside = [y for y in self.assessment.base_years if not p.first_year <= y <= p.last_year]
        if outside:
            raise ValueError(
                f"assessment.base_years {outside} lie outside "
                f"project.first_year–last_year ({p.first_year}–{p.last_year})"
            )
        side = self.survey.plot_side_m
        if side is not None and side < self.scope.pixel_size_m:
            raise ValueError(
                f"survey.plot_side_m ({side:g}) is smaller than one pixel "
                f"(scope.pixel_size_m = {self.scope.pixel_size_m:g})"
            )
        return self

    @property
    def plot_side_m(self) -> float:
        """The plot side: configured, or the pixel size (requirement P1)."""
        return self.survey.plot_side_m or self.scope.pixel_size_m

    def section_hash(self, section: str) -> str:
        """A stable sha256 of one section's values (pipeline steps use it to detect changes)."""
        value = getattr(self, section).model_dump(mode="json")
        return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def _describe(error: ValidationError, source: str) -> str:
    parts = []
    for e in error.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "(top level)"
        if e["type"] == "extra_forbidden":
            parts.append(f"unknown key {loc}")
        elif e["type"] == "missing":
            parts.append(f"missing key {loc}")
        else:
            given = f" (got {e['input']!r})" if not isinstance(e["input"], dict) else ""
            parts.append(f"{loc}: {e['msg'].removeprefix('Value error, ')}{given}")
    return f"{source}: " + "; ".join(parts)


def config_from_dict(data: dict[str, Any], source: str = "configuration") -> Config:
    """Validate a dict (as parsed from TOML) into a :class:`Config`."""
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(
            _describe(error, source),
            fix=f"edit {source}; `minecarbon init` writes a commented template of every key",
        ) from None


def load_config(path: Path) -> Config:
    """Read and validate a ``minecarbon.toml``.

    Raises
    ------
    PathNotFoundError
        If the file does not exist.
    ConfigError
        If it is not valid TOML, has unknown keys, or a value is out of bounds.

    """
    if not path.is_file():
        raise PathNotFoundError(
            f"config file {path} does not exist", fix="run `minecarbon init DIR` to create one"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML ({error})", fix="correct the syntax") from None
    return config_from_dict(data, str(path))


def render_config(overrides: dict[str, dict[str, Any]]) -> str:
    """The commented template with some values replaced, e.g. ``{"project": {"name": "x"}}``.

    Keys commented out in the template are uncommented when overridden. The result is
    validated before it is returned.

    Raises
    ------
    ConfigError
        If a key is not in the template, or the result does not validate.

    """
    pending = {(s, k): v for s, keys in overrides.items() for k, v in keys.items()}
    section, lines = "", []
    for line in config_template().splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and "]" in stripped:
            section = stripped[1 : stripped.index("]")]
        body = stripped.lstrip("# ")
        key = body.split("=", 1)[0].strip() if "=" in body else ""
        if (section, key) in pending:
            literal = json.dumps(pending.pop((section, key)), ensure_ascii=False)
            after = body.split("=", 1)[1]
            comment = after[after.index("#") :] if "#" in after else ""
            line = f"{key} = {literal}".ljust(32) + (f" {comment}" if comment else "")
        lines.append(line.rstrip())
    if pending:
        raise ConfigError(f"no such config keys: {sorted(pending)}", fix="check the key names")
    text = "\n".join(lines) + "\n"
    config_from_dict(tomllib.loads(text), "rendered configuration")
    return text


def config_template() -> str:
    """The commented template ``minecarbon init`` writes (it validates to the defaults)."""
    from importlib.resources import files

    return files("minecarbon").joinpath("config_template.toml").read_text(encoding="utf-8")
