"""The report as one self-contained web page (jinja2 templates, no JavaScript).

The page opens offline: its CSS is inlined, figures are ``data:`` URIs and a Content Security
Policy forbids any request. Headings, figure and table numbers are the same as in the Word
document (:mod:`minecarbon.report.render_docx` computes them for both). Every text goes through
jinja2's autoescaping.
"""

from __future__ import annotations

import base64
from functools import cache
from typing import Any

import jinja2

from minecarbon.report.document import Figure, Paragraph, Report, Table
from minecarbon.report.render_docx import (
    LABELS,
    cell_text,
    is_numeric,
    png_size,
    section_numbers,
    table_content,
)

TEMPLATE = "report.html"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("minecarbon.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _figure_view(figure: Figure, number: int, label: str) -> dict[str, Any]:
    png_size(figure)  # a clear error for bytes that are not a PNG
    uri = "data:image/png;base64," + base64.b64encode(figure.png).decode("ascii")
    return {"kind": "figure", "number": number, "label": f"{label} {number}",
            "caption": figure.caption, "uri": uri, "width_cm": f"{figure.width_cm:g}",
            "source": figure.source}


def _table_view(table: Table, number: int, label: str) -> dict[str, Any]:
    headers, rows = table_content(table)
    return {"kind": "table", "number": number, "label": f"{label} {number}",
            "caption": table.caption, "headers": headers, "note": table.note,
            "rows": [[(cell_text(v), is_numeric(v)) for v in row] for row in rows],
            "source": table.source}


def _section_views(report: Report) -> list[dict[str, Any]]:
    labels = LABELS[report.lang]
    figures = tables = 0
    views = []
    for section, number in zip(report.sections, section_numbers(report.sections), strict=True):
        blocks: list[dict[str, Any]] = []
        for block in section.blocks:
            if isinstance(block, Paragraph) and block.style == "bullet":
                if blocks and blocks[-1]["kind"] == "bullets":
                    blocks[-1]["items"].append(block.text)
                else:
                    blocks.append({"kind": "bullets", "items": [block.text]})
            elif isinstance(block, Paragraph):
                blocks.append({"kind": "paragraph", "style": block.style, "text": block.text})
            elif isinstance(block, Figure):
                figures += 1
                blocks.append(_figure_view(block, figures, labels["figure"]))
            elif isinstance(block, Table):
                tables += 1
                blocks.append(_table_view(block, tables, labels["table"]))
        views.append({"number": number, "anchor": "sec-" + number.replace(".", "-"),
                      "level": min(max(section.level, 1), 3), "title": section.title,
                      "key": section.key, "missing": section.missing, "blocks": blocks})
    return views


def render_html(report: Report) -> str:
    """Write the report as one self-contained HTML page.

    Parameters
    ----------
    report
        The neutral document (sections of paragraphs, figures and tables).

    Returns
    -------
    str
        The page: inline CSS (print-friendly, A4 width), a title block, a table of contents
        with anchor links, numbered headings, figures as ``data:`` PNG images with
        ``图 n``/``Figure n`` captions, tables with ``表 n``/``Table n`` captions, and each
        section's missing parts in a visible note box. No external resource, no script.

    Raises
    ------
    InputDataError
        When a figure's image is not PNG data.

    """
    template = _environment().get_template(TEMPLATE)
    return template.render(
        report=report,
        html_lang="zh-CN" if report.lang == "zh" else "en",
        labels=LABELS[report.lang],
        sections=_section_views(report),
    )
