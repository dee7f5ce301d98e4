"""The error model: one base class, subclasses that also inherit the builtin they refine.

Every message names the input (file, column, row, year, config key) and says how to fix it.
The CLI prints ``str(error)`` as one line and exits with :attr:`MinecarbonError.exit_code`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager


class MinecarbonError(Exception):
    """Base of every error minecarbon raises on purpose.

    Parameters
    ----------
    message
        What is wrong and where (the file, key, row or year).
    fix
        How to fix it; appended to the message after " — fix: ".

    """

    exit_code: int = 2

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(message if fix is None else f"{message} — fix: {fix}")


class InputDataError(MinecarbonError, ValueError):
    """An input file or value is malformed or out of range."""


class ConfigError(MinecarbonError, ValueError):
    """The project configuration is missing, malformed or inconsistent."""


class PathNotFoundError(MinecarbonError, FileNotFoundError):
    """A path the user named does not exist."""


class NotAWorkspaceError(MinecarbonError, FileNotFoundError):
    """A folder is not a minecarbon workspace."""


class MissingCRSError(InputDataError):
    """A spatial input carries no coordinate reference system."""


class GeographicCRSError(InputDataError):
    """A spatial input is in a geographic (degree) CRS where a projected metric one is needed."""


class GridMismatchError(InputDataError):
    """A raster is not on the project's analysis grid."""


class NoGroundError(InputDataError):
    """A point cloud without ground returns (a single tree cut out of its plot, a canopy)."""


class UnknownSpeciesError(MinecarbonError, KeyError):
    """A species name cannot be resolved to a species group."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return Exception.__str__(self)


class CatalogError(MinecarbonError, RuntimeError):
    """The monitoring database is inconsistent with the files, or a dataset is unknown."""


class PipelineError(MinecarbonError, RuntimeError):
    """A pipeline is ill-defined (unknown step, cycle) or a step failed."""


class MissingDependencyError(MinecarbonError, ImportError):
    """An optional dependency needed for this operation is not installed."""


# ---------------------------------------------------------------------------------- warnings
# Before Python 3.14, ``warnings.catch_warnings`` is not thread-safe: libraries that use it
# inside dask's worker threads (xarray's NaN reductions do) can leave the process-wide filter
# list ending at their temporary ``ignore`` state, and every later warning — ours, which tell a
# user that a year had no clear pixel or a plot lies outside the grid — is silently dropped.
# ``warning_filters_guard`` remembers the filters a run started with; ``warn`` puts them back
# before warning.
_GUARDED_FILTERS: list[tuple[object, ...]] | None = None

#: Warnings a library gives without cause, ignored inside :func:`warning_filters_guard` (every
#: pipeline run and CLI command), as (message regex, module regex) of the warning's origin.
#: ``rasterio.features.rasterize`` burns each block through an in-memory dataset that, now and
#: then when dask threads rasterise at once, reads its geotransform before it is set and warns
#: "Dataset has no geotransform" (rasterio 1.4; the same in odc-geo issue 131 and rio-tiler
#: issue 627); the block is burnt with the transform given. Only warnings attributed to
#: ``rasterio.features`` are ignored: a user's raster without a geotransform is opened through
#: ``rasterio.open`` and still warns (and the import checks refuse it).
SPURIOUS_WARNINGS: tuple[tuple[str, str], ...] = (
    ("Dataset has no geotransform", r"rasterio\.features\Z"),
)


@contextmanager
def warning_filters_guard() -> Iterator[None]:
    """Keep the warning filters of this moment for :func:`warn` (nested guards keep the outer).

    The outermost guard also ignores :data:`SPURIOUS_WARNINGS` until it exits, when the filters
    are those it found.
    """
    global _GUARDED_FILTERS
    outer = _GUARDED_FILTERS
    before = list(warnings.filters) if outer is None else []
    if outer is None:
        for message, module in SPURIOUS_WARNINGS:
            warnings.filterwarnings("ignore", message=message, module=module)
        _GUARDED_FILTERS = list(warnings.filters)
    try:
        yield
    finally:
        if outer is None:
            warnings.filters[:] = before  # type: ignore[index]
            warnings._filters_mutated()  # type: ignore[attr-defined]
        _GUARDED_FILTERS = outer


def warn(message: str, category: type[Warning] = UserWarning, stacklevel: int = 1) -> None:
    """``warnings.warn`` that survives filters left behind by worker threads (see above).

    Inside :func:`warning_filters_guard` (every pipeline run) the filters are first restored to
    those the run started with; outside it this is plain ``warnings.warn``.
    """
    if _GUARDED_FILTERS is not None and warnings.filters != _GUARDED_FILTERS:
        warnings.filters[:] = _GUARDED_FILTERS  # type: ignore[index]
        warnings._filters_mutated()  # type: ignore[attr-defined]
    warnings.warn(message, category, stacklevel=stacklevel + 1)
