"""The quarterly review as a PDF: A4 pages laid out with Figure text, plus the trend chart."""

from __future__ import annotations

import io
from collections.abc import Iterator

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from . import fonts
from .data import MOTTO, TrendChart
from .draw import GREY, INK, RED, figure, fit

A4 = (8.27, 11.69)
TOP, BOTTOM, LEFT = 0.93, 0.06, 0.07
LINE = 0.022


class Pages:
    """Write lines and tables top to bottom, starting a new A4 page when one is full."""

    def __init__(self, footer: str) -> None:
        self.footer = footer
        self.figures: list[Figure] = []
        self.y = 0.0
        self.new_page()

    def new_page(self) -> None:
        fig = Figure(figsize=A4)
        FigureCanvasAgg(fig)
        fig.text(0.5, 0.03, self.footer, ha="center", fontsize=7, color=GREY)
        fig.text(0.93, 0.03, f"第 {len(self.figures) + 1} 页", ha="right", fontsize=7, color=GREY)
        self.figures.append(fig)
        self.y = TOP

    @property
    def fig(self) -> Figure:
        return self.figures[-1]

    def room(self, lines: float) -> None:
        if self.y - lines * LINE < BOTTOM:
            self.new_page()

    def text(self, text: str, size: float = 10, colour: str = INK, bold: bool = False) -> None:
        for line in text.split("\n") or [""]:
            self.room(size / 10)
            self.fig.text(
                LEFT,
                self.y,
                line,
                fontsize=size,
                color=colour,
                fontweight="bold" if bold else "normal",
                va="top",
            )
            self.y -= LINE * size / 10

    def gap(self, lines: float = 0.6) -> None:
        self.y -= LINE * lines

    def table(self, headers: list[str], rows: list[list[str]], widths: list[float]) -> None:
        xs = [LEFT]
        for w in widths[:-1]:
            xs.append(xs[-1] + w)

        def row(values: list[str], bold: bool, colour: str = INK) -> None:
            for x, w, value in zip(xs, widths, values, strict=True):
                self.fig.text(
                    x,
                    self.y,
                    fit(str(value), int(w * 190)),
                    fontsize=8.5,
                    va="top",
                    fontweight="bold" if bold else "normal",
                    color=colour,
                )
            self.y -= LINE * 0.9

        self.room(2)
        row(headers, True, RED)
        for values in rows:
            if self.y - LINE < BOTTOM:
                self.new_page()
                row(headers, True, RED)
            row(values, False)

    def paragraph(self, text: str, cells: int = 80, size: float = 10) -> None:
        for para in text.splitlines() or [""]:
            wrapped = fit(para, cells, lines=max(1, len(para)))
            self.text(wrapped, size)


def review_figures(review, trend: TrendChart | None, stamp: str) -> list[Figure]:
    """Every page of the review (call inside ``matplotlib.rc_context(fonts.rc())``)."""
    q = review.quarter
    pages = Pages(f"{review.unit.name} · {q.key} 季度学习讲评 · {MOTTO}")
    pages.text(f"{review.unit.name} · {q.key} 季度学习讲评", 16, RED, bold=True)
    pages.text("每季一考核、一排名、一通报、一讲评、一兑现", 10, GREY)
    version = "领导版（含未达标名单，仅供关心帮助，不公开通报）" if review.leader else "公开版"
    pages.text(f"{q.start:%Y-%m-%d} 至 {q.end:%Y-%m-%d} · {version} · {stamp}", 8.5, GREY)
    pages.gap()
    pages.text("一考核", 12, bold=True)
    share = f"{review.members_met / review.roster:.0%}" if review.roster else "—"
    pages.text(f"在册党员 {review.roster} 人，达到季度目标 {review.members_met} 人（{share}）。")
    if review.units_met is not None:
        pages.text(f"下级单位 {len(review.units)} 个，人均积分达标 {review.units_met} 个。")
    if review.units:
        pages.gap()
        pages.text("一排名 · 下级单位（人均积分）", 12, bold=True)
        pages.table(
            ["名次", "单位", "成员数", "参与率", "人均积分", "总积分", "变化"],
            [_unit_row(u) for u in review.units],
            [0.07, 0.36, 0.08, 0.09, 0.11, 0.1, 0.07],
        )
    pages.gap()
    listed = len(review.members)
    if review.leader and listed == review.roster:
        title = "一排名 · 党员（全体）"
    elif review.leader:
        title = f"一排名 · 党员（前 {listed} 名，共 {review.roster:,} 人）"
    else:
        title = f"一排名 · 党员（前 {listed} 名）"
    pages.text(title, 12, bold=True)
    if review.leader and listed < review.roster:
        pages.text("每个人的名次见本季度个人学习榜导出表，也可以查看下级单位的讲评。", 9, GREY)
    headers = ["名次", "姓名", "所在单位", "积分", "目标"]
    widths = [0.07, 0.14, 0.4, 0.1, 0.1]
    if review.leader:
        headers.append("达标")
        widths.append(0.07)
    pages.table(headers, [_member_row(r, review.leader) for r in review.members], widths)
    pages.gap()
    pages.text("一通报 · 奖励与扣减", 12, bold=True)
    if len(review.adjustments) < review.adjustments_total:
        shown = f"共 {review.adjustments_total:,} 条，按日期列出前 {len(review.adjustments)} 条"
        pages.text(shown, 9, GREY)
    if review.adjustments:
        pages.table(
            ["日期", "姓名", "分值", "理由"],
            [[f"{a.day:%m-%d}", a.name, f"{a.points:+d}", a.reason] for a in review.adjustments],
            [0.09, 0.14, 0.08, 0.55],
        )
    else:
        pages.text("本季度没有奖励或扣减。", 9, GREY)
    pages.gap()
    pages.text("一讲评", 12, bold=True)
    if review.comment:
        pages.paragraph(review.comment)
        pages.text(f"—— {review.comment_by or ''}", 9, GREY)
    else:
        pages.text("（书记尚未填写讲评）", 9, GREY)
    pages.gap()
    pages.text("一兑现", 12, bold=True)
    if review.awarded:
        pages.text("、".join(f"{name} +{points}" for name, points in review.awarded), 9.5)
    else:
        pages.text("（尚未兑现）", 9, GREY)
    figures = list(pages.figures)
    if trend is not None:
        figures.append(figure(trend))
    return figures


def _unit_row(u: dict) -> list[str]:
    pct = "—" if u["participation"] is None else f"{u['participation']:.0%}"
    avg = "—" if u["avg"] is None else f"{u['avg']:.1f}"
    return [
        str(u["rank"] or "—"),
        u["name"],
        str(u["roster"]),
        pct,
        avg,
        str(u["points"]),
        _change(u["change"]),
    ]


def _member_row(r, leader: bool) -> list[str]:
    row = [str(r.rank), r.name, r.unit_name, str(r.points), str(r.target)]
    if leader:
        row.append("否" if r.below_target else "是")
    return row


def _change(change: int | None) -> str:
    if change is None:
        return "—"
    return f"↑{change}" if change > 0 else f"↓{-change}" if change < 0 else "–"


def render_review(review, trend: TrendChart | None, stamp: str) -> bytes:
    buf = io.BytesIO()
    with matplotlib.rc_context(fonts.rc()):
        figures = review_figures(review, trend, stamp)
        with PdfPages(
            buf,
            metadata={
                "Title": f"{review.unit.name} {review.quarter.key} 季度学习讲评",
                "CreationDate": None,
            },
        ) as pdf:
            for fig in figures:
                pdf.savefig(fig)
    return buf.getvalue()


def review_texts(review, trend: TrendChart | None, stamp: str) -> Iterator[str]:
    with matplotlib.rc_context(fonts.rc()):
        for fig in review_figures(review, trend, stamp):
            fig.canvas.draw()
            for text in fig.findobj(matplotlib.text.Text):
                if text.get_visible() and text.get_text():
                    yield text.get_text()
