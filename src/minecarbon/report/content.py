"""The report's content after the guide's appendix E, filled from the products in memory.

:func:`build_report` writes the eight sections of the outline and the data appendix into a
neutral :class:`~minecarbon.report.document.Report`. Each section reads only what it needs from
:class:`~minecarbon.report.inputs.ReportInputs`; a part whose product is missing is left out
and the reason goes to ``Section.missing`` (the renderers print it), so a partial workspace gives
a partial report, never a crash. Table numbers are the product values rounded for display only
(each table's note states the rounding). The remote-sensing data part that opens
section 6 is built in :mod:`minecarbon.report.remote_sensing`, sections 7–8 in
:mod:`minecarbon.report.suggestions` and the appendix in :mod:`minecarbon.report.appendix`.
Sections 1–4 are built in
:mod:`minecarbon.report.field_part`, 5–6 in :mod:`minecarbon.report.models_part`. Where each
number comes from is in ``docs/report.md``.
"""


from __future__ import annotations

from datetime import date

from minecarbon.report.appendix import appendix_section
from minecarbon.report.assessment_part import assessment_section
from minecarbon.report.document import Lang, Report
from minecarbon.report.field_part import (
    DAMAGE_COLOURS,
    mining_overlays,
    mining_section,
    plot_agc_section,
    plots_layout_section,
    site_section,
)
from minecarbon.report.inputs import ReportInputs
from minecarbon.report.models_part import (
    cv_table,
    inversion_section,
    level1_totals,
    models_section,
)
from minecarbon.report.suggestions import suggestions_section
from minecarbon.report.texts import DECIMALS, METRIC_DECIMALS, tr

__all__ = ["DAMAGE_COLOURS", "DECIMALS", "METRIC_DECIMALS", "build_report", "cv_table",
           "level1_totals", "mining_overlays"]


# ----------------------------------------------------------------------------- the report
def build_report(inputs: ReportInputs, lang: Lang = "zh", *, today: str | None = None) -> Report:
    """The whole report: sections 1–8 of the guide's appendix E and the data appendix.

    Parameters
    ----------
    inputs
        The workspace's products in memory (any may be missing).
    lang
        ``"zh"`` (default) or ``"en"``.
    today
        The report's date (ISO); default today.

    Returns
    -------
    Report
        Sections keyed ``site, mining, plots_layout, plot_agc, models, inversion, assessment,
        suggestions, appendix``; each lists in ``missing`` what it could not write and why.

    """
    sections = [site_section(inputs, lang), mining_section(inputs, lang),
                plots_layout_section(inputs, lang), plot_agc_section(inputs, lang),
                models_section(inputs, lang), inversion_section(inputs, lang),
                assessment_section(inputs, lang), suggestions_section(inputs, lang),
                appendix_section(inputs, lang)]
    return Report(title=tr("title", lang), subtitle=str(inputs.project.get("name", "")),
                  lang=lang, date=today or date.today().isoformat(), sections=sections)
