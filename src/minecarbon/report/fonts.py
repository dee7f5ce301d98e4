"""A CJK font for figures, so Chinese labels render (no missing glyphs).

The Noto Sans CJK SC font (SIL Open Font License) comes with the ``mplfonts`` package from PyPI;
only that file is registered with matplotlib.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from minecarbon.errors import MissingDependencyError

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
CJK_FONT_NAME = "Noto Sans CJK SC"


@cache
def use_cjk_font() -> str:
    """Register Noto Sans CJK SC with matplotlib and make it the first sans-serif font.

    Returns the font family name.
    """
    import matplotlib as mpl
    from matplotlib import font_manager

    try:
        path = files("mplfonts").joinpath("fonts", CJK_FONT_FILE)
    except ModuleNotFoundError as error:
        raise MissingDependencyError(
            "figures with Chinese text need the Noto Sans CJK font of the mplfonts package",
            fix="pip install mplfonts",
        ) from error
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    mpl.rcParams["font.sans-serif"] = [family, "DejaVu Sans"]
    mpl.rcParams["font.family"] = "sans-serif"
    mpl.rcParams["axes.unicode_minus"] = False
    return family
