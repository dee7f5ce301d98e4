"""The error model: one base class, builtin parents, messages with their fix."""

from __future__ import annotations

import inspect
import pickle

import pytest

import minecarbon.errors as errors_module
from minecarbon.errors import (
    CatalogError,
    ConfigError,
    GeographicCRSError,
    GridMismatchError,
    InputDataError,
    MinecarbonError,
    MissingCRSError,
    MissingDependencyError,
    NotAWorkspaceError,
    PathNotFoundError,
    PipelineError,
    UnknownSpeciesError,
)


def _error_classes() -> list[type[BaseException]]:
    return [
        obj
        for _, obj in inspect.getmembers(errors_module, inspect.isclass)
        if issubclass(obj, BaseException) and obj.__module__ == errors_module.__name__
    ]


ALL_ERRORS = _error_classes()

# The builtin each class refines, as documented in DESIGN.md and the class docstrings.
BUILTIN_PARENTS: dict[type[MinecarbonError], type[Exception]] = {
    InputDataError: ValueError,
    ConfigError: ValueError,
    MissingCRSError: ValueError,
    GeographicCRSError: ValueError,
    GridMismatchError: ValueError,
    UnknownSpeciesError: KeyError,
    MissingDependencyError: ImportError,
    PathNotFoundError: FileNotFoundError,
    NotAWorkspaceError: FileNotFoundError,
    CatalogError: RuntimeError,
    PipelineError: RuntimeError,
}


def test_module_defines_error_classes() -> None:
    assert MinecarbonError in ALL_ERRORS
    assert set(BUILTIN_PARENTS) <= set(ALL_ERRORS)


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_every_error_subclasses_minecarbon_error(cls: type[BaseException]) -> None:
    assert issubclass(cls, MinecarbonError)


@pytest.mark.parametrize(
    ("cls", "builtin"), list(BUILTIN_PARENTS.items()), ids=lambda c: getattr(c, "__name__", c)
)
def test_builtin_parent(cls: type[MinecarbonError], builtin: type[Exception]) -> None:
    assert issubclass(cls, builtin)
    # callers that catch the builtin catch ours
    with pytest.raises(builtin):
        raise cls("boom")


def test_grid_and_crs_errors_are_input_data_errors() -> None:
    for cls in (MissingCRSError, GeographicCRSError, GridMismatchError):
        assert issubclass(cls, InputDataError)


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_fix_is_appended(cls: type[MinecarbonError]) -> None:
    error = cls("raw/plots.csv row 3: DBH is negative", fix="correct the value")
    assert str(error) == "raw/plots.csv row 3: DBH is negative — fix: correct the value"
    assert error.message == "raw/plots.csv row 3: DBH is negative"
    assert error.fix == "correct the value"


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_without_fix_message_is_unchanged(cls: type[MinecarbonError]) -> None:
    error = cls("something is wrong in x.tif")
    assert str(error) == "something is wrong in x.tif"
    assert "fix" not in str(error)
    assert error.fix is None


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_exit_code_is_2(cls: type[MinecarbonError]) -> None:
    assert cls.exit_code == 2
    assert cls("x").exit_code == 2


def test_unknown_species_str_is_not_quoted() -> None:
    error = UnknownSpeciesError("species 'Pinus foo' is unknown", fix="add it to the table")
    # a plain KeyError would repr() the message and wrap it in quotes
    assert str(KeyError("abc")) == "'abc'"
    assert str(error) == "species 'Pinus foo' is unknown — fix: add it to the table"
    with pytest.raises(KeyError):
        raise error


def test_path_not_found_str_is_the_message() -> None:
    error = PathNotFoundError("config file a.toml does not exist", fix="run init")
    assert str(error) == "config file a.toml does not exist — fix: run init"
    assert isinstance(error, OSError)


def test_missing_dependency_is_import_error() -> None:
    with pytest.raises(ImportError, match="pdal is not installed — fix: pip install pdal"):
        raise MissingDependencyError("pdal is not installed", fix="pip install pdal")


def test_fix_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        MinecarbonError("message", "fix")  # type: ignore[misc]


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_pickle_keeps_message(cls: type[MinecarbonError]) -> None:
    # errors cross process boundaries (dask workers); the text must survive
    error = cls("bad value in y.csv", fix="edit it")
    restored = pickle.loads(pickle.dumps(error))
    assert type(restored) is cls
    assert str(restored) == str(error)


def test_warn_survives_filters_left_behind_by_worker_threads() -> None:
    """A racing ``catch_warnings`` in a dask thread can leave ``ignore`` on top of the filters."""
    import warnings

    from minecarbon.errors import warn, warning_filters_guard

    with pytest.warns(UserWarning, match="year 2021: no clear pixel"), warning_filters_guard():
        warnings.simplefilter("ignore")  # what a racing thread leaves behind
        warn("year 2021: no clear pixel")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore")  # outside a guard the user's filters win
        warn("dropped")
    assert caught == []


def test_guard_ignores_rasterios_spurious_geotransform_warning_only_from_rasterize() -> None:
    """rasterize's in-memory block warns "no geotransform" at random under dask threads."""
    import warnings

    from rasterio.errors import NotGeoreferencedWarning

    from minecarbon.errors import warning_filters_guard

    text = "Dataset has no geotransform, gcps, or rpcs. The identity matrix will be returned."

    def emit(module: str) -> None:
        warnings.warn_explicit(text, NotGeoreferencedWarning, f"{module.replace('.', '/')}.py",
                               1, module=module, registry={})

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        with warning_filters_guard():
            emit("rasterio.features")  # the spurious one: rasterize's MEM dataset
            emit("rasterio")  # a user's file opened without a geotransform: still said
            emit("rasterio.features_extra")  # the module pattern is exact
            with warning_filters_guard():  # nested: the outer guard's filters hold
                emit("rasterio.features")
        assert warnings.filters == before  # the guard leaves the filters as it found them
        emit("rasterio.features")  # outside a run a caller's own filters decide
    assert [w.filename for w in caught] == ["rasterio.py", "rasterio/features_extra.py",
                                            "rasterio/features.py"]
    assert all(w.category is NotGeoreferencedWarning for w in caught)
