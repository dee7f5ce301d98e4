"""The small demo's DOCX report, as a regulator prints it: page count and pages as pictures.

LibreOffice (Debian's ``libreoffice-writer-nogui``) converts the DOCX to PDF and poppler's
``pdftoppm`` renders the pages; both come from ``tools/install_test_tools.sh`` and the test
skips without them. Issue 18: the report stays under 80 pages (its data appendix was once
thousands of pages long), and no page is blank.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from matplotlib import image as mpimg

MAX_PAGES = 80


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed: run `sh tools/install_test_tools.sh` as root")
    return path


def test_the_docx_prints_on_fewer_than_80_pages_none_blank(small_site: Path,
                                                           tmp_path: Path) -> None:
    soffice, pdftoppm = _tool("soffice"), _tool("pdftoppm")
    docx = small_site / "reports/report.zh.docx"
    done = subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir",
                           str(tmp_path), str(docx)], capture_output=True, text=True,
                          timeout=300, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    pdf = tmp_path / "report.zh.pdf"
    assert pdf.exists(), done.stderr[-2000:]
    subprocess.run([pdftoppm, "-r", "20", "-png", str(pdf), str(tmp_path / "page")],
                   check=True, capture_output=True, timeout=300)
    pages = sorted(tmp_path.glob("page-*.png"))
    print(f"{len(pages)} pages")
    assert 10 <= len(pages) < MAX_PAGES
    for page in pages:
        pixels = mpimg.imread(page)[..., :3]
        inked = float((pixels.mean(axis=2) < 0.9).mean())
        assert inked > 0.002, f"{page.name} is blank"
