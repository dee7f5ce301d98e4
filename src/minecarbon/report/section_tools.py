"""Small helpers shared by the report's sections (:mod:`minecarbon.report.content` and its parts).

Display rounding, the first monitoring year, the check that a section's products are present
(their absence goes to ``Section.missing``), appending a figure or the reason it failed, and the
names of units, damage forms and forest types in the report's language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minecarbon.errors import MinecarbonError
from minecarbon.report.document import Figure, Lang, Section
from minecarbon.report.inputs import ReportInputs
from minecarbon.report.texts import DECIMALS, missing_reason, pick, tr
from minecarbon.scope.units import unit_names
from minecarbon.types import DamageForm, ForestType

__all__ = ["add_figure", "area_ha", "damage_form_name", "first_year", "forest_type_name",
           "have", "last_year", "rounded", "rounding_note", "unit_name"]


def rounded(value: Any, d: int = DECIMALS) -> float:
    """``value`` rounded for display to ``d`` decimals."""
    return round(float(value), d)


def _year_bound(inputs: ReportInputs, key: str, last: bool) -> int | None:
    if inputs.project.get(key) is not None:
        return int(inputs.project[key])
    if inputs.agc is not None and "year" in inputs.agc.coords:
        years = inputs.agc["year"]
        return int(years.max() if last else years.min())
    if inputs.unit_areas is not None and len(inputs.unit_areas):
        column = inputs.unit_areas["year"]
        return int(column.max() if last else column.min())
    return None


def first_year(inputs: ReportInputs) -> int | None:
    """The first monitoring year: the project's, else the maps' or the unit areas' first."""
    return _year_bound(inputs, "first_year", last=False)


def last_year(inputs: ReportInputs) -> int | None:
    """The project's last year (else the latest year of the AGC maps or of the unit areas)."""
    return _year_bound(inputs, "last_year", last=True)


def have(section: Section, inputs: ReportInputs, lang: Lang, *products: str) -> bool:
    """Whether every product is present; the reasons of those that are not go to ``missing``."""
    ok = True
    for product in products:
        value = getattr(inputs, product)
        if value is None or (isinstance(value, dict) and not value):
            section.missing.append(missing_reason(inputs, product, lang))
            ok = False
    return ok


def add_figure(section: Section, lang: Lang, caption: str, source: str,
            draw: Callable[[], bytes]) -> None:
    """Append the figure ``draw()`` makes, or the reason it could not be drawn."""
    try:
        png = draw()
    except (MinecarbonError, ValueError, ImportError) as error:
        section.missing.append(tr("figure_failed", lang, what=caption, why=error))
        return
    section.blocks.append(Figure(png, caption, source=source))


def area_ha(frame: Any) -> float:
    """The summed area of a GeoDataFrame's geometries, ha (a projected metric CRS)."""
    return float(frame.geometry.area.sum()) / 1e4


def unit_name(level: int, code: int, lang: Lang) -> str:
    """An assessment unit's name in ``lang`` (code 0: outside every unit)."""
    if code == 0:
        return tr("outside_units", lang)
    return pick(unit_names(level, code), lang)


def damage_form_name(value: Any, lang: Lang) -> str:
    """A damage form (code, English or Chinese name) named in ``lang``; unknown as given."""
    text = str(value).strip().lower()
    for form in DamageForm:
        if text in (form.en, form.zh, form.name.lower(), str(int(form))):
            return pick((form.zh, form.en), lang)
    return str(value)


def forest_type_name(value: Any, lang: Lang) -> str:
    """A forest type (English or Chinese name) named in ``lang``; none: 'no type'."""
    if not isinstance(value, str) or not value:
        return tr("plot.no_type", lang)
    for ft in ForestType:
        if value.strip().lower() in (ft.en, ft.zh, ft.name.lower()):
            return pick((ft.zh, ft.en), lang)
    return value


def rounding_note(lang: Lang, d: int | str = DECIMALS) -> str:
    """A table note stating the display rounding."""
    return tr("rounding", lang, d=d)

