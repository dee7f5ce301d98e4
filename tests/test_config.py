"""The project configuration: defaults, template, loading errors, bounds and cross-checks."""

from __future__ import annotations

import tomllib
import warnings
from pathlib import Path
from typing import Any

import pytest

from minecarbon.config import Config, config_from_dict, config_template, load_config
from minecarbon.errors import ConfigError, MinecarbonError, PathNotFoundError

SECTIONS = (
    "project",
    "scope",
    "survey",
    "allometry",
    "features",
    "classify",
    "modeling",
    "mapping",
    "assessment",
    "report",
    "compute",
)


def _write(tmp_path: Path, text: str, name: str = "minecarbon.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _config_error(data: dict[str, Any], source: str = "cfg.toml") -> str:
    with pytest.raises(ConfigError) as info:
        config_from_dict(data, source)
    return str(info.value)


# --- error classes -----------------------------------------------------------------------------


def test_error_classes_refine_builtins() -> None:
    assert issubclass(ConfigError, ValueError)
    assert issubclass(ConfigError, MinecarbonError)
    assert issubclass(PathNotFoundError, FileNotFoundError)
    assert issubclass(PathNotFoundError, MinecarbonError)


# --- defaults and template ---------------------------------------------------------------------


def test_defaults_are_valid() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfg = Config()
        again = Config.model_validate(cfg.model_dump())
    assert again == cfg
    assert set(cfg.model_dump()) == set(SECTIONS)
    # values the requirements fix (S1, P1)
    assert cfg.scope.buffer_m == 500.0
    assert cfg.survey.min_plots_per_unit == 3
    assert cfg.project.first_year <= cfg.project.last_year
    assert cfg.classify.sparse_min_cover < cfg.classify.forest_min_cover


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, ""))
    assert cfg.model_dump() == Config().model_dump()


def test_template_validates_to_the_defaults() -> None:
    data = tomllib.loads(config_template())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfg = config_from_dict(data, "template")
    assert cfg.model_dump() == Config().model_dump()


def test_template_has_every_section() -> None:
    data = tomllib.loads(config_template())
    assert set(data) == set(SECTIONS)


def test_template_loads_from_file(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, config_template()))
    assert cfg.model_dump(mode="json") == Config().model_dump(mode="json")


def test_load_partial_file(tmp_path: Path) -> None:
    path = _write(tmp_path, '[project]\nname = "Pingshuo"\nfirst_year = 2005\n')
    cfg = load_config(path)
    assert cfg.project.name == "Pingshuo"
    assert cfg.project.first_year == 2005
    assert cfg.scope == Config().scope


# --- loading errors ----------------------------------------------------------------------------


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "[scope]\nbufer_m = 300\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    assert "unknown key scope.bufer_m" in message
    assert "fix:" in message


def test_unknown_section(tmp_path: Path) -> None:
    path = _write(tmp_path, "[scoop]\nbuffer_m = 300\n")
    with pytest.raises(ConfigError, match=r"unknown key scoop"):
        load_config(path)


def test_unknown_top_level_key() -> None:
    assert "unknown key colour" in _config_error({"colour": "red"})


def test_malformed_toml_names_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "[scope\nbuffer_m = = 3\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert "TOML" in str(info.value)


def test_non_utf8_file_is_config_error(tmp_path: Path) -> None:
    path = tmp_path / "minecarbon.toml"
    path.write_bytes('[project]\nname = "煤矿"\n'.encode("gbk"))
    with pytest.raises(ConfigError, match=str(path).replace("\\", "\\\\")):
        load_config(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nothing.toml"
    with pytest.raises(PathNotFoundError) as info:
        load_config(path)
    assert str(path) in str(info.value)
    with pytest.raises(FileNotFoundError):
        load_config(path)


def test_wrong_type_names_key() -> None:
    message = _config_error({"scope": {"pixel_size_m": "thirty"}})
    assert "scope.pixel_size_m" in message
    assert "thirty" in message


# --- bounds ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"survey": {"min_plots_per_unit": 2}}, "survey.min_plots_per_unit"),
        ({"modeling": {"k_folds": 1}}, "modeling.k_folds"),
        ({"features": {"glcm_window": 8}}, "features.glcm_window"),
        ({"features": {"glcm_window": 1}}, "features.glcm_window"),
        ({"scope": {"pixel_size_m": 0}}, "scope.pixel_size_m"),
        ({"scope": {"buffer_m": -10}}, "scope.buffer_m"),
        ({"project": {"first_year": 1900}}, "project.first_year"),
        ({"report": {"lang": "fr"}}, "report.lang"),
        ({"modeling": {"models": ["lasso"]}}, "modeling.models"),
    ],
)
def test_out_of_bounds_names_key(data: dict[str, Any], key: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a negative buffer may also be warned about
        message = _config_error(data, "my.toml")
    assert key in message
    assert message.startswith("my.toml")


def test_glcm_window_even_message_says_odd() -> None:
    assert "odd" in _config_error({"features": {"glcm_window": 8}})


def test_odd_glcm_window_accepted() -> None:
    assert config_from_dict({"features": {"glcm_window": 5}}).features.glcm_window == 5


def test_several_errors_reported_together() -> None:
    message = _config_error({"survey": {"min_plots_per_unit": 2}, "modeling": {"k_folds": 1}})
    assert "survey.min_plots_per_unit" in message
    assert "modeling.k_folds" in message


# --- buffer warning (S1) -----------------------------------------------------------------------


@pytest.mark.parametrize("buffer_m", [50.0, 800.0])
def test_buffer_outside_guide_warns_but_loads(tmp_path: Path, buffer_m: float) -> None:
    path = _write(tmp_path, f"[scope]\nbuffer_m = {buffer_m}\n")
    with pytest.warns(UserWarning, match="100–500"):
        cfg = load_config(path)
    assert cfg.scope.buffer_m == buffer_m


@pytest.mark.parametrize("buffer_m", [100.0, 300.0, 500.0])
def test_buffer_inside_guide_does_not_warn(tmp_path: Path, buffer_m: float) -> None:
    path = _write(tmp_path, f"[scope]\nbuffer_m = {buffer_m}\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfg = load_config(path)
    assert cfg.scope.buffer_m == buffer_m


# --- cross-field checks ------------------------------------------------------------------------


def test_first_year_after_last_year() -> None:
    message = _config_error({"project": {"first_year": 2020, "last_year": 2010}})
    assert "first_year" in message and "last_year" in message


def test_equal_years_allowed() -> None:
    cfg = config_from_dict({"project": {"first_year": 2010, "last_year": 2010}})
    assert cfg.project.first_year == cfg.project.last_year == 2010


@pytest.mark.parametrize("years", [[1999], [2025], [2005, 2030]])
def test_base_years_outside_the_years(years: list[int]) -> None:
    data = {"project": {"first_year": 2000, "last_year": 2024}, "assessment": {"base_years": years}}
    message = _config_error(data)
    assert "base_years" in message
    assert "first_year" in message


def test_base_years_inside_accepted() -> None:
    data = {
        "project": {"first_year": 2000, "last_year": 2024},
        "assessment": {"base_years": [2000, 2024]},
    }
    assert config_from_dict(data).assessment.base_years == [2000, 2024]


def test_plot_side_smaller_than_pixel() -> None:
    message = _config_error({"scope": {"pixel_size_m": 30}, "survey": {"plot_side_m": 20}})
    assert "plot_side_m" in message and "pixel_size_m" in message


def test_plot_side_equal_or_larger_than_pixel_accepted() -> None:
    cfg = config_from_dict({"scope": {"pixel_size_m": 30}, "survey": {"plot_side_m": 30}})
    assert cfg.plot_side_m == 30
    cfg = config_from_dict({"scope": {"pixel_size_m": 10}, "survey": {"plot_side_m": 20}})
    assert cfg.plot_side_m == 20


@pytest.mark.parametrize(("sparse", "forest"), [(0.2, 0.2), (0.3, 0.2)])
def test_sparse_cover_not_below_forest_cover(sparse: float, forest: float) -> None:
    data = {"classify": {"sparse_min_cover": sparse, "forest_min_cover": forest}}
    message = _config_error(data)
    assert "sparse_min_cover" in message and "forest_min_cover" in message


# --- CRS ---------------------------------------------------------------------------------------


def test_geographic_crs_refused() -> None:
    message = _config_error({"project": {"crs": "EPSG:4326"}})
    assert "project" in message and "crs" in message
    assert "projected CRS" in message


def test_foot_based_crs_refused() -> None:
    message = _config_error({"project": {"crs": "EPSG:2227"}})
    assert "crs" in message


def test_projected_crs_accepted() -> None:
    assert config_from_dict({"project": {"crs": "EPSG:32649"}}).project.crs == "EPSG:32649"


def test_unparseable_crs_is_config_error() -> None:
    # a typo in the CRS must come back as a ConfigError naming the key, not a pyproj error
    message = _config_error({"project": {"crs": "EPSG:45466666"}})
    assert "crs" in message


# --- derived values ----------------------------------------------------------------------------


def test_plot_side_defaults_to_pixel_size() -> None:
    assert Config().plot_side_m == Config().scope.pixel_size_m
    cfg = config_from_dict({"scope": {"pixel_size_m": 10}})
    assert cfg.survey.plot_side_m is None
    assert cfg.plot_side_m == 10


def test_section_hash_tracks_its_own_section() -> None:
    base = Config()
    changed_modeling = config_from_dict({"modeling": {"k_folds": 10}})
    changed_scope = config_from_dict({"scope": {"pixel_size_m": 10}})

    assert base.section_hash("modeling") == Config().section_hash("modeling")
    assert changed_modeling.section_hash("modeling") != base.section_hash("modeling")
    assert changed_modeling.section_hash("scope") == base.section_hash("scope")
    assert changed_scope.section_hash("scope") != base.section_hash("scope")
    assert changed_scope.section_hash("modeling") == base.section_hash("modeling")
    # a sha256 hex digest
    digest = base.section_hash("scope")
    assert len(digest) == 64
    int(digest, 16)


def test_section_hash_differs_between_sections() -> None:
    cfg = Config()
    hashes = {cfg.section_hash(s) for s in SECTIONS}
    assert len(hashes) == len(SECTIONS)
