"""Every chart draws in every format, every glyph of every label exists in the CJK font, and
5 or 50 rows with long Chinese names keep their labels apart and inside the picture."""

from __future__ import annotations

import gc
import runpy
import warnings
from contextlib import contextmanager
from pathlib import Path

import matplotlib
import pytest

from tracker import charts
from tracker.charts import data, draw, fonts, review_pdf
from tracker.charts.rows import RowTexts
from tracker.services import review


def every_chart(org, week):
    yield charts.unit_chart(org.admin, week, org.party, "avg")
    yield charts.unit_chart(data.PUBLIC, week, org.party, "participation")
    yield charts.unit_chart(org.admin, week, org.party, "total")
    yield charts.member_chart(org.admin, week, org.party, 1)
    yield charts.member_chart(org.m1, week, org.party, 10)
    yield charts.unit_trend(org.b1, week.end)
    yield charts.member_trend(org.m1, week.end)


def assert_covered(text: str) -> None:
    missing = fonts.missing_glyphs(text)
    assert not missing, f"{sorted(missing)} of {text!r} are missing from {fonts.cjk_font()}"


def test_the_font_is_the_installed_noto_sans_cjk():
    font = fonts.cjk_font()
    assert font.family == "Noto Sans CJK SC"
    assert font.path.endswith((".ttc", ".otf", ".ttf"))


def test_the_glyph_check_notices_a_missing_character():
    assert fonts.missing_glyphs("学习报表 2026-W47") == set()
    assert fonts.missing_glyphs("学习\U0001f600") == {"\U0001f600"}


def test_every_label_of_every_chart_has_its_glyphs(org, week):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drawn = 0
        for chart in every_chart(org, week):
            for text in draw.texts(chart):
                assert_covered(text)
                drawn += 1
            charts.render(chart, "png")
        r = review.build(org.admin, org.party, review.parse_quarter("2026-Q4"))
        for text in review_pdf.review_texts(r, charts.unit_trend(org.party), "生成于 今天"):
            assert_covered(text)
            drawn += 1
    glyph_warnings = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert glyph_warnings == []
    assert drawn > 50


@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_charts_render_in_each_format(org, week, fmt, magic):
    body = charts.render(charts.unit_chart(org.admin, week, org.party), fmt)
    assert body.startswith(magic)


def test_the_title_names_the_week_and_the_time_it_was_drawn(org, week):
    chart = charts.unit_chart(org.admin, week, org.party)
    with matplotlib.rc_context(fonts.rc()):
        title = draw.figure(chart)._suptitle.get_text()
    assert "2026-W47" in title and f"生成于 {chart.generated_at:%Y-%m-%d %H:%M}" in title
    assert data.MOTTO in list(draw.texts(chart))


@contextmanager
def drawn(chart):
    """The chart's figure after a real draw, and its renderer (inside the font's rcParams)."""
    with matplotlib.rc_context(fonts.rc()):
        fig = draw.figure(chart)
        fig.canvas.draw()
        yield fig, fig.canvas.get_renderer()


def label_boxes(chart):
    with drawn(chart) as (fig, renderer):
        labels = [t for t in fig.axes[0].texts if t.get_gid() == "bar-label"]
        return [t.get_window_extent(renderer) for t in labels], fig.bbox


@pytest.mark.parametrize("n", [5, 50])
def test_long_unit_names_neither_overlap_nor_leave_the_picture(org, many_units, week, n):
    committee = many_units(n)
    chart = charts.unit_chart(org.admin, week, committee)
    assert len(chart.bars) == n
    boxes, frame = label_boxes(chart)
    assert len(boxes) == n
    for box in boxes:
        assert box.x0 >= frame.x0 - 1 and box.x1 <= frame.x1 + 1
        assert box.y0 >= frame.y0 - 1 and box.y1 <= frame.y1 + 1
    ordered = sorted(boxes, key=lambda b: b.y0)
    for lower, upper in zip(ordered, ordered[1:], strict=False):
        assert lower.y1 <= upper.y0 + 0.5, "two unit labels overlap"


def text_boxes(chart):
    """Every visible text's box after a real draw, with the figure's frame and the axes' box."""
    with drawn(chart) as (fig, renderer):
        ax = fig.axes[0]
        hidden = set()  # labels of ticks beyond the axis limits are kept but never drawn
        for axis, (low, high) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            for tick in axis.get_major_ticks():
                if not min(low, high) <= tick.get_loc() <= max(low, high):
                    hidden.update({id(tick.label1), id(tick.label2)})
        texts = [
            t
            for t in fig.findobj(matplotlib.text.Text)
            if t.get_visible() and t.get_text().strip() and id(t) not in hidden
        ]
        boxes = {t.get_text(): t.get_window_extent(renderer) for t in texts}
        for rows in fig.findobj(RowTexts):  # the bars' ranks and numbers
            for k, (text, box) in enumerate(rows.extents(renderer)):
                boxes[f"{text} ({rows.get_gid()} {k + 1})"] = box
        return boxes, fig.bbox, fig.axes[0].get_window_extent(renderer)


@pytest.mark.parametrize("n", [1, 5, 50])
def test_margins_hold_every_text_and_keep_titles_off_the_axes(org, many_units, week, n):
    """The margins are computed, not found by a layout engine: nothing may fall off the
    picture, and the title and footer stay clear of the plot."""
    committee = many_units(n)
    made = [
        charts.unit_chart(org.admin, week, committee),
        charts.unit_chart(org.admin, week, org.party, "total"),
        charts.member_chart(org.admin, week, org.party, 10),
        charts.unit_trend(org.b1, week.end),
        charts.member_trend(org.m1, week.end),
    ]
    for chart in made:
        boxes, frame, axes = text_boxes(chart)
        for text, box in boxes.items():
            assert box.x0 >= frame.x0 - 1 and box.x1 <= frame.x1 + 1, f"{text!r} leaves the side"
            assert box.y0 >= frame.y0 - 1 and box.y1 <= frame.y1 + 1, f"{text!r} leaves the picture"
        title = boxes[next(t for t in boxes if t.startswith(chart.heading))]
        footer = boxes[next(t for t in boxes if t.endswith(data.MOTTO))]
        assert title.y0 >= axes.y1, "the title runs into the plot"
        assert footer.y1 <= axes.y0, "the footer runs into the plot"


def test_fit_wraps_by_display_width_and_marks_a_cut():
    assert draw.fit("办公室党支部", 22) == "办公室党支部"
    two = draw.fit("教育科学文化卫生工作委员会党支部", 22, 2)
    assert two == "教育科学文化卫生工作委\n员会党支部"
    cut = draw.fit("市人大常委会教育科学文化卫生工作委员会第1党支部", 12, 1)
    assert cut.endswith("…") and draw.width(cut) <= 12


def test_the_legend_names_the_top_three_and_the_target_line(org, week):
    """Every board with a target shows the dashed line and says what it is, for anyone."""
    for viewer in (org.admin, data.PUBLIC):
        chart = charts.unit_chart(viewer, week, org.party, "avg")
        assert chart.target is not None
        fig = draw.figure(chart)
        ax = fig.axes[0]
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "前三名 ★" in labels
        assert chart.target_text in labels
        assert any(list(line.get_xdata()) == [chart.target] * 2 for line in ax.get_lines())


def test_an_empty_board_draws_its_message_without_warnings(org):
    """A week nobody reported in (or nothing public to show) still makes a clean picture."""
    from tracker.domain.periods import parse_period_key

    empty_week = parse_period_key("2026-W30")
    made = [
        charts.unit_chart(data.PUBLIC, empty_week, org.party, "avg"),
        charts.member_chart(data.PUBLIC, empty_week, org.b2, 10),
    ]
    assert any(not chart.bars for chart in made)
    for chart in made:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert charts.render(chart, "png").startswith(b"\x89PNG")
        if not chart.bars:
            assert "本期暂无数据" in set(draw.texts(chart))


def leaders_chart(values: list[float], target: float) -> data.BarChart:
    """A leader's member chart of members with these points, the first three the top three."""
    bars = [
        data.Bar(
            label=f"党员{i}",
            detail="第一党支部",
            value=v,
            text=f"{v:.0f}",
            rank=i + 1,
            top3=i < 3,
            below=v < target,
        )
        for i, v in enumerate(values)
    ]
    return data.BarChart(
        kind="members",
        heading="测试",
        period_key="2026-W47",
        period_span="11-16 至 11-22",
        value_label="积分",
        percent=False,
        target=target,
        target_text=f"达标线 {target:.0f} 分",
        leader=True,
        bars=bars,
    )


def test_each_bar_is_drawn_its_length_and_those_below_target_hatched():
    values = [480.0, 300.0, 120.0, 4.0, 0.0, 90.0]
    fig = draw.figure(leaders_chart(values, 100.0))
    ax = fig.axes[0]
    (bars,) = [c for c in ax.collections if c.get_gid() == "bars"]
    (below,) = [p for p in ax.patches if p.get_gid() == "bars-below"]

    def spans(polygons) -> dict[int, tuple]:
        """Each rectangle's row, and its ends and height, in data units."""
        out = {}
        for corners in polygons:
            (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
            out[round((y0 + y1) / 2)] = (x0, x1, y1 - y0)
        return out

    drawn_bars = spans(path.vertices for path in bars.get_paths())
    assert sorted(drawn_bars) == list(range(len(values)))
    for y, v in enumerate(values):
        x0, x1, height = drawn_bars[y]
        assert (x0, x1) == (0, v) and height == pytest.approx(0.68)
    colours = [matplotlib.colors.to_hex(c) for c in bars.get_facecolor()]
    assert colours == [draw.RED] * 3 + [draw.PALE] * 3
    # One compound path outlines and hatches the bars below target, each exactly over its bar.
    hatched = spans(below.get_path().to_polygons(closed_only=False))
    assert hatched == {y: drawn_bars[y] for y, v in enumerate(values) if v < 100}
    assert below.get_hatch() == "///" and below.get_facecolor()[3] == 0
    assert matplotlib.colors.same_color(below.get_edgecolor(), draw.AMBER)


def test_a_short_bars_number_stays_clear_of_its_rank():
    """A member with no points, or a bar thinner than its rank, still shows rank and number
    side by side: the number moves past the rank instead of being printed over it."""
    values = [480.0, 300.0, 120.0, 4.0, 0.0, 0.0]
    chart = leaders_chart(values, 100.0)
    bars = chart.bars
    with drawn(chart) as (fig, renderer):
        frame = fig.bbox
        by_gid = {a.get_gid(): a for a in fig.findobj(RowTexts)}
        ranks = by_gid["bar-ranks"].extents(renderer)
        numbers = by_gid["bar-numbers"].extents(renderer)
        assert len(ranks) == len(numbers) == len(bars)
        colours = [cell.color for cell in by_gid["bar-ranks"].cells]
        for i, (bar, (rank, r), (number, n)) in enumerate(zip(bars, ranks, numbers, strict=True)):
            assert rank == str(bar.rank) and bar.text in number
            assert r.x1 <= n.x0, f"row {i + 1}: the number {number!r} covers its rank"
            assert n.x1 <= frame.x1 + 1, f"row {i + 1}: the number leaves the picture"
            if bar.value == 0:
                assert colours[i] != "white"


def test_a_worker_opens_the_charts_fonts_and_freezes_its_heap_before_its_first_request(org, week):
    """gunicorn.conf.py's hook: after it, drawing every chart opens no font file, and the
    objects alive then are out of the collector's walks."""
    from matplotlib import font_manager

    hooks = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    font_manager._get_font.cache_clear()
    gc.unfreeze()
    try:
        hooks["post_worker_init"](None)
        assert gc.get_freeze_count() > 10_000
        opened = font_manager._get_font.cache_info().misses
        assert opened >= 2  # the regular and the bold face
        for chart in every_chart(org, week):
            draw.render(chart, "png")
        assert font_manager._get_font.cache_info().misses == opened
    finally:
        gc.unfreeze()


def test_a_worker_without_the_cjk_font_still_starts_and_freezes_its_heap(monkeypatch, caplog):
    from tracker import serving

    def missing():
        raise fonts.FontMissing("没有找到中文字体")

    monkeypatch.setattr(fonts, "cjk_font", missing)
    gc.unfreeze()
    try:
        serving.settle()
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
    assert "charts cannot be drawn" in caplog.text
