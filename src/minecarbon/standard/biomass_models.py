"""Tree biomass model tables (单木生物量模型表): the schema, the default table and its checks.

A table has one row per (``model_id``, ``component``); a model's above-ground biomass (AGB) is
the sum of its component rows. Columns:

==========================  ======================================================================
``model_id``                identifier of the model (shared by its component rows)
``species_key``             a model key (:func:`~minecarbon.standard.species.model_keys`): a
                            species group (``pinus_tabuliformis``…) or a fallback model
                            (``conifer``, ``broadleaf``, ``generic``)
``region``                  where the model was calibrated (free text)
``form``                    one of :data:`FORMS` (D in cm, H in m, biomass in kg)
``component``               ``total``, or the components ``stem``, ``bark``, ``branch``, ``leaf``
``units``                   the units of the form, :data:`UNITS` (``D cm; H m; AGB kg``); a table
                            in other units is refused rather than silently mis-scaled (convert the
                            coefficients); may be empty or left out
``a``, ``b``, ``c``         coefficients; ``c`` only for forms that use it, empty otherwise
``residual_sd_log``         optional: the model's residual standard deviation of ln(AGB)
                            (natural log; for a component model, of the summed AGB) where the
                            source gives one, for Monte-Carlo uncertainty; 0 < value ≤ 2; empty
                            otherwise, and the column may be left out of a table altogether
``model_sd_rel``            optional: the relative standard deviation of the model's *systematic*
                            error for the stands it is applied to (its parameters, and its
                            transfer from the stands it was fitted on), shared by all its trees;
                            0 ≤ value ≤ 1; empty where unknown (0.10 is then assumed,
                            :data:`minecarbon.allometry.error_model.DEFAULT_MODEL_SD_REL`); the
                            column may be left out of a table altogether
``dbh_min_cm``…             calibration range: ``dbh_min_cm``, ``dbh_max_cm``, ``height_min_m``,
                            ``height_max_m``
``carbon_fraction``         carbon fraction of dry biomass, 0.3–0.6
``carbon_fraction_source``  where the carbon fraction comes from
``source``                  where the coefficients come from
``confidence``              how far the coefficients were checked (free text, level first)
``table_name``              the table's name, the same on every row
==========================  ======================================================================

The **default table** (``data/biomass_models.csv``) holds one model per species group, built only
from published coefficients (see each row's ``source``). It is *not* GB/T 43648—2024, whose
coefficient tables are not openly available: its ``table_name`` says so, and nothing computed
with it may be labelled as that standard's. Where a source states no calibration range, the
default table uses a generous placeholder of DBH 2–60 cm and H 1.3–40 m (:data:`DEFAULT_DBH_CM`,
:data:`DEFAULT_HEIGHT_M`) and says so in ``source``. No source at hand gives a residual standard
deviation for these models, so ``residual_sd_log`` is empty on every default row.

**Systematic error of the default models** (``model_sd_rel``). No source gives one either: the
values are this package's judgement from each model's provenance, to be replaced by a user who
has validated a model on local sample trees. A species' own model predicts the mean of the
population it was fitted on to within a mean prediction error of about 4–5 % at 95 %
(曾伟生 & 唐守正 2011, 林业科学 47(11):106–113; Zeng et al. 2018, J. For. Res. 29(5)); applied
elsewhere, the choice among plausible equations moves live-tree carbon by 20–40 % (Melson et al.
2011, Carbon Balance Manag. 6:2), which makes model transfer, not parameter error, the main part:

* 0.10 — a two-variable model of the same species from North China or the Loess Plateau
  (油松, 华北落叶松, 白桦);
* 0.15 — the same species from farther away or DBH-only (蒙古栎, Heilongjiang), or coefficients
  printed with one significant digit (小叶杨);
* 0.20 — a DBH-only model fitted on eight trees in Jiangsu (侧柏), or a generic European model
  (刺槐, Forrester et al. 2017);
* 0.25 — a representative species standing in for a whole group (``conifer``, ``broadleaf``,
  ``generic``).

**Fallback models.** The default table also has models for the keys ``conifer``, ``broadleaf``
and ``generic``, which :func:`~minecarbon.standard.species.resolve_model_key` falls back to.
They are *representative-species* models, reusing checked coefficients of the table:

* ``conifer`` — the 油松 model (程堂仁 2007, two-variable): Pinus is the main conifer genus of
  North China and of reclamation planting.
* ``broadleaf`` — the 白桦 model (黄晓琼 et al. 2016, two-variable), not the oak model: it is
  from North China, uses height and states its units, and at the reference tree (D 20 cm,
  H 12 m) its 114 kg lies mid-way among the table's broadleaf models (杨树 88, 刺槐 140,
  栎类 157 kg), whereas the oak model (Heilongjiang, DBH only) is the heaviest of them.
* ``generic`` — the 白桦 model again, for the same reason: the least extreme single choice
  (the species models range 88–157 kg at the reference tree).

Their carbon fractions are IPCC 2006 Vol. 4 Table 4.3 defaults: conifer 0.51, broadleaf 0.48,
generic 0.47. Their ``confidence`` is *low*: one species stands in for a whole group.

Not used: the species-invariant one-variable models of Zeng 2018, AGB = 0.3·ρ·D^(7/3) (all
species) and 0.294·ρ·D^(7/3) (five conifers), which would need a wood basic density ρ per
group. Their units (ρ in g/cm³, AGB in kg) were seen only in the abstracts, and no group-mean
basic density could be checked against a source at hand, so fixing ρ would have added an
unchecked number. A user table with better group models replaces these rows key by key
(:meth:`minecarbon.allometry.equations.ModelTable.with_fallback`).

A user table in the same schema is read by :mod:`minecarbon.io` and handed here as rows (or as
CSV text to :func:`model_rows_from_text`); this module opens no user file and computes nothing.
The equations themselves are evaluated by :mod:`minecarbon.allometry.equations`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from minecarbon.errors import InputDataError
from minecarbon.standard._data import read_table
from minecarbon.standard.species import model_keys


@dataclass(frozen=True)
class FormSpec:
    """A supported model form: which coefficients it takes and whether it needs height."""

    coefficients: tuple[str, ...]
    needs_height: bool


#: The supported forms, spelt exactly as in the ``form`` column (D cm, H m, biomass kg).
FORMS: dict[str, FormSpec] = {
    "a*D^b": FormSpec(("a", "b"), needs_height=False),
    "exp(a+b*ln(D))": FormSpec(("a", "b"), needs_height=False),
    "10^(a+b*log10(D))": FormSpec(("a", "b"), needs_height=False),
    "a*(D^2*H)^b": FormSpec(("a", "b"), needs_height=True),
    "exp(a)*(D^2*H)^b": FormSpec(("a", "b"), needs_height=True),
    "a*D^b*H^c": FormSpec(("a", "b", "c"), needs_height=True),
    "a+b*D^2": FormSpec(("a", "b"), needs_height=False),
}

#: ``total`` stands alone; the others are summed.
COMPONENTS: tuple[str, ...] = ("total", "stem", "bark", "branch", "leaf")

COLUMNS: tuple[str, ...] = (
    "model_id",
    "species_key",
    "region",
    "form",
    "units",
    "component",
    "a",
    "b",
    "c",
    "residual_sd_log",
    "model_sd_rel",
    "dbh_min_cm",
    "dbh_max_cm",
    "height_min_m",
    "height_max_m",
    "carbon_fraction",
    "carbon_fraction_source",
    "source",
    "confidence",
    "table_name",
)

#: Columns that may be left empty (``c`` is required by forms that use it).
OPTIONAL_COLUMNS: frozenset[str] = frozenset(
    {"c", "region", "confidence", "residual_sd_log", "model_sd_rel", "units"})

#: Columns that a table may leave out of its header altogether (read as empty).
ABSENT_COLUMNS: frozenset[str] = frozenset({"residual_sd_log", "model_sd_rel", "units"})

#: The only units a model table may be in: DBH in cm, height in m, biomass in kg.
UNITS = "D cm; H m; AGB kg"

#: Columns that must be the same on every row of one model.
MODEL_COLUMNS: tuple[str, ...] = (
    "species_key",
    "region",
    "dbh_min_cm",
    "dbh_max_cm",
    "height_min_m",
    "height_max_m",
    "carbon_fraction",
    "carbon_fraction_source",
    "source",
    "confidence",
    "residual_sd_log",
    "model_sd_rel",
)

CARBON_FRACTION_RANGE: tuple[float, float] = (0.3, 0.6)
DEFAULT_DBH_CM: tuple[float, float] = (2.0, 60.0)
DEFAULT_HEIGHT_M: tuple[float, float] = (1.3, 40.0)
#: Bounds of ``residual_sd_log`` (exclusive, inclusive): a log-scale SD above 2 is a factor of
#: e² ≈ 7.4, no biomass model's error, and more likely a percentage or a log10 slip.
RESIDUAL_SD_LOG_RANGE: tuple[float, float] = (0.0, 2.0)
#: Bounds of ``model_sd_rel`` (inclusive): above 1 the model's mean is unknown to a factor of
#: two or more, and a value like 10 is more likely a percentage.
MODEL_SD_REL_RANGE: tuple[float, float] = (0.0, 1.0)

#: What an official table's ``table_name`` contains.
OFFICIAL_STANDARD = "GB/T 43648"

DEFAULT_TABLE_FILE = "biomass_models.csv"


def default_model_rows() -> tuple[dict[str, str], ...]:
    """The rows of the default model table (``data/biomass_models.csv``)."""
    return read_table(DEFAULT_TABLE_FILE)


def model_rows_from_text(text: str) -> tuple[dict[str, str], ...]:
    """Rows of a model table given as CSV text (UTF-8, with a header; a BOM is ignored)."""
    return tuple(dict(row) for row in csv.DictReader(text.removeprefix("\ufeff").splitlines()))


def _where(source_name: str, index: int, column: str) -> str:
    return f"{source_name} row {index + 1} (line {index + 2}), column {column!r}"


def _text(row: Mapping[str, str | None], column: str) -> str:
    return (row.get(column) or "").strip()


def _number(row: Mapping[str, str | None], column: str, where: str) -> float:
    text = _text(row, column)
    try:
        value = float(text)
    except ValueError:
        raise InputDataError(
            f"{where}: {text!r} is not a number", fix="write a plain decimal number"
        ) from None
    if not math.isfinite(value):
        raise InputDataError(f"{where}: {text!r} is not finite", fix="write a finite number")
    return value


def _check_row(row: Mapping[str, str | None], index: int, source_name: str) -> None:
    def where(column: str) -> str:
        return _where(source_name, index, column)

    for column in COLUMNS:
        if column not in OPTIONAL_COLUMNS and not _text(row, column):
            what = "coefficient" if column in ("a", "b") else "value"
            raise InputDataError(f"{where(column)}: missing {what}", fix=f"fill in {column}")
    key = _text(row, "species_key")
    if key not in model_keys():
        raise InputDataError(
            f"{where('species_key')}: unknown species key {key!r}",
            fix=f"use one of {', '.join(model_keys())}",
        )
    form = _text(row, "form")
    spec = FORMS.get(form)
    if spec is None:
        raise InputDataError(
            f"{where('form')}: unknown form {form!r}",
            fix=f"use one of {', '.join(FORMS)} (spelt exactly so)",
        )
    component = _text(row, "component")
    if component not in COMPONENTS:
        raise InputDataError(
            f"{where('component')}: unknown component {component!r}",
            fix=f"use one of {', '.join(COMPONENTS)}",
        )
    c_text = _text(row, "c")
    if "c" in spec.coefficients and not c_text:
        raise InputDataError(
            f"{where('c')}: missing coefficient for form {form!r}", fix="fill in c"
        )
    if "c" not in spec.coefficients and c_text:
        raise InputDataError(
            f"{where('c')}: form {form!r} takes no coefficient c (got {c_text!r})",
            fix="leave c empty or choose the form a*D^b*H^c",
        )
    for column in spec.coefficients:
        _number(row, column, where(column))
    for low, high in (("dbh_min_cm", "dbh_max_cm"), ("height_min_m", "height_max_m")):
        lo = _number(row, low, where(low))
        hi = _number(row, high, where(high))
        if lo <= 0:
            raise InputDataError(f"{where(low)}: {lo:g} is not positive", fix="use a value > 0")
        if hi <= lo:
            raise InputDataError(
                f"{where(high)}: {hi:g} is not above {low} = {lo:g}",
                fix="give the calibration range as min < max",
            )
    cf = _number(row, "carbon_fraction", where("carbon_fraction"))
    cf_lo, cf_hi = CARBON_FRACTION_RANGE
    if not cf_lo <= cf <= cf_hi:
        raise InputDataError(
            f"{where('carbon_fraction')}: {cf:g} is outside {cf_lo}–{cf_hi}",
            fix="give the carbon fraction as a fraction of dry mass (e.g. 0.5, not 50)",
        )
    units = _text(row, "units")
    if units and " ".join(units.replace(";", " ; ").split()).lower() != " ".join(
            UNITS.replace(";", " ; ").split()).lower():
        raise InputDataError(
            f"{where('units')}: {units!r} — minecarbon evaluates models with {UNITS!r}",
            fix="convert the coefficients to DBH in cm, height in m and biomass in kg",
        )
    if _text(row, "model_sd_rel"):
        rel = _number(row, "model_sd_rel", where("model_sd_rel"))
        rel_lo, rel_hi = MODEL_SD_REL_RANGE
        if not rel_lo <= rel <= rel_hi:
            raise InputDataError(
                f"{where('model_sd_rel')}: {rel:g} is outside [{rel_lo:g}, {rel_hi:g}]",
                fix="give the model's systematic error as a fraction (e.g. 0.10 for 10 %), "
                    "or leave it empty",
            )
    if _text(row, "residual_sd_log"):
        sd = _number(row, "residual_sd_log", where("residual_sd_log"))
        sd_lo, sd_hi = RESIDUAL_SD_LOG_RANGE
        if not sd_lo < sd <= sd_hi:
            raise InputDataError(
                f"{where('residual_sd_log')}: {sd:g} is outside ({sd_lo:g}, {sd_hi:g}]",
                fix=(
                    "give the residual standard deviation of ln(AGB) (natural log, e.g. 0.25), "
                    "or leave it empty"
                ),
            )


def validate_model_rows(rows: Sequence[Mapping[str, str | None]], source_name: str) -> None:
    """Check a model table's rows; raise on the first problem.

    Parameters
    ----------
    rows
        The table's rows as dicts of text, header names as keys (as :mod:`csv` gives them).
    source_name
        What to call the table in messages (its file name).

    Raises
    ------
    InputDataError
        Naming the row (1-based, and the CSV line counting the header) and the column: a missing
        column, value or coefficient, a non-numeric value, an unknown species key, form or
        component, a calibration range with min ≥ max, a carbon fraction outside 0.3–0.6, a
        ``residual_sd_log`` outside (0, 2], a ``model_sd_rel`` outside [0, 1], a repeated
        component, ``total`` mixed with components, rows of one model that disagree, or more
        than one ``table_name``.

    """
    if not rows:
        raise InputDataError(f"{source_name}: the model table has no rows", fix="add models")
    missing = [c for c in COLUMNS if c not in rows[0] and c not in ABSENT_COLUMNS]
    if missing:
        raise InputDataError(
            f"{source_name}: missing column(s) {', '.join(missing)}",
            fix=f"use the header {','.join(COLUMNS)}",
        )
    first_of_model: dict[str, int] = {}
    components: dict[str, dict[str, int]] = {}
    table_name = _text(rows[0], "table_name")
    for index, row in enumerate(rows):
        _check_row(row, index, source_name)
        model_id = _text(row, "model_id")
        component = _text(row, "component")
        if _text(row, "table_name") != table_name:
            raise InputDataError(
                f"{_where(source_name, index, 'table_name')}: {_text(row, 'table_name')!r} "
                f"differs from {table_name!r} in row 1",
                fix="give every row of a table the same table_name",
            )
        seen = components.setdefault(model_id, {})
        if component in seen:
            raise InputDataError(
                f"{_where(source_name, index, 'component')}: model {model_id!r} already has a "
                f"{component!r} row (row {seen[component] + 1})",
                fix="give each component of a model one row",
            )
        if seen and ("total" in seen or component == "total"):
            raise InputDataError(
                f"{_where(source_name, index, 'component')}: model {model_id!r} mixes 'total' "
                "with components",
                fix="give either one 'total' row or component rows (stem, bark, branch, leaf)",
            )
        seen[component] = index
        first = first_of_model.setdefault(model_id, index)
        for column in MODEL_COLUMNS:
            if _text(row, column) != _text(rows[first], column):
                raise InputDataError(
                    f"{_where(source_name, index, column)}: {_text(row, column)!r} differs "
                    f"from {_text(rows[first], column)!r} in row {first + 1} of the same model "
                    f"{model_id!r}",
                    fix=f"give every row of a model the same {column}",
                )
