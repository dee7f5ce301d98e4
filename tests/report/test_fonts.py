"""Chinese text renders in figures: no glyph is missing."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from minecarbon.report.fonts import CJK_FONT_NAME, use_cjk_font


def test_chinese_labels_have_every_glyph(tmp_path: Path) -> None:
    assert use_cjk_font() == CJK_FONT_NAME
    fig, ax = plt.subplots()
    ax.set_title("煤炭矿区森林地上碳储量 已复垦森林 拟损毁森林 每木检尺")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(tmp_path / "zh.png")
    plt.close(fig)
    missing = [w for w in caught if "missing from font" in str(w.message)]
    assert missing == []


def test_without_the_font_glyphs_would_be_missing(tmp_path: Path) -> None:
    """The check above can fail: DejaVu Sans alone has no CJK glyphs."""
    from matplotlib import font_manager

    fig, ax = plt.subplots()
    ax.set_title("碳储量", fontproperties=font_manager.FontProperties(family="DejaVu Sans"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(tmp_path / "dejavu.png")
    plt.close(fig)
    assert any("missing from font" in str(w.message) for w in caught)
