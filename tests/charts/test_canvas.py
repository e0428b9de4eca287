"""The charts' canvas draws text as matplotlib's own Agg canvas does, keeps what it laid out,
and writes opaque PNGs without an alpha channel."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from tracker.charts import canvas, draw, fonts

TEXTS = [
    ("第一党支部（机关党委）", 0),
    ("★ 137.4（未达标）", 0),
    ("积分", 90),
    ("2026-W47 第12周 gjpqy", 0),
]


def drawn(canvas_class, text: str, angle: float) -> np.ndarray:
    """The ink (0 paper … 255 black) of one text drawn at the figure's centre."""
    with matplotlib.rc_context(fonts.rc()):
        fig = Figure(figsize=(4, 3), dpi=150)
        canvas_class(fig)
        fig.text(0.5, 0.5, text, rotation=angle, ha="center", va="center", fontsize=11)
        fig.canvas.draw()
        picture = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    return 255 - picture.min(axis=2).astype(int)


def ink_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(ink.max(axis=1) > 64)
    cols = np.flatnonzero(ink.max(axis=0) > 64)
    return rows[0], rows[-1], cols[0], cols[-1]


@pytest.mark.parametrize("text, angle", TEXTS)
def test_a_text_lands_where_matplotlibs_own_canvas_puts_it(text, angle):
    """Placed on whole pixels and hinted as a whole rather than glyph by glyph, a text may
    move or grow by a pixel, two when turned: never more, and it keeps its ink."""
    canvas.kept.clear()
    ours, theirs = drawn(canvas.Canvas, text, angle), drawn(FigureCanvasAgg, text, angle)
    for mine, stock in zip(ink_box(ours), ink_box(theirs), strict=True):
        assert abs(mine - stock) <= (1 if angle == 0 else 2), (ink_box(ours), ink_box(theirs))
    assert ours.sum() == pytest.approx(theirs.sum(), rel=0.08)


def test_a_kept_text_draws_the_same_picture(org, week):
    from tracker import charts

    chart = charts.member_chart(org.admin, week, org.party, 1)
    canvas.kept.clear()
    first = draw.render(chart, "png")
    strings = len(canvas.kept)
    assert strings > 10
    assert draw.render(chart, "png") == first
    assert len(canvas.kept) == strings  # nothing laid out anew
    canvas.kept.clear()
    assert draw.render(chart, "png") == first


def test_kept_texts_stay_within_their_bytes_the_oldest_going_first():
    kept = canvas.Kept(limit=3000)

    def laid(n: int) -> canvas.Laid:
        return canvas.Laid(1.0, 1.0, 0.0, (0.0, 0.0), np.zeros(n, dtype=np.uint8))

    kept.put(("a",), laid(1000))
    kept.put(("b",), laid(1000))
    kept.put(("c",), laid(1000))
    assert kept.get(("a",)) is not None  # a is now the most recently used
    kept.put(("d",), laid(1000))
    assert kept.bytes <= 3000
    assert kept.get(("b",)) is None
    assert all(kept.get((k,)) is not None for k in "acd")


def test_a_chart_png_is_opaque_rgb_without_the_software_stamp(org, week):
    from tracker import charts

    data = draw.render(charts.unit_chart(org.admin, week, org.party, "avg"), "png")
    picture = Image.open(io.BytesIO(data))
    assert picture.mode == "RGB"
    assert "Software" not in picture.info
    assert picture.info["dpi"] == pytest.approx((150, 150), abs=0.5)
    assert picture.size[0] == 9 * 150  # nine inches at 150 dpi


def test_a_chart_png_holds_exactly_the_pixels_drawn(org, week):
    """Written unfiltered by pypng, the picture decodes to the canvas's own pixels."""
    from tracker import charts

    chart = charts.member_chart(org.admin, week, org.party, 1)
    buf = io.BytesIO()
    with matplotlib.rc_context(fonts.rc()):
        fig = draw.figure(chart)
        fig.savefig(buf, format="png", dpi=150, metadata=draw.METADATA["png"])
        drawn = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    decoded = np.asarray(Image.open(io.BytesIO(buf.getvalue())))
    assert decoded.shape == drawn.shape and decoded.dtype == np.uint8
    assert np.array_equal(decoded, drawn)
    assert len(np.unique(drawn.reshape(-1, 3), axis=0)) > 50  # a real chart, not a blank


def test_a_picture_with_text_to_stamp_is_written_as_matplotlib_writes_it(tmp_path):
    path = tmp_path / "stamped.png"
    with matplotlib.rc_context(fonts.rc()):
        fig = Figure(figsize=(2, 1))
        canvas.Canvas(fig)
        fig.text(0.5, 0.5, "盖章")
        fig.savefig(path, format="png", metadata={"Title": "学习积分"})
    with Image.open(path) as picture:
        assert picture.info["Title"] == "学习积分"
        assert picture.info["Software"].startswith("Matplotlib")


def test_a_transparent_picture_keeps_its_alpha():
    buf = io.BytesIO()
    with matplotlib.rc_context(fonts.rc()):
        fig = Figure(figsize=(2, 1))
        canvas.Canvas(fig)
        fig.text(0.5, 0.5, "透明")
        fig.savefig(buf, format="png", transparent=True)
    picture = Image.open(io.BytesIO(buf.getvalue()))
    assert picture.mode == "RGBA"
    assert np.asarray(picture)[0, 0, 3] == 0


def test_each_draw_finds_its_fonts_again():
    """The renderer keeps a font's files for one draw only: drawn again under other rcParams,
    a text takes the font they now name."""
    fig = Figure(figsize=(2, 1))
    canvas.Canvas(fig)
    fig.text(0.1, 0.5, "Agp 2026", fontsize=14)  # the generic family, resolved when drawn
    pictures = []
    for family in (["DejaVu Sans"], [fonts.cjk_font().family]):
        with matplotlib.rc_context({"font.sans-serif": family}):
            fig.canvas.draw()
            pictures.append(np.asarray(fig.canvas.buffer_rgba()).copy())
    assert not np.array_equal(pictures[0], pictures[1])
