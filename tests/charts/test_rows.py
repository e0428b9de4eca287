"""A bar chart's ranks and numbers, drawn by one artist, land where matplotlib's Text puts the
same texts, with the same boxes, on every backend."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from tracker.charts import canvas, draw, fonts
from tracker.charts.rows import Cell, RowTexts

CELLS = [
    Cell(1.0, 0, "★ 137.4（未达标）", draw.RED),
    Cell(5.5, 1, "12", draw.INK),
    Cell(0.2, 2, "第一党支部 gjp", draw.INK),
    Cell(7.0, 3, "—", "white"),
]
BOX = {"facecolor": "white", "edgecolor": "none", "alpha": 0.75, "pad": 0.6}


def figure(with_rows: bool, with_texts: bool) -> Figure:
    fig = Figure(figsize=(4, 3), dpi=150)
    canvas.Canvas(fig)
    ax = fig.subplots()
    ax.set_xlim(0, 10)
    ax.set_ylim(3.5, -0.5)
    ax.barh(range(4), [9, 9, 9, 9], color="#8a8a8a")  # for the boxes to show against
    if with_texts:
        for c in CELLS:
            ax.text(c.x, c.y, c.text, va="center", fontsize=9, color=c.color, bbox=BOX, zorder=5)
    if with_rows:
        ax.add_artist(RowTexts(CELLS, fontsize=9, box=("white", 0.75, 0.6), zorder=5))
    return fig


def test_each_text_and_its_box_are_where_a_text_would_be():
    with matplotlib.rc_context(fonts.rc()):
        fig = figure(with_rows=True, with_texts=True)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        rows = next(iter(fig.findobj(RowTexts)))
        extents = rows.extents(renderer)
        assert [text for text, _ in extents] == [c.text for c in CELLS]
        for t, (_, box) in zip(fig.axes[0].texts, extents, strict=True):
            assert np.allclose(box.bounds, t.get_window_extent(renderer).bounds, atol=0.01)
            patch = t.get_bbox_patch().get_window_extent(renderer)
            pad = round(0.6 / 9, 2) * 9 * 150 / 72  # matplotlib keeps two decimals of the size
            assert np.allclose(box.padded(pad).bounds, patch.bounds, atol=0.01)


def pixels(fig: Figure) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)


def test_the_texts_draw_as_texts_would():
    with matplotlib.rc_context(fonts.rc()):
        ours = pixels(figure(with_rows=True, with_texts=False))
        theirs = pixels(figure(with_rows=False, with_texts=True))
        bare = pixels(figure(with_rows=False, with_texts=False))
    inked = np.abs(theirs - bare).max(axis=2) > 0
    differ = np.abs(ours - theirs).max(axis=2) > 0
    assert inked.sum() > 2000  # the texts and their boxes are really drawn
    assert differ.sum() <= inked.sum() * 0.005, (differ.sum(), inked.sum())  # pixel-exact today


def test_the_texts_are_drawn_in_svg_and_pdf():
    with matplotlib.rc_context(fonts.rc()):
        fig = figure(with_rows=True, with_texts=False)
        fig.axes[0].artists[0].set_gid("row-texts")
        svg, pdf = io.BytesIO(), io.BytesIO()
        fig.savefig(svg, format="svg")
        fig.savefig(pdf, format="pdf")
        bare = io.BytesIO()
        figure(with_rows=False, with_texts=False).savefig(bare, format="svg")
    assert b'id="row-texts"' in svg.getvalue()
    assert len(svg.getvalue()) > len(bare.getvalue()) + 2000  # the glyphs' paths
    assert pdf.getvalue().startswith(b"%PDF")
