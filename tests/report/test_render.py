"""The renderers: an editable DOCX and a self-contained HTML page from the same Report.

The oracles are independent readers: python-docx reads the Word file back, lxml parses the page,
and every table cell is compared with the DataFrame value it came from (numbers parsed back).
"""

from __future__ import annotations

import base64
import io
import math
import re
import warnings
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm
from lxml import html as lxml_html

from minecarbon.errors import InputDataError
from minecarbon.report.document import Figure, Paragraph, Report, Section, Table
from minecarbon.report.fonts import use_cjk_font
from minecarbon.report.render_docx import render_docx
from minecarbon.report.render_html import render_html

MISSING_REASON = "评估步骤尚未运行（products/assessment/zonal_stats.csv 不存在）"


def tiny_png(title: str, colour: str) -> bytes:
    """A small bar chart with a Chinese title; checks that no glyph is missing."""
    use_cjk_font()
    fig, ax = plt.subplots(figsize=(4, 3), dpi=60)
    ax.bar(["拟损毁", "已复垦"], [3.0, 5.0], color=colour)
    ax.set_title(title)
    buffer = io.BytesIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(buffer, format="png")
    plt.close(fig)
    assert not [w for w in caught if "missing from font" in str(w.message)]
    return buffer.getvalue()


def plots_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "评估单元": ["拟损毁森林", "已复垦森林 <b>&"],
        "样地数": [3, 12],
        "面积（公顷）": [12.5, 1234.25],
        "碳储量（t C/ha）": [np.nan, 0.1 + 0.2],
        "说明": ["1,234.5", "见附录"],
    })


def sample_report(lang: str = "zh") -> Report:
    """Two level-1 sections and a subsection; two figures, two tables, a missing note."""
    zh = lang == "zh"
    frame = plots_frame()
    totals = pd.DataFrame({"year": [2000, 2024], "agc_t": [1.5e6, 2.25e-7]}).set_index("year")
    return Report(
        title="某煤矿矿林复合区森林地上碳储量监测报告" if zh else "Forest AGC monitoring report",
        subtitle="2000—2024 年" if zh else "2000–2024",
        lang="zh" if zh else "en",
        date="2025-06-01",
        sections=[
            Section("矿林复合区基本情况" if zh else "The mine–forest area", key="area", blocks=[
                Paragraph("监测区位于矿区边界外扩 1 km 范围内。" * 5),
                Paragraph("拟损毁森林", "bullet"),
                Paragraph("已复垦森林", "bullet"),
                Figure(tiny_png("各单元碳储量", "#ff0000"), "各单元森林地上碳储量", 12.0,
                       source="products/agc/agc_totals.csv"),
                Table(frame, "各评估单元样地数", note="注：示例数据。",
                      source="products/plots/plot_agc.csv"),
            ]),
            Section("样地布设" if zh else "Plot layout", level=2, key="plots", blocks=[
                Figure(tiny_png("样地", "#0000ff"), "样地分布", 8.0),
                Paragraph("样地按单元分层布设。", "note"),
            ]),
            Section("时空特征评估" if zh else "Spatio-temporal assessment", key="assessment",
                    missing=[MISSING_REASON, "缺少 summary.json"],
                    blocks=[Table(totals, "年度碳储量")]),
        ],
    )


@pytest.fixture(scope="module")
def report() -> Report:
    return sample_report("zh")


@pytest.fixture(scope="module")
def docx_doc(report: Report) -> Any:
    return Document(io.BytesIO(render_docx(report)))


@pytest.fixture(scope="module")
def page(report: Report) -> str:
    return render_html(report)


def expected_cell(value: Any, cell: str) -> None:
    """A rendered cell equals the frame value: numbers parsed back, strings verbatim."""
    if isinstance(value, float) and math.isnan(value):
        assert cell == "—"
    elif isinstance(value, int | float | np.integer | np.floating):
        assert float(cell) == float(value), (cell, value)
    else:
        assert cell == str(value)


def frame_rows(frame: pd.DataFrame) -> tuple[list[str], list[list[Any]]]:
    if frame.index.name is None and frame.index.dtype.kind == "i":
        return [str(c) for c in frame.columns], frame.values.tolist()
    flat = frame.reset_index()
    return [str(c) for c in flat.columns], flat.values.tolist()


def field_runs(paragraph: Any) -> list[tuple[str, str]]:
    """(instruction, cached result) of every complex field in a paragraph."""
    fields, instruction, result, state = [], "", "", None
    for run in paragraph._p.iter(qn("w:r")):
        char = run.find(qn("w:fldChar"))
        if char is not None:
            kind = char.get(qn("w:fldCharType"))
            if kind == "begin":
                instruction, result, state = "", "", "instr"
            elif kind == "separate":
                state = "result"
            elif kind == "end":
                fields.append((instruction.strip(), result))
                state = None
            continue
        instr = run.find(qn("w:instrText"))
        if instr is not None and state == "instr":
            instruction += instr.text or ""
        if state == "result":
            result += "".join(t.text or "" for t in run.iter(qn("w:t")))
    return fields


# ------------------------------------------------------------------------------------ DOCX

def test_docx_headings_in_order_with_heading_styles(docx_doc: Any) -> None:
    headings = [(p.style.name, p.text) for p in docx_doc.paragraphs
                if p.style.name.startswith("Heading")]
    assert headings == [("Heading 1", "1 矿林复合区基本情况"), ("Heading 2", "1.1 样地布设"),
                        ("Heading 1", "2 时空特征评估")]
    title = [p.text for p in docx_doc.paragraphs if p.style.name == "Title"]
    assert title == ["某煤矿矿林复合区森林地上碳储量监测报告"]
    subtitles = [p.text for p in docx_doc.paragraphs if p.style.name == "Subtitle"]
    assert subtitles == ["2000—2024 年", "2025-06-01"]


def test_docx_has_a_toc_field_refreshed_on_open(docx_doc: Any) -> None:
    fields = [f for p in docx_doc.paragraphs for f in field_runs(p)]
    toc = [f for f in fields if f[0].startswith("TOC")]
    assert len(toc) == 1
    assert toc[0][0] == 'TOC \\o "1-3" \\h \\z \\u'
    assert toc[0][1]  # placeholder text until Word updates it
    update = docx_doc.settings.element.find(qn("w:updateFields"))
    assert update is not None and update.get(qn("w:val")) == "true"
    # the TOC comes before the first heading
    texts = [p.text for p in docx_doc.paragraphs]
    assert texts.index("目录") < texts.index("1 矿林复合区基本情况")


def test_docx_captions_are_seq_fields_with_the_right_numbers(docx_doc: Any) -> None:
    captions = [p for p in docx_doc.paragraphs if p.style.name == "Caption"]
    assert [p.text for p in captions] == ["图 1 各单元森林地上碳储量", "表 1 各评估单元样地数",
                                          "图 2 样地分布", "表 2 年度碳储量"]
    assert [field_runs(p) for p in captions] == [
        [("SEQ 图 \\* ARABIC", "1")], [("SEQ 表 \\* ARABIC", "1")],
        [("SEQ 图 \\* ARABIC", "2")], [("SEQ 表 \\* ARABIC", "2")]]


def test_docx_figure_captions_below_and_table_captions_above(docx_doc: Any) -> None:
    body = list(docx_doc.element.body)
    for table in docx_doc.tables:
        before = body[body.index(table._tbl) - 1]
        assert before.tag == qn("w:p") and before.find(f".//{qn('w:pStyle')}").get(
            qn("w:val")) == "Caption"
    paragraphs = docx_doc.paragraphs
    for i, p in enumerate(paragraphs):
        if p._p.findall(f".//{qn('w:drawing')}"):
            assert paragraphs[i + 1].style.name == "Caption"
            assert paragraphs[i + 1].text.startswith("图 ")


def test_docx_table_cells_equal_the_frames(docx_doc: Any, report: Report) -> None:
    assert len(docx_doc.tables) == len(report.tables()) == 2
    for grid, table in zip(docx_doc.tables, report.tables(), strict=True):
        headers, rows = frame_rows(table.frame)
        cells = [[c.text for c in r.cells] for r in grid.rows]
        assert cells[0] == headers
        assert len(cells) == 1 + len(rows)
        for got, want in zip(cells[1:], rows, strict=True):
            for cell, value in zip(got, want, strict=True):
                expected_cell(value, cell)
    assert grid.style.name == "Table Grid"


def test_docx_header_row_bold_repeated_and_numbers_right_aligned(docx_doc: Any) -> None:
    grid = docx_doc.tables[0]
    header = grid.rows[0]
    assert header._tr.trPr.find(qn("w:tblHeader")) is not None
    assert all(r.bold for c in header.cells for r in c.paragraphs[0].runs)
    body = grid.rows[1]
    alignments = [c.paragraphs[0].alignment for c in body.cells]
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    assert alignments[0] != WD_ALIGN_PARAGRAPH.RIGHT  # a name
    assert alignments[1:4] == [WD_ALIGN_PARAGRAPH.RIGHT] * 3  # count, area, NaN in a number col
    second = [c.paragraphs[0].alignment for c in grid.rows[2].cells]
    assert second[4] != WD_ALIGN_PARAGRAPH.RIGHT  # text in a text column
    assert alignments[4] == WD_ALIGN_PARAGRAPH.RIGHT  # "1,234.5" written as text


def test_docx_images_are_embedded_at_their_width(docx_doc: Any, report: Report) -> None:
    images = {rel.target_part.blob for rel in docx_doc.part.rels.values()
              if "image" in rel.reltype}
    assert images == {f.png for f in report.figures()}
    widths = [s.width for s in docx_doc.inline_shapes]
    assert widths == [Cm(f.width_cm) for f in report.figures()]


def test_docx_missing_note_bullets_notes_and_fonts(docx_doc: Any) -> None:
    by_style: dict[str, list[str]] = {}
    for p in docx_doc.paragraphs:
        by_style.setdefault(p.style.name, []).append(p.text)
    missing = by_style["Missing Note"]
    assert len(missing) == 1
    assert missing[0].startswith("本节部分内容未能生成：") and MISSING_REASON in missing[0]
    assert by_style["List Bullet"] == ["拟损毁森林", "已复垦森林"]
    assert "样地按单元分层布设。" in by_style["Note"] and "注：示例数据。" in by_style["Note"]
    assert by_style["Body Text"][0].startswith("监测区位于")

    def east_asian(name: str) -> str:
        fonts = docx_doc.styles[name].element.rPr.find(qn("w:rFonts"))
        return str(fonts.get(qn("w:eastAsia")))

    assert east_asian("Normal") == "SimSun"
    assert east_asian("Heading 1") == "SimHei"
    assert docx_doc.styles["Normal"].font.name == "Times New Roman"


def test_docx_in_english() -> None:
    doc = Document(io.BytesIO(render_docx(sample_report("en"))))
    captions = [p for p in doc.paragraphs if p.style.name == "Caption"]
    assert [p.text.split(" ", 2)[:2] for p in captions] == [
        ["Figure", "1"], ["Table", "1"], ["Figure", "2"], ["Table", "2"]]
    assert field_runs(captions[2]) == [("SEQ Figure \\* ARABIC", "2")]
    note = [p.text for p in doc.paragraphs if p.style.name == "Missing Note"]
    assert note[0].startswith("Parts of this section could not be written: ")


def test_not_a_png_is_named() -> None:
    report = Report("t", "s", "zh", "2025-01-01", [Section("一", blocks=[
        Figure(b"GIF89a not a png", "坏图")])])
    with pytest.raises(InputDataError, match="坏图"):
        render_docx(report)
    with pytest.raises(InputDataError, match="fix"):
        render_html(report)


def test_index_shown_only_when_it_carries_labels() -> None:
    frame = plots_frame()
    filtered = frame[frame["样地数"] > 5]  # unnamed integer index [1]: row numbering, dropped
    by_name = frame.set_index("评估单元")  # a named index: shown first
    unnamed_labels = frame.set_index("评估单元").rename_axis(None)  # string labels: shown
    report = Report("t", "", "zh", "2025-01-01", [Section("一", blocks=[
        Table(filtered, "a"), Table(by_name, "b"), Table(unnamed_labels, "c")])])
    grids = Document(io.BytesIO(render_docx(report))).tables
    assert [c.text for c in grids[0].rows[0].cells] == list(frame.columns)
    assert grids[0].rows[1].cells[0].text == "已复垦森林 <b>&"
    assert [c.text for c in grids[1].rows[0].cells] == list(frame.columns)
    assert [c.text for c in grids[2].rows[0].cells] == ["", *frame.columns[1:]]
    assert grids[2].rows[1].cells[0].text == "拟损毁森林"


def test_an_empty_report_renders() -> None:
    report = Report("空报告", "", "zh", "2025-01-01")
    assert Document(io.BytesIO(render_docx(report))).paragraphs[0].text == "空报告"
    assert "空报告" in render_html(report)


# ------------------------------------------------------------------------------------ HTML

def test_html_is_self_contained(page: str) -> None:
    tree = lxml_html.document_fromstring(page)
    assert tree.tag == "html" and tree.get("lang") == "zh-CN"
    assert not tree.xpath("//script") and not tree.xpath("//link")
    for element in tree.xpath("//*[@src or @href]"):
        target = element.get("src") or element.get("href")
        assert target.startswith(("data:", "#")), target
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page)
    assert "url(" not in "".join(tree.xpath("//style/text()"))
    assert "@import" not in page
    sources = [img.get("src") for img in tree.xpath("//img")]
    assert all(s.startswith("data:image/png;base64,") for s in sources)


def test_html_images_are_the_figures(page: str, report: Report) -> None:
    tree = lxml_html.document_fromstring(page)
    data = [base64.b64decode(img.get("src").split(",", 1)[1]) for img in tree.xpath("//img")]
    assert data == [f.png for f in report.figures()]


def test_html_captions_numbered_in_order(page: str) -> None:
    tree = lxml_html.document_fromstring(page)
    figcaptions = [c.text_content() for c in tree.xpath("//figcaption")]
    assert figcaptions == ["图 1 各单元森林地上碳储量", "图 2 样地分布"]
    captions = [c.text_content() for c in tree.xpath("//table/caption")]
    assert captions == ["表 1 各评估单元样地数", "表 2 年度碳储量"]


def test_html_tables_equal_the_frames(page: str, report: Report) -> None:
    tree = lxml_html.document_fromstring(page)
    grids = tree.xpath("//table")
    assert len(grids) == 2
    for grid, table in zip(grids, report.tables(), strict=True):
        headers, rows = frame_rows(table.frame)
        assert [th.text_content() for th in grid.xpath("./thead/tr/th")] == headers
        body = [[td.text_content() for td in tr.xpath("./td")] for tr in grid.xpath("./tbody/tr")]
        assert len(body) == len(rows)
        for got, want in zip(body, rows, strict=True):
            for cell, value in zip(got, want, strict=True):
                expected_cell(value, cell)
    first = grids[0].xpath("./tbody/tr[1]/td")
    assert [td.get("class") for td in first] == [None, "num", "num", "num", "num"]


def test_html_headings_toc_and_missing_note(page: str, docx_doc: Any) -> None:
    tree = lxml_html.document_fromstring(page)
    headings = [h.text_content() for h in tree.xpath("//section/*[self::h2 or self::h3][1]")]
    assert headings == ["1 矿林复合区基本情况", "1.1 样地布设", "2 时空特征评估"]
    docx_headings = [p.text for p in docx_doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings == docx_headings
    links = tree.xpath("//nav//a")
    assert [a.text_content() for a in links] == headings
    ids = [s.get("id") for s in tree.xpath("//section")]
    assert [a.get("href") for a in links] == ["#" + i for i in ids]
    notes = tree.xpath("//div[contains(@class, 'missing-note')]")
    assert len(notes) == 1
    assert "本节部分内容未能生成" in notes[0].text_content()
    assert [li.text_content() for li in notes[0].xpath(".//li")] == [MISSING_REASON,
                                                                    "缺少 summary.json"]
    assert notes[0].getparent().get("id") == ids[2]


def test_html_escapes_text() -> None:
    report = Report("<script>alert(1)</script>", "A & B", "en", "2025-01-01", [
        Section("<i>x</i>", blocks=[Paragraph("<img src=http://evil>")])])
    page = render_html(report)
    tree = lxml_html.document_fromstring(page)
    assert tree.get("lang") == "en"
    assert not tree.xpath("//script") and not tree.xpath("//section//img")
    assert tree.xpath("//h1")[0].text_content() == "<script>alert(1)</script>"
    assert "&lt;img src=http://evil&gt;" in page
