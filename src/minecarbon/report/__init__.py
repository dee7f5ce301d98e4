"""The report after the guide's appendix E, tables, figures, DOCX and HTML.

``build_report(inputs, lang)`` writes the neutral :class:`Report` from the products in memory
(:class:`ReportInputs`); ``zoning_suggestions`` and ``data_appendix`` give the suggestion and
data-appendix tables on their own. The names are imported on first use, so importing a light
module of the package (``minecarbon.report.document``) does not load Matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from minecarbon._lazy import lazy_getattr

if TYPE_CHECKING:
    from minecarbon.report.appendix import data_appendix
    from minecarbon.report.content import build_report
    from minecarbon.report.document import Figure, Lang, Paragraph, Report, Section, Table
    from minecarbon.report.inputs import ReportInputs
    from minecarbon.report.suggestions import Rules, rule_statements, zoning_suggestions

_EXPORTS = {
    "build_report": "content",
    "data_appendix": "appendix",
    "zoning_suggestions": "suggestions",
    "Rules": "suggestions",
    "rule_statements": "suggestions",
    "ReportInputs": "inputs",
    "Report": "document",
    "Section": "document",
    "Paragraph": "document",
    "Figure": "document",
    "Table": "document",
    "Lang": "document",
}

__all__ = [
    "Figure", "Lang", "Paragraph", "Report", "ReportInputs", "Rules", "Section", "Table",
    "build_report", "data_appendix", "rule_statements", "zoning_suggestions",
]

__getattr__ = lazy_getattr(__name__, _EXPORTS)
