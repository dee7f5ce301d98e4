"""Tree biomass equations (单木生物量模型) by species group, evaluated on numpy arrays.

Units: D is the diameter at breast height in cm, H the tree height in m, biomass in kg of dry
mass. A model is the sum of one or more component equations (``total``, or ``stem``, ``bark``,
``branch``, ``leaf``), each in one of these forms (spelt exactly so in a table's ``form`` column):

=========================  ===================================  =========
form                       equation                             needs H
=========================  ===================================  =========
``a*D^b``                  W = a · D^b                          no
``exp(a+b*ln(D))``         W = exp(a + b · ln D)                no
``10^(a+b*log10(D))``      W = 10^(a + b · log10 D)             no
``a*(D^2*H)^b``            W = a · (D² · H)^b                   yes
``exp(a)*(D^2*H)^b``       W = e^a · (D² · H)^b                 yes
``a*D^b*H^c``              W = a · D^b · H^c                    yes
``a+b*D^2``                W = a + b · D²                       no
=========================  ===================================  =========

No log-bias correction factor is applied: a table whose source gives one must fold it into
``a``. Above-ground carbon is AGB × the model's carbon fraction.

Models come from a :class:`ModelTable`: :meth:`ModelTable.default` is the package's default table
(published coefficients, *not* GB/T 43648—2024; see :mod:`minecarbon.standard.biomass_models`),
:meth:`ModelTable.from_rows` any table in the same schema, e.g. a user's transcription of the
standard read by :mod:`minecarbon.io`. Only a table whose name cites GB/T 43648 (and does not
say "not GB/T 43648") counts as official.

A table is keyed by model keys: the seven species groups and the fallback keys ``conifer``,
``broadleaf`` and ``generic`` (:func:`minecarbon.standard.species.model_keys`).
:meth:`ModelTable.resolve` maps a tree-list name through the fallback chain of
:func:`minecarbon.standard.species.resolve_model_key` to a model and returns a
:class:`ModelChoice`: the model, how the name was resolved, which table supplied the model and
whether that table is official — everything a tree's record needs to report the fallback.
A user table may cover only some keys: ``ModelTable.from_rows(rows, name).with_fallback(
ModelTable.default())`` takes each missing key from the default table, and every model keeps
the name of the table it came from.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

from minecarbon.errors import InputDataError
from minecarbon.standard.biomass_models import (
    FORMS,
    OFFICIAL_STANDARD,
    default_model_rows,
    validate_model_rows,
)
from minecarbon.standard.species import SpeciesResolution, model_key_label, resolve_model_key

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

_Equation = Callable[[float, float, float, FloatArray, FloatArray], FloatArray]

#: The forms of :data:`minecarbon.standard.biomass_models.FORMS`, as functions of (a, b, c, D, H).
EQUATIONS: dict[str, _Equation] = {
    "a*D^b": lambda a, b, c, d, h: a * d**b,
    "exp(a+b*ln(D))": lambda a, b, c, d, h: np.exp(a + b * np.log(d)),
    "10^(a+b*log10(D))": lambda a, b, c, d, h: 10.0 ** (a + b * np.log10(d)),
    "a*(D^2*H)^b": lambda a, b, c, d, h: a * (d**2 * h) ** b,
    "exp(a)*(D^2*H)^b": lambda a, b, c, d, h: np.exp(a) * (d**2 * h) ** b,
    "a*D^b*H^c": lambda a, b, c, d, h: a * d**b * h**c,
    "a+b*D^2": lambda a, b, c, d, h: a + b * d**2,
}

_NOT_OFFICIAL = re.compile(r"\bnot\s+" + re.escape(OFFICIAL_STANDARD))


def is_official(table_name: str) -> bool:
    """True only if a table's name cites GB/T 43648 and does not say it is *not* that standard."""
    name = unicodedata.normalize("NFKC", table_name)
    return OFFICIAL_STANDARD in name and _NOT_OFFICIAL.search(name) is None


def _positive(values: ArrayLike, name: str) -> FloatArray:
    """``values`` as a float array; NaN (missing) passes, values ≤ 0 or infinite raise."""
    array = np.asarray(values, dtype=np.float64)
    bad = np.flatnonzero(~np.isnan(array) & ~((array > 0) & np.isfinite(array)))
    if bad.size:
        first = int(bad[0])
        raise InputDataError(
            f"{name}: {bad.size} value(s) are not positive and finite (first at index {first}: "
            f"{array.reshape(-1)[first]!r})",
            fix=f"correct or remove those trees; {name} must be a finite number > 0",
        )
    return array


@dataclass(frozen=True)
class ComponentEquation:
    """One component row of a model: ``form`` with coefficients ``a``, ``b`` (and ``c``)."""

    component: str
    form: str
    a: float
    b: float
    c: float = 0.0

    @property
    def needs_height(self) -> bool:
        """Whether the form uses tree height."""
        return FORMS[self.form].needs_height

    def biomass_kg(self, dbh_cm: FloatArray, height_m: FloatArray) -> FloatArray:
        """Dry biomass of this component in kg (inputs already checked and broadcast)."""
        with np.errstate(invalid="ignore"):
            return EQUATIONS[self.form](self.a, self.b, self.c, dbh_cm, height_m)


@dataclass(frozen=True)
class BiomassModel:
    """A tree AGB model for one species group: the sum of its component equations."""

    model_id: str
    species_key: str
    components: tuple[ComponentEquation, ...]
    dbh_range_cm: tuple[float, float]
    height_range_m: tuple[float, float]
    carbon_fraction: float
    carbon_fraction_source: str
    source: str
    table_name: str
    region: str = ""
    confidence: str = ""
    residual_sd_log: float | None = None
    model_sd_rel: float | None = None

    @property
    def needs_height(self) -> bool:
        """Whether any component uses tree height."""
        return any(c.needs_height for c in self.components)

    @property
    def is_official(self) -> bool:
        """True only if the model's table cites GB/T 43648 (see :func:`is_official`)."""
        return is_official(self.table_name)

    def _inputs(
        self, dbh_cm: ArrayLike, height_m: ArrayLike | None
    ) -> tuple[FloatArray, FloatArray]:
        dbh = _positive(dbh_cm, "dbh_cm")
        if height_m is None:
            if self.needs_height:
                raise InputDataError(
                    f"biomass model {self.model_id!r} ({self.species_key}) needs tree height, "
                    "but no height_m was given",
                    fix="pass height_m (fill missing heights from a height–diameter model first)",
                )
            return dbh, np.full_like(dbh, np.nan)
        height = _positive(height_m, "height_m")
        try:
            dbh_b, height_b = np.broadcast_arrays(dbh, height)
        except ValueError:
            raise InputDataError(
                f"dbh_cm (shape {dbh.shape}) and height_m (shape {height.shape}) do not match",
                fix="pass one height per tree",
            ) from None
        return dbh_b, height_b

    def component_agb_kg(
        self, dbh_cm: ArrayLike, height_m: ArrayLike | None = None
    ) -> dict[str, FloatArray]:
        """Dry biomass per component in kg, keyed by component name."""
        dbh, height = self._inputs(dbh_cm, height_m)
        return {c.component: c.biomass_kg(dbh, height) for c in self.components}

    def agb_kg(self, dbh_cm: ArrayLike, height_m: ArrayLike | None = None) -> FloatArray:
        """Above-ground dry biomass in kg per tree (NaN where D or a needed H is NaN).

        Raises
        ------
        InputDataError
            If the model needs height and ``height_m`` is None, or a D or H is ≤ 0.

        """
        dbh, height = self._inputs(dbh_cm, height_m)
        total = np.zeros_like(dbh)
        for component in self.components:
            total = total + component.biomass_kg(dbh, height)
        return total

    def agc_kg(self, dbh_cm: ArrayLike, height_m: ArrayLike | None = None) -> FloatArray:
        """Above-ground carbon in kg per tree: AGB × the model's carbon fraction."""
        return self.agb_kg(dbh_cm, height_m) * self.carbon_fraction

    def in_range(self, dbh_cm: ArrayLike, height_m: ArrayLike | None = None) -> BoolArray:
        """True where a tree lies inside the model's calibration range.

        D is always checked; H only when the model uses height and ``height_m`` is given.
        NaN counts as outside.
        """
        dbh = np.asarray(dbh_cm, dtype=np.float64)
        lo, hi = self.dbh_range_cm
        inside = (dbh >= lo) & (dbh <= hi)
        if height_m is not None and self.needs_height:
            height = np.asarray(height_m, dtype=np.float64)
            h_lo, h_hi = self.height_range_m
            inside = inside & (height >= h_lo) & (height <= h_hi)
        return np.asarray(inside, dtype=np.bool_)


def _model_from_rows(rows: Sequence[Mapping[str, str | None]]) -> BiomassModel:
    """One model from its (already validated) component rows."""

    def text(row: Mapping[str, str | None], column: str) -> str:
        return (row.get(column) or "").strip()

    first = rows[0]
    components = tuple(
        ComponentEquation(
            component=text(row, "component"),
            form=text(row, "form"),
            a=float(text(row, "a")),
            b=float(text(row, "b")),
            c=float(text(row, "c")) if text(row, "c") else 0.0,
        )
        for row in rows
    )
    return BiomassModel(
        model_id=text(first, "model_id"),
        species_key=text(first, "species_key"),
        components=components,
        dbh_range_cm=(float(text(first, "dbh_min_cm")), float(text(first, "dbh_max_cm"))),
        height_range_m=(float(text(first, "height_min_m")), float(text(first, "height_max_m"))),
        carbon_fraction=float(text(first, "carbon_fraction")),
        carbon_fraction_source=text(first, "carbon_fraction_source"),
        source=text(first, "source"),
        table_name=text(first, "table_name"),
        region=text(first, "region"),
        confidence=text(first, "confidence"),
        residual_sd_log=(
            float(text(first, "residual_sd_log")) if text(first, "residual_sd_log") else None
        ),
        model_sd_rel=(
            float(text(first, "model_sd_rel")) if text(first, "model_sd_rel") else None
        ),
    )


@dataclass(frozen=True)
class ModelChoice:
    """The model a tree-list name resolved to, and how: what a tree's record should carry.

    ``table_name`` is the name of the table that supplied ``model`` (with a fallback table,
    not necessarily the table asked); ``official`` is True only if that name cites GB/T 43648.
    """

    model: BiomassModel
    resolution: SpeciesResolution
    table_name: str
    official: bool

    @property
    def note(self) -> str:
        """The resolution's sentence, with the model and the table that supplied it."""
        return (
            f"{self.resolution.note}; model {self.model.model_id!r} from table {self.table_name!r}"
        )


@dataclass(frozen=True)
class ModelTable:
    """A biomass model table: at most one model per model key, with the table's name.

    ``models`` may include models taken from a fallback table (:meth:`with_fallback`); each model
    keeps the name of the table it came from in :attr:`BiomassModel.table_name`.
    """

    name: str
    source_name: str
    models: tuple[BiomassModel, ...]

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, str | None]], source_name: str) -> ModelTable:
        """Build a table from rows in the schema of :mod:`minecarbon.standard.biomass_models`.

        ``source_name`` names the table in error messages (e.g. its file name).

        Raises
        ------
        InputDataError
            If a row is invalid (see :func:`~minecarbon.standard.biomass_models.
            validate_model_rows`) or two models are given for one model key.

        """
        validate_model_rows(rows, source_name)
        grouped: dict[str, list[Mapping[str, str | None]]] = {}
        for row in rows:
            grouped.setdefault((row.get("model_id") or "").strip(), []).append(row)
        models = tuple(_model_from_rows(group) for group in grouped.values())
        seen: dict[str, str] = {}
        for model in models:
            if model.species_key in seen:
                raise InputDataError(
                    f"{source_name}: species group {model.species_key!r} has two models, "
                    f"{seen[model.species_key]!r} and {model.model_id!r}",
                    fix="keep one model per species group in a table",
                )
            seen[model.species_key] = model.model_id
        return cls(name=models[0].table_name, source_name=source_name, models=models)

    @classmethod
    def default(cls) -> ModelTable:
        """The package's default table (published coefficients; not GB/T 43648—2024)."""
        return _default_table()

    def with_fallback(self, fallback: ModelTable) -> ModelTable:
        """A copy of the table, completed with ``fallback``'s models for the keys it lacks.

        The result keeps this table's ``name`` and ``source_name``; every model keeps the name
        of the table it came from, so :meth:`resolve` reports which table supplied it.
        """
        own = set(self.species_keys)
        extra = tuple(m for m in fallback.models if m.species_key not in own)
        return ModelTable(name=self.name, source_name=self.source_name, models=self.models + extra)

    @property
    def is_official(self) -> bool:
        """True only if the table's name cites GB/T 43648 (and does not say it is not it).

        With a fallback (:meth:`with_fallback`), *every* model must come from such a table: a
        table completed with the default models is not official as a whole, though the trees
        whose models came from the official part are (:attr:`ModelChoice.official`).
        """
        return is_official(self.name) and all(m.is_official for m in self.models)

    @property
    def species_keys(self) -> tuple[str, ...]:
        """The model keys (species groups and fallback keys) this table has a model for."""
        return tuple(m.species_key for m in self.models)

    @property
    def table_names(self) -> tuple[str, ...]:
        """The names of the tables its models come from, this table's first."""
        names = [self.name]
        for model in self.models:
            if model.table_name not in names:
                names.append(model.table_name)
        return tuple(names)

    def model_for(self, species_key: str) -> BiomassModel:
        """The model for a model key: a species group or ``conifer``, ``broadleaf``, ``generic``.

        Raises
        ------
        UnknownSpeciesError
            If ``species_key`` is not a model key.
        InputDataError
            If the table has no model for that key.

        """
        label = model_key_label(species_key)
        for model in self.models:
            if model.species_key == species_key:
                return model
        raise InputDataError(
            f"biomass model table {self.name!r} ({self.source_name}) has no model for "
            f"{label} ({species_key})",
            fix=(
                "add rows for it to the table, or complete the table with the default one "
                "(ModelTable.with_fallback / the default table)"
            ),
        )

    def resolve(self, name: str) -> ModelChoice:
        """The model for a tree-list name, through the species → genus → group → generic chain.

        See :func:`minecarbon.standard.species.resolve_model_key`; the returned
        :class:`ModelChoice` says which step answered and which table supplied the model.

        Raises
        ------
        InputDataError
            If the name is empty, or this table has no model for the key the name resolved to
            (complete it with :meth:`with_fallback`).

        """
        resolution = resolve_model_key(name)
        model = self.model_for(resolution.model_key)
        return ModelChoice(
            model=model,
            resolution=resolution,
            table_name=model.table_name,
            official=model.is_official,
        )


@cache
def _default_table() -> ModelTable:
    return ModelTable.from_rows(default_model_rows(), "minecarbon/standard/data/biomass_models.csv")
