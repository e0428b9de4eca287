"""The CJK font every chart uses: Noto Sans CJK SC (SIL Open Font License 1.1).

Debian's ``fonts-noto-cjk`` package installs it; it is located at run time through
matplotlib's font manager, and a missing font fails loudly instead of drawing boxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from matplotlib import font_manager

FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Noto Sans CJK JP")


class FontMissing(RuntimeError):
    """No CJK font is installed; charts would show empty boxes instead of Chinese."""


@dataclass(frozen=True)
class CjkFont:
    family: str
    path: str
    index: int  # the face inside a .ttc collection


@cache
def cjk_font() -> CjkFont:
    """The installed CJK font, preferring Simplified Chinese glyph forms."""
    found = _lookup()
    if found is None:
        # matplotlib's font cache predates the font's installation: add the system's CJK files.
        for path in font_manager.findSystemFonts():
            if "cjk" in path.lower() or "notosanssc" in path.lower():
                font_manager.fontManager.addfont(path)
        found = _lookup()
    if found is not None:
        return found
    raise FontMissing(
        "没有找到中文字体 Noto Sans CJK SC：请安装 fonts-noto-cjk"
        "（Debian/Ubuntu: apt-get install fonts-noto-cjk）后重试"
    )


def _lookup() -> CjkFont | None:
    for family in FAMILIES:
        for entry in font_manager.fontManager.ttflist:
            if entry.name == family and entry.weight in (400, "normal", "regular"):
                return CjkFont(family, entry.fname, getattr(entry, "index", 0))
    return None


def rc() -> dict:
    """rcParams for rendering a chart with the CJK font."""
    font = cjk_font()
    return {
        "font.family": [font.family],
        "axes.unicode_minus": False,
        "svg.fonttype": "path",
        "pdf.fonttype": 42,
        "svg.hashsalt": "tracker",
    }


@cache
def _cmap() -> frozenset[int]:
    from fontTools.ttLib import TTCollection, TTFont

    font = cjk_font()
    if font.path.lower().endswith((".ttc", ".otc")):
        collection = TTCollection(font.path, lazy=True)
        try:
            return frozenset(collection.fonts[font.index].getBestCmap())
        finally:
            collection.close()  # else the file is left for the garbage collector to close
    face = TTFont(font.path, lazy=True)
    try:
        return frozenset(face.getBestCmap())
    finally:
        face.close()


def missing_glyphs(text: str) -> set[str]:
    """Characters of ``text`` (other than whitespace) that the CJK font cannot draw."""
    covered = _cmap()
    return {ch for ch in text if not ch.isspace() and ord(ch) not in covered}
