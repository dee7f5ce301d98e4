"""The report as an editable Word document (python-docx).

Everything is written with real Word styles (Title, Subtitle, Heading 1–3, Body Text, List
Bullet, Caption, Table Grid and three of ours: Table Text, Note, Missing Note), so a reader can
restyle the document in Word. Chinese text gets an East-Asian font on every style (宋体 SimSun
for text, 黑体 SimHei for headings and captions). The table of contents and the figure and table
numbers are real Word fields (``TOC``, ``SEQ 图``/``SEQ 表``): the numbers carry the right cached
result, and the document asks Word to refresh its fields when it is opened.

The helpers shared with :mod:`minecarbon.report.render_html` (section numbers, caption labels,
cell text) live here so both renderers number and format identically.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from minecarbon.errors import InputDataError
from minecarbon.report.document import Figure, Lang, Paragraph, Report, Section, Table

# ---------------------------------------------------------------------------- shared helpers

#: Words the renderers add to the document, per language.
LABELS: dict[Lang, dict[str, str]] = {
    "zh": {"figure": "图", "table": "表", "contents": "目录",
           "missing": "本节部分内容未能生成：", "separator": "；",
           "toc_placeholder": "（目录将在 Word 打开文档时自动更新；若未更新，"
                              "请右键单击此处并选择“更新域”。）",
           "note": "注："},
    "en": {"figure": "Figure", "table": "Table", "contents": "Contents",
           "missing": "Parts of this section could not be written: ", "separator": "; ",
           "toc_placeholder": "(Word updates the table of contents when the document opens; "
                              "otherwise right-click here and choose Update Field.)",
           "note": "Note: "},
}

#: Text shown for a missing value (NaN, None, NaT) in a table cell.
MISSING_CELL = "—"

_NUMBER_TEXT = re.compile(r"^[+\-−]?(\d{1,3}(,\d{3})+|\d*)(\.\d+)?([eE][+\-]?\d+)?\s?%?$")


def section_numbers(sections: list[Section]) -> list[str]:
    """The heading number of every section in order.

    ``"1"``, ``"1.1"``, ``"2"`` …; levels outside 1–3 are clamped to that range.
    """
    counters = [0, 0, 0]
    numbers = []
    for section in sections:
        level = min(max(section.level, 1), 3)
        counters[level - 1] += 1
        counters[level:] = [0] * (3 - level)
        numbers.append(".".join(str(c) for c in counters[:level]))
    return numbers


def missing_text(section: Section, lang: Lang) -> str:
    """The visible note for a section's missing parts (empty when nothing is missing)."""
    if not section.missing:
        return ""
    labels = LABELS[lang]
    return labels["missing"] + labels["separator"].join(section.missing)


def cell_text(value: Any) -> str:
    """How a table value is printed: integers as is, floats in their shortest exact form.

    Missing values (None, NaN, NaT) print as :data:`MISSING_CELL`; strings are kept verbatim
    (the content builders format numbers they want rounded).
    """
    if value is None or value is pd.NaT:
        return MISSING_CELL
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if math.isnan(float(value)):
            return MISSING_CELL
        if math.isinf(float(value)):
            return "∞" if value > 0 else "−∞"
        magnitude = abs(float(value))
        if magnitude != 0 and (magnitude >= 1e15 or magnitude < 1e-6):
            return str(np.format_float_scientific(value, trim="-"))
        return str(np.format_float_positional(value, trim="-"))
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return MISSING_CELL
    return str(value)


def is_numeric(value: Any) -> bool:
    """Whether a cell holds a number (printed right-aligned), also a number written as text."""
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, int | float | np.integer | np.floating):
        return True
    if isinstance(value, str):
        text = value.strip()
        return bool(text) and any(c.isdigit() for c in text) and bool(_NUMBER_TEXT.match(text))
    return False


def table_content(table: Table) -> tuple[list[str], list[list[Any]]]:
    """The header texts and the raw row values of a table, in display order.

    A frame's index is shown as leading columns when it carries information: when it is named
    or holds labels other than integers (an unnamed integer index, such as the one left by a
    filter, is row numbering and is dropped). Multi-level column labels are joined with " / ".
    """
    frame = table.frame
    index = frame.index
    keep_index = (any(n is not None for n in index.names)
                  or not pd.api.types.is_integer_dtype(index.dtype))
    headers = [" / ".join(str(p) for p in c) if isinstance(c, tuple) else str(c)
               for c in frame.columns]
    rows = [list(r) for r in frame.itertuples(index=False, name=None)]
    if keep_index:
        headers = ["" if n is None else str(n) for n in index.names] + headers
        labels = [list(i) if isinstance(i, tuple) else [i] for i in index]
        rows = [label + row for label, row in zip(labels, rows, strict=True)]
    return headers, rows


def png_size(figure: Figure) -> tuple[int, int]:
    """Pixel width and height of a figure's PNG (checks that it is a PNG)."""
    data = figure.png
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise InputDataError(
            f"figure {figure.caption!r}: its image is not PNG data ({len(data)} bytes)",
            fix="save the matplotlib figure with fig.savefig(buffer, format='png')")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


# ------------------------------------------------------------------------------------ styles

_PAGE_WIDTH_CM, _PAGE_HEIGHT_CM, _MARGIN_CM = 21.0, 29.7, 2.5
_TEXT_WIDTH_CM = _PAGE_WIDTH_CM - 2 * _MARGIN_CM
_MAX_FIGURE_HEIGHT_CM = 20.0
_BLACK = RGBColor(0, 0, 0)


@dataclass(frozen=True)
class _Fonts:
    body_latin: str = "Times New Roman"
    body_east_asia: str = "SimSun"
    heading_latin: str = "Arial"
    heading_east_asia: str = "SimHei"


def _set_fonts(style: Any, latin: str, east_asia: str) -> None:
    """Give a style explicit Latin and East-Asian fonts (theme fonts removed)."""
    rfonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in list(rfonts.attrib):
        if attribute.endswith("Theme") or attribute.endswith("theme"):
            del rfonts.attrib[attribute]
    for name, font in (("w:ascii", latin), ("w:hAnsi", latin), ("w:cs", latin),
                       ("w:eastAsia", east_asia)):
        rfonts.set(qn(name), font)


def _paragraph_style(document: Any, name: str, base: str) -> Any:
    from docx.enum.style import WD_STYLE_TYPE

    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles[base]
    style.quick_style = True
    return style


def _add_ppr_box(style: Any, *, fill: str, border: str) -> None:
    """A left border and shading on a paragraph style (added before any spacing/indent)."""
    ppr = style.element.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    for side in ("top", "left", "bottom", "right"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "single")
        edge.set(qn("w:sz"), "12" if side == "left" else "4")
        edge.set(qn("w:space"), "4")
        edge.set(qn("w:color"), border)
        borders.append(edge)
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    ppr.append(borders)
    ppr.append(shading)


def _setup_styles(document: Any, lang: Lang) -> None:
    fonts = _Fonts()
    styles = document.styles
    zh = lang == "zh"
    sizes = {"Normal": 12 if zh else 11, "Title": 26, "Subtitle": 16, "Heading 1": 16,
             "Heading 2": 14, "Heading 3": 12, "Caption": 10.5, "List Bullet": 12 if zh else 11}
    for name, size in sizes.items():
        style = styles[name]
        heading = name.startswith(("Heading", "Title", "Subtitle")) or name == "Caption"
        _set_fonts(style, fonts.heading_latin if heading else fonts.body_latin,
                   fonts.heading_east_asia if heading else fonts.body_east_asia)
        style.font.size = Pt(size)
        if name != "Normal":
            style.font.color.rgb = _BLACK
    normal = styles["Normal"].paragraph_format
    normal.line_spacing = 1.5 if zh else 1.15
    normal.space_after = Pt(6)
    styles["Subtitle"].font.italic = False
    styles["Caption"].font.bold = True
    caption = styles["Caption"].paragraph_format
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption.space_before, caption.space_after = Pt(3), Pt(9)
    for name in ("Heading 1", "Heading 2", "Heading 3"):
        styles[name].paragraph_format.space_before = Pt(18 if name == "Heading 1" else 12)
        styles[name].paragraph_format.space_after = Pt(6)
    for name in ("Title", "Subtitle"):
        styles[name].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    rule = styles["Title"].element.pPr.find(f"{qn('w:pBdr')}/{qn('w:bottom')}")
    if rule is not None:  # the template's blue theme rule under the title, in black
        rule.set(qn("w:color"), "000000")
        rule.attrib.pop(qn("w:themeColor"), None)

    body = styles["Body Text"]
    body.paragraph_format.space_after = Pt(6)
    if zh:  # two characters of first-line indent, as Chinese reports are set
        body.paragraph_format.first_line_indent = Pt(24)
        body.element.pPr.find(qn("w:ind")).set(qn("w:firstLineChars"), "200")
        body.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY

    table_text = _paragraph_style(document, "Table Text", "Normal")
    table_text.font.size = Pt(10.5 if zh else 10)
    table_text.paragraph_format.line_spacing = 1.0
    table_text.paragraph_format.space_before = table_text.paragraph_format.space_after = Pt(1)

    note = _paragraph_style(document, "Note", "Normal")
    note.font.size = Pt(9)
    note.font.color.rgb = RGBColor(0x40, 0x40, 0x40)
    note.paragraph_format.line_spacing = 1.15
    note.paragraph_format.space_after = Pt(6)

    missing = _paragraph_style(document, "Missing Note", "Normal")
    _add_ppr_box(missing, fill="FFF4E5", border="C55A11")
    missing.font.size = Pt(10.5)
    missing.font.color.rgb = RGBColor(0x9C, 0x3D, 0x00)
    missing.paragraph_format.space_before = missing.paragraph_format.space_after = Pt(6)

    figure = _paragraph_style(document, "Figure", "Normal")
    figure.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    figure.paragraph_format.keep_with_next = True
    figure.paragraph_format.line_spacing = 1.0
    figure.paragraph_format.space_before = Pt(6)
    figure.paragraph_format.space_after = Pt(0)

    _set_language(document, lang)


def _set_language(document: Any, lang: Lang) -> None:
    """Proofing language of the document defaults and the East-Asian theme language."""
    defaults = document.styles.element.find(qn("w:docDefaults"))
    lang_element = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}")
    if lang_element is not None:
        lang_element.set(qn("w:val"), "zh-CN" if lang == "zh" else "en-US")
        lang_element.set(qn("w:eastAsia"), "zh-CN")
    theme_lang = document.settings.element.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:eastAsia"), "zh-CN")


# A w:settings child must come before these (ECMA-376 CT_Settings sequence).
_AFTER_UPDATE_FIELDS = ("hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars",
                        "rsids", "mathPr", "attachedSchema", "themeFontLang", "clrSchemeMapping",
                        "doNotIncludeSubdocsInStats", "doNotAutoCompressPictures", "forceUpgrade",
                        "captions", "readModeInkLockDown", "smartTagType", "schemaLibrary",
                        "shapeDefaults", "doNotEmbedSmartTags", "decimalSymbol", "listSeparator")


def _update_fields_on_open(document: Any) -> None:
    settings = document.settings.element
    element = OxmlElement("w:updateFields")
    element.set(qn("w:val"), "true")
    successors = {qn(f"w:{n}") for n in _AFTER_UPDATE_FIELDS} | {qn("m:mathPr")}
    for child in settings:
        if child.tag in successors:
            child.addprevious(element)
            return
    settings.append(element)


# ------------------------------------------------------------------------------------ fields

def _add_field(paragraph: Any, instruction: str, cached: str, *, dirty: bool = False) -> None:
    """A complex field (begin, instruction, separate, cached result, end) in a paragraph."""
    def char(kind: str) -> None:
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        if dirty and kind == "begin":
            element.set(qn("w:dirty"), "true")
        paragraph.add_run()._r.append(element)

    char("begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    paragraph.add_run()._r.append(instr)
    char("separate")
    paragraph.add_run(cached)
    char("end")


def _caption(document: Any, label: str, number: int, text: str) -> Any:
    paragraph = document.add_paragraph(style="Caption")
    paragraph.add_run(f"{label} ")
    _add_field(paragraph, f"SEQ {label} \\* ARABIC", str(number))
    paragraph.add_run(f" {text}")
    return paragraph


# ------------------------------------------------------------------------------------ blocks

def _add_figure(document: Any, figure: Figure, number: int, lang: Lang) -> None:
    width_px, height_px = png_size(figure)
    width_cm = min(figure.width_cm, _TEXT_WIDTH_CM)
    if width_px and height_px and width_cm * height_px / width_px > _MAX_FIGURE_HEIGHT_CM:
        width_cm = _MAX_FIGURE_HEIGHT_CM * width_px / height_px
    paragraph = document.add_paragraph(style="Figure")
    run = paragraph.add_run()
    run.add_picture(io.BytesIO(figure.png), width=Cm(width_cm))
    doc_pr = run._r.find(f".//{qn('wp:docPr')}")
    if doc_pr is not None:  # alt text for screen readers: the caption and its source
        doc_pr.set("descr", figure.caption + (f" ({figure.source})" if figure.source else ""))
    _caption(document, LABELS[lang]["figure"], number, figure.caption)


def _shade(cell: Any, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _add_table(document: Any, table: Table, number: int, lang: Lang) -> None:
    caption = _caption(document, LABELS[lang]["table"], number, table.caption)
    caption.paragraph_format.keep_with_next = True
    headers, rows = table_content(table)
    if headers:
        _add_grid(document, headers, rows)
    if table.note:
        document.add_paragraph(table.note, style="Note")
    else:  # a little air between the table and the next paragraph
        document.add_paragraph(style="Note")


def _add_grid(document: Any, headers: list[str], rows: list[list[Any]]) -> None:
    grid = document.add_table(rows=1 + len(rows), cols=len(headers))
    grid.style = document.styles["Table Grid"]
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    numeric_columns = [bool(rows) and all(is_numeric(r[j]) or cell_text(r[j]) == MISSING_CELL
                                          for r in rows) for j in range(len(headers))]
    for i, row in enumerate(grid.rows):
        values: list[Any] = headers if i == 0 else rows[i - 1]
        if i == 0:  # the header row repeats on every page and is never split
            tr_pr = row._tr.get_or_add_trPr()
            for tag in ("w:cantSplit", "w:tblHeader"):
                tr_pr.append(OxmlElement(tag))
        for j, cell in enumerate(row.cells):
            paragraph = cell.paragraphs[0]
            paragraph.style = document.styles["Table Text"]
            text = str(values[j]) if i == 0 else cell_text(values[j])
            run = paragraph.add_run(text)
            if i == 0:
                run.bold = True
                _shade(cell, "E7E6E6")
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            elif numeric_columns[j] or is_numeric(values[j]):
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _add_section(document: Any, section: Section, number: str, counters: dict[str, int],
                 lang: Lang) -> None:
    level = min(max(section.level, 1), 3)
    document.add_paragraph(f"{number} {section.title}", style=f"Heading {level}")
    note = missing_text(section, lang)
    if note:
        document.add_paragraph(note, style="Missing Note")
    for block in section.blocks:
        if isinstance(block, Paragraph):
            style = {"body": "Body Text", "note": "Note", "bullet": "List Bullet"}[block.style]
            document.add_paragraph(block.text, style=style)
        elif isinstance(block, Figure):
            counters["figure"] += 1
            _add_figure(document, block, counters["figure"], lang)
        elif isinstance(block, Table):
            counters["table"] += 1
            _add_table(document, block, counters["table"], lang)


# -------------------------------------------------------------------------------- document

def _title_page(document: Any, report: Report) -> None:
    title = document.add_paragraph(report.title, style="Title")
    title.paragraph_format.space_before = Cm(6)
    if report.subtitle:
        document.add_paragraph(report.subtitle, style="Subtitle")
    when = document.add_paragraph(report.date, style="Subtitle")
    when.paragraph_format.space_before = Cm(8)
    when.add_run().add_break(WD_BREAK.PAGE)


def _contents(document: Any, lang: Lang) -> None:
    document.add_paragraph(LABELS[lang]["contents"], style="TOC Heading")
    paragraph = document.add_paragraph()
    _add_field(paragraph, 'TOC \\o "1-3" \\h \\z \\u', LABELS[lang]["toc_placeholder"],
               dirty=True)
    paragraph.add_run().add_break(WD_BREAK.PAGE)


def _page_setup(document: Any) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Cm(_PAGE_WIDTH_CM), Cm(_PAGE_HEIGHT_CM)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(_MARGIN_CM))
    section.different_first_page_header_footer = True  # no page number on the title page
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _add_field(footer, "PAGE", "1")


def render_docx(report: Report) -> bytes:
    """Write the report as an editable Word document.

    Parameters
    ----------
    report
        The neutral document (sections of paragraphs, figures and tables).

    Returns
    -------
    bytes
        The ``.docx`` file: a title page, a table of contents (a Word ``TOC`` field refreshed
        when Word opens the file), numbered headings, figures with ``图 n``/``Figure n``
        captions below and tables with ``表 n``/``Table n`` captions above, both numbered by
        ``SEQ`` fields whose cached results are the right numbers.

    Raises
    ------
    InputDataError
        When a figure's image is not PNG data.

    """
    document = Document()
    _page_setup(document)
    _setup_styles(document, report.lang)
    _update_fields_on_open(document)
    properties = document.core_properties
    properties.title, properties.subject = report.title, report.subtitle
    properties.language = "zh-CN" if report.lang == "zh" else "en-US"
    properties.author = "minecarbon"

    _title_page(document, report)
    _contents(document, report.lang)
    counters = {"figure": 0, "table": 0}
    for section, number in zip(report.sections, section_numbers(report.sections), strict=True):
        _add_section(document, section, number, counters, report.lang)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
