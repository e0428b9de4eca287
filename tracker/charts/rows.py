"""A bar chart's ranks and numbers, one line of text for every bar, drawn by one artist.

A matplotlib ``Text`` is an artist of its own: set up with its font, clip path and box, and
laid out, transformed and drawn one by one. A leader's chart of 40 members has 80 such texts
besides the names, which cost about a third of the chart. ``RowTexts`` places the same texts as
``Text`` with ``ha="left", va="center"`` would (and ``bbox`` for a white box behind each), in
one artist: one transform for all positions and one graphics context, on every backend.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib as mpl
from matplotlib.artist import Artist
from matplotlib.font_manager import FontProperties, fontManager, get_font
from matplotlib.path import Path
from matplotlib.transforms import Bbox, IdentityTransform

from .canvas import height_metrics


@dataclass(frozen=True, slots=True)
class Cell:
    """One bar's text: it starts at ``x`` and is centred on ``y``, both in data units."""

    x: float
    y: float
    text: str
    color: str


class RowTexts(Artist):
    """Texts in an axes' data coordinates, left-aligned and centred on their rows, each on an
    optional box (a face colour with its alpha, and a pad in points, as ``Text``'s ``bbox``).
    Never clipped, like an axes' texts."""

    def __init__(
        self,
        cells: list[Cell],
        *,
        fontsize: float,
        fontweight: str = "normal",
        box: tuple[str, float, float] | None = None,
        zorder: float = 3,
        gid: str | None = None,
    ) -> None:
        super().__init__()
        self.cells = cells
        self.prop = FontProperties(size=fontsize, weight=fontweight)  # rcParams' family
        self.box = box
        self.set_zorder(zorder)
        self.set_gid(gid)
        self.set_clip_on(False)

    def placed(self, renderer) -> list[tuple[float, float, Bbox]]:
        """Each cell's baseline start and its text's box, in display pixels, as ``Text``
        places a single line with ``ha="left", va="center"``."""
        if not self.cells:
            return []
        pixels_per_point = renderer.points_to_pixels(1.0)
        heights = getattr(renderer, "_get_font_height_metrics", None)
        least_ascent, least_descent, _ = (heights and heights(self.prop)) or (None, None, None)
        if least_ascent is None:
            font = get_font(fontManager._find_fonts_by_props(self.prop))
            size = self.prop.get_size_in_points()
            least_ascent, least_descent, _ = height_metrics(font, size, pixels_per_point)
        anchors = self.axes.transData.transform([(c.x, c.y) for c in self.cells])
        out = []
        for (x, y), cell in zip(anchors, self.cells, strict=True):
            width, height, descent = renderer.get_text_width_height_descent(
                cell.text, self.prop, ismath=False
            )
            ascent = max(height - descent, least_ascent)
            descent = max(descent, least_descent)
            bottom = y - (ascent + descent) / 2
            out.append((x, bottom + descent, Bbox.from_bounds(x, bottom, width, ascent + descent)))
        return out

    def extents(self, renderer) -> list[tuple[str, Bbox]]:
        """Each cell's text and its box in display pixels, for tests and tight layouts."""
        placed = self.placed(renderer)
        return [(c.text, box) for c, (_, _, box) in zip(self.cells, placed, strict=True)]

    def get_window_extent(self, renderer=None):
        boxes = [box for _, box in self.extents(renderer or self.figure.canvas.get_renderer())]
        return Bbox.union(boxes) if boxes else Bbox.null()

    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        placed = self.placed(renderer)
        renderer.open_group("rowtexts", gid=self.get_gid())
        gc = renderer.new_gc()
        gc.set_antialiased(True)
        if self.box is not None:
            color, alpha, pad = self.box
            # Text's bbox keeps its pad as a fraction of the font size, to two decimals
            size = self.prop.get_size_in_points()
            pad = round(pad / size, 2) * renderer.points_to_pixels(size)
            face = mpl.colors.to_rgba(color, alpha)
            gc.set_linewidth(0)
            for _, _, text_box in placed:
                box = text_box.padded(pad)
                rectangle = Path(
                    [(box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1)]
                    + [(box.x0, box.y0)],
                    closed=True,
                )
                renderer.draw_path(gc, rectangle, IdentityTransform(), face)
        height = renderer.get_canvas_width_height()[1]
        for (x, y, _), cell in zip(placed, self.cells, strict=True):
            if renderer.flipy():  # texts' y runs downwards on most backends, as Text.draw does
                y = height - y
            gc.set_foreground(cell.color)
            renderer.draw_text(gc, x, y, cell.text, self.prop, 0.0, ismath=False)
        gc.restore()
        renderer.close_group("rowtexts")
        self.stale = False
