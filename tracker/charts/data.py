"""What each chart shows, built from the rankings and the privacy-aware boards.

A chart is data first (these dataclasses), drawn second (``render``): tests compare the data
with the rankings, and the ETag is a hash of the data, so an unchanged board is never redrawn.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from tracker.domain.periods import Period, period_of
from tracker.domain.ranking import METRIC_LABELS_ZH
from tracker.extensions import db
from tracker.models import Member, PeriodPoints, Unit
from tracker.services import access, boards, clock, org, rankings

VERSION = 1  # bump when the drawing changes, so cached charts are fetched again
MOTTO = "排名仅用于激励学习，不作考核依据"
PERCENT_METRICS = ("participation", "activity")


@dataclass(frozen=True)
class Desk:
    """A viewer without a login (CLI, scheduler): a leader of everything, or the public."""

    id: int = 0
    is_admin: bool = False


LEADER = Desk(is_admin=True)
PUBLIC = Desk()


@dataclass
class Bar:
    label: str
    detail: str  # a second, smaller line (a member's unit)
    value: float  # drawn length; 0 for units with nobody on the roster
    text: str  # the number printed at the bar's end
    rank: int | None
    top3: bool
    below: bool  # below target, marked only in the leader's version
    is_me: bool = False


@dataclass
class BarChart:
    kind: str  # "units" or "members"
    heading: str
    period_key: str
    period_span: str
    value_label: str
    percent: bool
    target: float | None
    target_text: str
    leader: bool
    bars: list[Bar]
    note: str = ""
    generated_at: datetime | None = field(default=None, compare=False)


@dataclass
class TrendChart:
    heading: str
    subject: str
    parent: str | None
    value_label: str
    weeks: list[str]
    subject_values: list[float | None]
    parent_values: list[float | None]
    target: float | None
    generated_at: datetime | None = field(default=None, compare=False)


def fingerprint(chart: BarChart | TrendChart) -> str:
    """A hash of everything the chart shows except the time it was drawn."""
    data = asdict(chart)
    data.pop("generated_at", None)
    blob = json.dumps([VERSION, type(chart).__name__, data], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"]))


def _span(period: Period) -> str:
    return f"{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}"


def _fmt(value: float | int | None, percent: bool) -> str:
    if value is None:
        return "—"
    if percent:
        return f"{value * 100:.0f}%"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.1f}"


def _elapsed_days(period: Period) -> int:
    end = period.elapsed_end(clock.today())
    return (end - period.start).days + 1 if end else 0


def unit_chart(viewer, period: Period, parent: Unit, metric: str = "avg") -> BarChart:
    """The 学习报表: the children of ``parent`` ranked by ``metric``, as the unit board has them."""
    rows = boards.unit_board(viewer, period, parent, metric)
    leader = access.leads_unit(viewer, parent)
    percent = metric in PERCENT_METRICS
    bars = [
        Bar(
            label=r["name"],
            detail="",
            value=float(r["value"] or 0),
            text=_fmt(r["value"], percent) if r["rank"] else "无在册党员",
            rank=r["rank"],
            top3=r["rank"] is not None and r["rank"] <= 3,
            below=bool(leader and r["below_target"]),
        )
        for r in rows
    ]
    target = None
    target_text = ""
    if metric == "avg":
        target = float(rankings.period_target(_elapsed_days(period)))
        target_text = f"人均目标 {target:.0f}"
    return BarChart(
        kind="units",
        heading=f"{parent.name} · 单位学习报表",
        period_key=period.key,
        period_span=_span(period),
        value_label=METRIC_LABELS_ZH[metric],
        percent=percent,
        target=target,
        target_text=target_text,
        leader=leader,
        bars=bars,
        generated_at=_now(),
    )


def member_chart(viewer, period: Period, unit: Unit, limit: int = 10) -> BarChart:
    """The top ``limit`` members of a unit; a leader's version adds everyone below target."""
    view = boards.member_board(viewer, period, unit, limit=limit)
    rows = [r for r in view.rows[:limit] if r.member_id is not None]
    note = ""
    if view.full:  # a leader's board: its first rows, and how many are below target in all
        below = [r for r in view.rows[limit:] if r.below_target]
        beyond = len(below) < MAX_BELOW and len(view.rows) < view.roster_size  # more to find
        met = None if beyond else rankings.met_target(period, unit, clock.today())
        if met is None:
            view = boards.member_board(viewer, period, unit, limit=limit, every_row=True)
            below = [r for r in view.rows[limit:] if r.below_target]
            more = len(below) - MAX_BELOW
        else:  # everyone below target, less those among the top rows
            more = view.roster_size - met - sum(1 for r in rows if r.below_target) - MAX_BELOW
        rows += below[:MAX_BELOW]
        if more > 0:
            note = f"另有 {more} 名党员未达标，见导出表"
    target = float(rankings.period_target(_elapsed_days(period)))
    bars = [
        Bar(
            label=r.name,
            detail=r.unit_name if r.unit_name != unit.name else "",
            value=float(r.points),
            text=str(r.points),
            rank=r.rank,
            top3=r.rank <= 3,
            below=bool(view.full and r.below_target),
            is_me=r.is_me,
        )
        for r in rows
    ]
    return BarChart(
        kind="members",
        heading=f"{unit.name} · 个人学习榜",
        period_key=period.key,
        period_span=_span(period),
        value_label="积分",
        percent=False,
        target=target,
        target_text=f"目标 {target:.0f}",
        leader=view.full,
        bars=bars,
        note=note,
        generated_at=_now(),
    )


MAX_BELOW = 30


def _weeks(end_day, count: int) -> list[Period]:
    last = period_of("week", end_day)
    return [period_of("week", last.start - timedelta(weeks=n)) for n in range(count - 1, -1, -1)]


def _unit_averages(weeks: list[Period], units: list[Unit]) -> dict[int, list[float | None]]:
    """Each unit's 人均积分 of each week, from its subtree totals and roster stats, as its
    parent's unit board reads them (ranking every member for each week took 24 rankings a
    chart: about two minutes at the root of 100,000 members)."""
    figures = rankings.unit_figures(weeks, units, clock.today())
    return {
        unit_id: [_round(s.points / s.roster) if s.roster else None for s in stats]
        for unit_id, stats in figures.items()
    }


def _member_points(member: Member, weeks: list[Period]) -> dict:
    rows = db.session.execute(
        select(PeriodPoints.period_start, func.sum(PeriodPoints.points))
        .where(
            PeriodPoints.member_id == member.id,
            PeriodPoints.kind == "week",
            PeriodPoints.period_start.in_([w.start for w in weeks]),
        )
        .group_by(PeriodPoints.period_start)
    )
    return {start: int(points) for start, points in rows}


def unit_trend(unit: Unit, end_day=None, count: int = 12) -> TrendChart:
    """A unit's 人均积分 week by week against its parent's."""
    weeks = _weeks(end_day or clock.today(), count)
    parent = unit.parent
    averages = _unit_averages(weeks, [unit, parent] if parent else [unit])  # one round trip
    return TrendChart(
        heading=f"{unit.name} · 近{count}周人均积分",
        subject=unit.name,
        parent=parent.name if parent else None,
        value_label="人均积分",
        weeks=[w.key for w in weeks],
        subject_values=averages[unit.id],
        parent_values=averages[parent.id] if parent else [],
        target=float(rankings.period_target(7)),
        generated_at=_now(),
    )


def member_trend(member: Member, end_day=None, count: int = 12) -> TrendChart:
    """A member's weekly points against the average of their unit."""
    end_day = end_day or clock.today()
    weeks = _weeks(end_day, count)
    unit = org.current_unit(member, min(end_day, clock.today()))
    points = _member_points(member, weeks)
    return TrendChart(
        heading=f"{member.name} · 近{count}周学习积分",
        subject=member.name,
        parent=f"{unit.name}人均" if unit else None,
        value_label="积分",
        weeks=[w.key for w in weeks],
        subject_values=[float(points.get(w.start, 0)) for w in weeks],
        parent_values=_unit_averages(weeks, [unit])[unit.id] if unit else [],
        target=float(rankings.period_target(7)),
        generated_at=_now(),
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
