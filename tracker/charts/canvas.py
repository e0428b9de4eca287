"""The Agg canvas every chart is drawn on: matplotlib's own, with two costs taken out.

Text. matplotlib 3.11 lays a string out with HarfBuzz and then renders it glyph by glyph from
Python, once to measure it and once more to draw it. Noto Sans CJK's glyphs are CFF outlines,
slow to load, so a leader's chart of 40 members spent about half its time on its texts. Here a
string is laid out and rasterised once, in one FreeType pass (as matplotlib did before 3.11),
and its size and bitmap are kept: the measure and the draw of a text cost one pass, and the
strings charts repeat (ranks, numbers, axis ticks, legends, unit and member names, the motto)
cost none the next time. The bitmaps do not depend on where the text lands: it is placed on
whole pixels. Kept bitmaps are bounded in bytes and the oldest go first.

PNG. A chart's picture is opaque, so its alpha channel is 255 throughout; it is written as
RGB. Pillow's encoder tries several filters on every row and offers no way to choose; pypng
writes each row unfiltered, which for a chart's flat colours compresses as small, in less than
half the time. A picture with text chunks to write, other encoder options or transparency is
written by matplotlib's own canvas.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
import png
from matplotlib import cbook
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.font_manager import fontManager, get_font
from PIL import Image

KEPT_BYTES = 4 * 1024 * 1024  # bitmaps of a few thousand strings


@dataclass(frozen=True, slots=True)
class Laid:
    """A string laid out and rasterised: its size in pixels and its antialiased bitmap."""

    width: float
    height: float
    descent: float
    offset: tuple[float, float]  # where the bitmap starts, relative to the text's origin
    bitmap: np.ndarray


class Kept:
    """Laid-out strings, least recently used first, bounded by their bitmaps' bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.bytes = 0
        self._items: OrderedDict[tuple, Laid] = OrderedDict()
        self._lock = threading.Lock()  # the scheduler may draw in several threads

    def get(self, key: tuple) -> Laid | None:
        with self._lock:
            laid = self._items.get(key)
            if laid is not None:
                self._items.move_to_end(key)
            return laid

    def put(self, key: tuple, laid: Laid) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = laid
            self.bytes += laid.bitmap.nbytes
            while self.bytes > self.limit and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self.bytes -= old.bitmap.nbytes

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.bytes = 0

    def __len__(self) -> int:
        return len(self._items)


kept = Kept(KEPT_BYTES)


# A text's font metrics for its line height, as matplotlib's Text finds them when the renderer
# gives none: the OS/2 table's typographic metrics, else the hhea table's.
HEIGHT_TABLES = (
    ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
    ("hhea", "lineGap", "ascent", "descent"),
)


def height_metrics(font, size: float, pixels_per_point: float) -> tuple:
    """(ascent, descent, line gap) in pixels of ``font`` at ``size`` points, or Nones."""
    for table_name, gap, ascent, descent in HEIGHT_TABLES:
        table = font.get_sfnt_table(table_name)
        if table is not None:
            scale = size * pixels_per_point / font.get_sfnt_table("head")["unitsPerEm"]
            return table[ascent] * scale, -table[descent] * scale, table[gap] * scale
    return None, None, None


class Renderer(RendererAgg):
    """Agg, with text laid out once (``kept``), and each font's files and height metrics
    looked up once a draw rather than for every text: a leader's chart asks for them some
    500 times, and each lookup reads rcParams and builds a key."""

    def __init__(self, width, height, dpi):
        super().__init__(width, height, dpi)
        self._fonts: dict = {}  # FontProperties → its font files, during one draw
        self._heights: dict = {}  # FontProperties → (ascent, descent, line gap), likewise

    def clear(self):
        super().clear()  # a draw starts: rcParams may have changed since the last one
        self._fonts.clear()
        self._heights.clear()

    def _font_paths(self, prop) -> tuple:
        paths = self._fonts.get(prop)
        if paths is None:
            paths = self._fonts[prop] = tuple(fontManager._find_fonts_by_props(prop))
        return paths

    def _get_font_height_metrics(self, prop):
        # (matplotlib's Text asks a renderer for these first, and computes them itself if not)
        metrics = self._heights.get(prop)
        if metrics is None:
            font = get_font(self._font_paths(prop))
            metrics = height_metrics(font, prop.get_size_in_points(), self.dpi / 72)
            self._heights[prop] = metrics
        return metrics

    def _laid(self, s: str, prop) -> Laid:
        paths = self._font_paths(prop)
        key = (
            s,
            paths,
            prop.get_size_in_points(),
            self.dpi,
            get_hinting_flag(),
            mpl.rcParams["text.hinting_factor"],
            mpl.rcParams["text.kerning_factor"],
        )
        laid = kept.get(key)
        if laid is None:
            font = get_font(paths)  # as RendererAgg._prepare_font, with the files found
            font.clear()
            font.set_size(prop.get_size_in_points(), self.dpi)
            font.set_text(s, 0.0, flags=get_hinting_flag())
            w, h = font.get_width_height()
            font.draw_glyphs_to_bitmap(antialiased=True)
            xo, yo = font.get_bitmap_offset()
            laid = Laid(
                w / 64, h / 64, font.get_descent() / 64, (xo / 64, yo / 64), font.get_image()
            )
            kept.put(key, laid)
        return laid

    def get_text_width_height_descent(self, s, prop, ismath):
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        laid = self._laid(s, prop)
        return laid.width, laid.height, laid.descent

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        # Font features and languages need matplotlib's own shaping.
        shaped = mtext is not None and (
            mtext.get_fontfeatures() is not None or mtext.get_language() is not None
        )
        if ismath or shaped or not gc.get_antialiased():
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        laid = self._laid(s, prop)
        # As matplotlib before 3.11: the bitmap's bottom edge on the descent, rotated about the
        # text's anchor, on whole pixels.
        xo, yo = laid.offset
        rad = math.radians(angle)
        x = round(x + xo + laid.descent * math.sin(rad))
        y = round(y + yo + laid.descent * math.cos(rad))
        self._renderer.draw_text_image(laid.bitmap, x, y + 1, angle, gc)


class Canvas(FigureCanvasAgg):
    def get_renderer(self):
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        if self._lastKey != key:
            self.renderer = Renderer(w, h, self.figure.dpi)
            self._lastKey = key
        return self.renderer

    def print_png(self, filename_or_obj, *, metadata=None, pil_kwargs=None, **_):
        # (print_figure also passes the figure's colours and dpi, which it has already set)
        options = dict(pil_kwargs or {})
        level = options.pop("compress_level", 6)
        stamped = {"Software": True, **(metadata or {})}  # matplotlib stamps unless told not
        if (
            any(value is not None for value in stamped.values())
            or options
            or mpl.colors.to_rgba(self.figure.patch.get_facecolor())[3] < 1  # transparent
        ):
            return super().print_png(filename_or_obj, metadata=metadata, pil_kwargs=pil_kwargs)
        FigureCanvasAgg.draw(self)
        w, h = self.get_width_height(physical=True)
        # Pillow's raw encoder drops the alpha channel in one pass, several times as fast as
        # numpy's strided copy.
        picture = Image.frombuffer("RGBA", (w, h), self.buffer_rgba(), "raw", "RGBA", 0, 1)
        pixels = memoryview(picture.tobytes("raw", "RGB"))
        rows = (pixels[y * w * 3 : (y + 1) * w * 3] for y in range(h))
        per_metre = round(self.figure.dpi / 0.0254)
        writer = png.Writer(
            w,
            h,
            greyscale=False,
            bitdepth=8,
            compression=level,
            x_pixels_per_unit=per_metre,
            y_pixels_per_unit=per_metre,
            unit_is_meter=True,
        )
        with cbook.open_file_cm(filename_or_obj, "wb") as fh:
            writer.write_packed(fh, rows)
