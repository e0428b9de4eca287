"""Charts drawn with matplotlib's object API (``Figure``, Agg, no pyplot) into PNG, SVG or PDF."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterator

import matplotlib
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path
from matplotlib.transforms import ScaledTranslation

from . import fonts
from .canvas import Canvas
from .data import MOTTO, Bar, BarChart, TrendChart
from .rows import Cell, RowTexts

FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
RED = "#c0392b"
PALE = "#e8b4ac"
AMBER = "#e69f00"
GREY = "#8a8a8a"
INK = "#333333"
METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None},
    "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
}


def width(text: str) -> int:
    """Display width in half-width cells: a Chinese character counts two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def fit(text: str, cells: int, lines: int = 1) -> str:
    """Wrap ``text`` into at most ``lines`` lines of ``cells`` cells; an ellipsis if cut."""
    out: list[str] = []
    current = ""
    for i, ch in enumerate(text):
        if width(current + ch) > cells:
            if len(out) + 1 == lines:
                rest = text[i:]
                if rest:
                    while current and width(current + "…") > cells:
                        current = current[:-1]
                    current += "…"
                out.append(current)
                return "\n".join(out)
            out.append(current)
            current = ""
        current += ch
    out.append(current)
    return "\n".join(out)


def render(chart: BarChart | TrendChart, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"unknown chart format {fmt!r}; expected one of {', '.join(FORMATS)}")
    with matplotlib.rc_context(fonts.rc()):
        fig = figure(chart)
        buf = io.BytesIO()
        # zlib level 1: the flat colours of a chart compress nearly as well, in less time.
        extra = {"pil_kwargs": {"compress_level": 1}} if fmt == "png" else {}
        fig.savefig(buf, format=fmt, dpi=150, metadata=METADATA[fmt], **extra)
    return buf.getvalue()


# Margins are computed from the texts' sizes instead of by a layout engine: a layout engine
# lays out and measures every text once more before the real draw, about a third of the time
# of a chart. Advance widths of Noto Sans CJK, in em: a CJK character is 1, Latin text is
# narrower (digits about 0.55); 0.6 keeps a margin to spare.
LINE = 1.2  # matplotlib's line spacing
PAD = 0.08  # inches between the picture's edge and its outermost text


def text_inches(text: str, size: float) -> float:
    """The width in inches of the widest line of ``text`` at ``size`` points."""
    em = max(
        (
            sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.6 for ch in line)
            for line in text.split("\n")
        ),
        default=0.0,
    )
    return em * size / 72


def lines_inches(lines: int, size: float) -> float:
    """The height in inches of ``lines`` lines of text at ``size`` points."""
    return lines * size * LINE / 72


def place_axes(fig: Figure, left: float, right: float, top: float, bottom: float) -> None:
    """Set the axes' margins, given in inches."""
    w, h = fig.get_size_inches()
    fig.subplots_adjust(left=left / w, right=1 - right / w, top=1 - top / h, bottom=bottom / h)


def figure(chart: BarChart | TrendChart) -> Figure:
    """The chart's Figure on its Agg canvas (call inside ``matplotlib.rc_context(fonts.rc())``)."""
    fig = trend_figure(chart) if isinstance(chart, TrendChart) else bar_figure(chart)
    Canvas(fig)
    return fig


def warm() -> None:
    """Draw a sample of each chart once, so that a process's first real chart finds the fonts
    open and matplotlib's font lookups cached."""
    bars = [
        Bar("党支部", "某某党委", 100.0, "100", 1, top3=True, below=False),
        Bar("第二党支部", "", 12.5, "12.5%", 4, top3=False, below=True, is_me=True),
    ]
    sample = BarChart(
        "units",
        "学习积分",
        "2026-W01",
        "1月1日—1月7日",
        "平均积分",
        False,
        50.0,
        "目标 50",
        True,
        bars,
        note="说明",
    )
    render(sample, "png")
    render(
        TrendChart(
            "学习积分",
            "党支部",
            "某某党委",
            "积分",
            ["2026-W01", "2026-W02"],
            [10.0, None],
            [12.0, 8.0],
            50.0,
        ),
        "png",
    )


def texts(chart: BarChart | TrendChart) -> Iterator[str]:
    """Every string a chart draws, for the glyph-coverage test."""
    with matplotlib.rc_context(fonts.rc()):
        fig = figure(chart)
        fig.canvas.draw()  # ticks exist only after a draw
        for text in fig.findobj(matplotlib.text.Text):
            if text.get_visible() and text.get_text():
                yield text.get_text()
        for rows in fig.findobj(RowTexts):
            yield from (cell.text for cell in rows.cells if cell.text)


def _rank_text(bar) -> str:
    return "—" if bar.rank is None else str(bar.rank)


def _number_text(bar) -> str:
    return f"{'★ ' if bar.top3 else ''}{bar.text}{'（未达标）' if bar.below else ''}"


def _bar_numbers(chart: BarChart, room: float, span: float, size: float):
    """The right margin (inches), and each row's number start and rank end (data units).

    A bar's number starts just past the bar, or past the rank when the bar is too short to
    hold it (a zero bar). The right margin holds the widest number that runs past the axes;
    it narrows the axes, which moves the numbers, so it is found again until it settles.
    """
    top = span / 1.16
    right = 0.15
    for _ in range(4):
        per_inch = span / (room - right)  # data units in an inch of the axes
        rank_ends = [
            top * 0.008 + (text_inches(_rank_text(b), size) + 2 / 72) * per_inch for b in chart.bars
        ]
        starts = [
            max(b.value, end) + top * 0.01 for b, end in zip(chart.bars, rank_ends, strict=True)
        ]
        overflow = max(
            [
                start / per_inch + text_inches(_number_text(b), size) + 4 / 72 - (room - right)
                for start, b in zip(starts, chart.bars, strict=True)
            ]
            + [0.0]
        )
        needed = max(0.15, overflow + PAD)
        if needed <= right + 1e-3:
            break
        right = needed
    return right, starts, rank_ends


def _stamp(chart) -> str:
    return f"生成于 {chart.generated_at:%Y-%m-%d %H:%M}" if chart.generated_at else ""


def bar_figure(chart: BarChart) -> Figure:
    n = max(len(chart.bars), 1)
    dense = n > 25
    cells = 22 if not dense else 26
    lines = 1 if dense else 2
    row = 0.28 if dense else 0.5
    fig = Figure(figsize=(9, 1.9 + row * n))
    ax = fig.subplots()
    ys = list(range(len(chart.bars)))
    # The bars as one collection, where ``barh`` makes a patch for every bar, set up and drawn
    # one by one; those below target are outlined and hatched by one compound path over them,
    # as Agg hatches a path at a time (a collection of 30 hatched bars took 10 ms, the path
    # takes 2, and the hatching is the same: its pattern is laid from the picture's corner).
    boxes = [
        [(0, y - 0.34), (b.value, y - 0.34), (b.value, y + 0.34), (0, y + 0.34)]
        for y, b in zip(ys, chart.bars, strict=True)
    ]
    ax.add_collection(
        PolyCollection(
            boxes,
            facecolors=[RED if b.top3 else PALE for b in chart.bars],
            edgecolors="none",
            linewidths=0,
            zorder=2,
            gid="bars",
        ),
        autolim=False,
    )
    below = [box for box, b in zip(boxes, chart.bars, strict=True) if b.below]
    if below:
        ax.add_patch(
            PathPatch(
                Path.make_compound_path(*(Path(box + [box[0]], closed=True) for box in below)),
                facecolor="none",
                edgecolor=AMBER,
                linewidth=1.2,
                hatch="///",
                zorder=2,
                gid="bars-below",
            )
        )
    labels = []
    for b in chart.bars:
        name = fit(b.label, cells, lines)
        if b.detail and dense:
            name = f"{fit(b.label, 8)}（{fit(b.detail, cells - 12)}）"
        elif b.detail:
            name = f"{fit(b.label, cells)}\n{fit(b.detail, cells)}"
        labels.append(name)
    fontsize = 8 if dense else 10
    # Names as texts beside the axis rather than tick labels: a tick is five artists, set up
    # and measured for every bar, where a name needs one text.
    ax.set_yticks([])
    # x in axes units, y in data units, then 7 points left: where a tick label stood.
    beside = ax.get_yaxis_transform() + ScaledTranslation(-7 / 72, 0, fig.dpi_scale_trans)
    for y, name, b in zip(ys, labels, chart.bars, strict=True):
        ax.text(
            0,
            y,
            name,
            transform=beside,
            ha="right",
            va="center",
            fontsize=fontsize,
            fontweight="bold" if b.top3 else "normal",
            color="#1f5fa8" if b.is_me else RED if b.top3 else "black",
            gid="bar-label",
        )
    ax.invert_yaxis()
    ax.set_ylim(n - 0.5, -0.5)  # n ≥ 1: an empty board keeps one empty row for its message
    top = max([b.value for b in chart.bars] + [chart.target or 0, 1e-9])
    span = top * 1.16
    ax.set_xlim(0, span)
    if chart.percent:
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    # Left margin: the widest name, the tick and its pad. Right margin: the widest number that
    # runs past the axes. Both are known before the texts are placed, so that a short bar's
    # number can be put clear of its rank.
    left = max([text_inches(t, fontsize) for t in labels] + [0.3]) + 14 / 72 + PAD
    right, starts, rank_ends = _bar_numbers(chart, fig.get_figwidth() - left, span, fontsize - 1)
    # Each bar's rank inside it, and its number past it on a white box: two artists, one for
    # the ranks and one for the numbers, where a Text for each cost a third of a tall chart.
    ax.add_artist(
        RowTexts(
            [
                Cell(
                    top * 0.008,
                    y,
                    _rank_text(b),
                    # white on a top-three bar; a bar too short to hold its rank leaves it on white
                    "white" if b.top3 and b.value >= rank_end else INK,
                )
                for y, b, rank_end in zip(ys, chart.bars, rank_ends, strict=True)
            ],
            fontsize=fontsize - 1,
            fontweight="bold",
            zorder=3,
            gid="bar-ranks",
        )
    )
    ax.add_artist(
        RowTexts(
            [
                Cell(start, y, _number_text(b), RED if b.top3 else INK)
                for y, b, start in zip(ys, chart.bars, starts, strict=True)
            ],
            fontsize=fontsize - 1,
            box=("white", 0.75, 0.6),
            zorder=5,
            gid="bar-numbers",
        )
    )
    handles = [
        Patch(color=RED, label="前三名 ★"),
        Patch(color=PALE, label="其他单位" if chart.kind == "units" else "其他党员"),
    ]
    if chart.target is not None:
        ax.axvline(chart.target, color="#2c7a4b", linestyle="--", linewidth=1.2, zorder=4)
        handles.append(Line2D([], [], color="#2c7a4b", linestyle="--", label=chart.target_text))
    split = _below_split(chart)
    if split is not None:
        ax.axhline(split - 0.5, color=AMBER, linestyle=":", linewidth=1)
    if chart.leader and any(b.below for b in chart.bars):
        handles.append(
            Patch(facecolor="white", edgecolor=AMBER, hatch="///", label="未达标（仅领导可见）")
        )
    ax.legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.9)
    ax.set_xlabel(chart.value_label, fontsize=9)
    ax.grid(axis="x", color="#e5e5e5", zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if not chart.bars:
        ax.text(0.5, 0.5, "本期暂无数据", transform=ax.transAxes, ha="center", color=GREY)
    version = "领导版" if chart.leader else "公开版"
    subtitle = f"{chart.period_key}（{chart.period_span}）· {chart.value_label}排名 · {version}"
    title = f"{chart.heading}\n{subtitle}\n{_stamp(chart)}"
    fig.suptitle(title, fontsize=12, color=INK, y=1 - PAD / fig.get_figheight())
    footer = f"{chart.note}\n{MOTTO}" if chart.note else MOTTO
    fig.supxlabel(footer, fontsize=8, color=GREY, y=PAD / fig.get_figheight())
    # Top: the title. Bottom: tick labels, the axis label and the footer.
    place_axes(
        fig,
        left=left,
        right=right,
        top=lines_inches(title.count("\n") + 1, 12) + 2 * PAD,
        bottom=lines_inches(1, 10)
        + 7 / 72
        + lines_inches(1, 9)
        + 4 / 72
        + lines_inches(footer.count("\n") + 1, 8)
        + 2 * PAD,
    )
    return fig


def _below_split(chart: BarChart) -> int | None:
    """Where a leader's member chart jumps from the top N to the members below target."""
    if chart.kind != "members":
        return None
    for i in range(1, len(chart.bars)):
        before, here = chart.bars[i - 1], chart.bars[i]
        if here.below and here.rank and before.rank and here.rank > before.rank + 1:
            return i
    return None


def trend_figure(chart: TrendChart) -> Figure:
    fig = Figure(figsize=(9, 4.8))
    ax = fig.subplots()
    xs = list(range(len(chart.weeks)))

    def series(values):
        return [float("nan") if v is None else v for v in values]

    ax.plot(
        xs, series(chart.subject_values), marker="o", color=RED, linewidth=2, label=chart.subject
    )
    if chart.parent and chart.parent_values:
        ax.plot(
            xs,
            series(chart.parent_values),
            marker="s",
            color="#4a6fa5",
            linewidth=1.5,
            linestyle="-",
            label=chart.parent,
        )
    if chart.target is not None:
        ax.axhline(
            chart.target,
            color="#2c7a4b",
            linestyle="--",
            linewidth=1.2,
            label=f"每周目标 {chart.target:.0f}",
        )
    for x, v in zip(xs, chart.subject_values, strict=True):
        if v is not None:
            ax.annotate(
                f"{v:.0f}",
                (x, v),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=7,
                color=RED,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 0.3},
            )
    ax.set_xticks(xs, [w.replace("-W", "\n第") + "周" for w in chart.weeks], fontsize=8)
    ax.set_ylabel(chart.value_label)
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color="#e5e5e5")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
    title = f"{chart.heading}\n{_stamp(chart)}"
    fig.suptitle(title, fontsize=13, color=INK, y=1 - PAD / fig.get_figheight())
    fig.supxlabel(MOTTO, fontsize=8, color=GREY, y=PAD / fig.get_figheight())
    values = [v for v in [*chart.subject_values, *(chart.parent_values or [])] if v is not None]
    highest = max([*values, chart.target or 0, 1]) * 1.5  # a tick may pass the highest value
    ticks = text_inches(f"{highest:.0f}", 10)
    place_axes(
        fig,
        left=ticks + 7 / 72 + lines_inches(1, 10) + 4 / 72 + PAD,
        right=0.25,
        top=lines_inches(2, 13) + 2 * PAD,
        bottom=lines_inches(2, 8) + 7 / 72 + lines_inches(1, 8) + 2 * PAD,
    )
    return fig
