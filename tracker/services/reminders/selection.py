"""Who gets which reminder (SPEC §4, §9), and the values their templates are filled with.

The daily nudge goes to members active and on the roster that day who have no report for it,
except those who opted out, are on leave, or chose a later time. Nobody is nudged at weekends
unless the organisation turns that on. The weekly 通报 goes to unit channels with aggregates
and top learners only; the quarterly review reminder goes to unit leaders.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, time

from flask import current_app
from sqlalchemy import func, or_, select

from tracker.domain.periods import Period, period_of
from tracker.extensions import db
from tracker.models import DailyReport, LeaderRole, Member, Membership, PeriodPoints, Unit
from tracker.models.reminders import ReminderChannel, ReminderPrefs
from tracker.reminders import policy
from tracker.services import org, org_settings, rankings


@dataclass
class Recipient:
    member_id: int
    name: str
    unit_id: int
    unit_name: str
    channel: str  # inapp or email
    address: str = ""
    variables: dict = field(default_factory=dict)


@dataclass
class Selection:
    recipients: list[Recipient]
    skipped: dict[str, int]  # reason → count
    held: str = ""  # why nobody is nudged (weekend), if so


def _prefs(member_ids: list[int]) -> dict[int, ReminderPrefs]:
    rows: dict[int, ReminderPrefs] = {}
    for i in range(0, len(member_ids), 5_000):
        chunk = member_ids[i : i + 5_000]
        for p in db.session.execute(
            select(ReminderPrefs).where(ReminderPrefs.member_id.in_(chunk))
        ).scalars():
            rows[p.member_id] = p
    return rows


def unreported(day: date) -> list[tuple[int, str, int, str]]:
    """(member, name, unit, unit name) of members on the roster on ``day`` without a report."""
    reported = select(DailyReport.id).where(
        DailyReport.member_id == Member.id, DailyReport.day == day
    )
    rows = db.session.execute(
        select(Member.id, Member.name, Unit.id, Unit.name)
        .join(Membership, Membership.member_id == Member.id)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(
            Member.active_from <= day,
            or_(Member.active_to.is_(None), Member.active_to >= day),
            Membership.valid_from <= day,
            or_(Membership.valid_to.is_(None), Membership.valid_to >= day),
            ~reported.exists(),
        )
        .order_by(Member.id)
    )
    return [tuple(r) for r in rows]


def daily(day: date, at: time | None) -> Selection:
    """The daily nudge for ``day`` as of ``at`` (None: everyone whose time comes that day)."""
    config = current_app.config
    skipped: dict[str, int] = defaultdict(int)
    if policy.is_weekend(day) and not config["REMINDERS_ON_WEEKENDS"]:
        return Selection([], {}, held="周末不提醒")
    rows = unreported(day)
    prefs = _prefs([r[0] for r in rows])
    default_time = config["NUDGE_TIME"]
    quiet = policy.QuietHours.parse(config["QUIET_HOURS"])
    at = at or quiet.last_minute_before()
    target = config["DAILY_TARGET"]
    week = period_of("week", day)
    week_points = _week_points([r[0] for r in rows], week)
    ranks = _UnitRanks(week, day)
    out: list[Recipient] = []
    for member_id, name, unit_id, unit_name in rows:
        p = prefs.get(member_id)
        if p is not None and p.nudge_opt_out:
            skipped["已关闭提醒"] += 1
            continue
        if p is not None and policy.on_leave(day, p.leave_from, p.leave_to):
            skipped["请假中"] += 1
            continue
        if not policy.nudge_due(p.nudge_time if p else None, default_time, at):
            skipped["未到所选时间"] += 1
            continue
        channel, address = "inapp", ""
        if p is not None and p.channel == "email" and p.email:
            channel, address = "email", p.email
        out.append(
            Recipient(
                member_id,
                name,
                unit_id,
                unit_name,
                channel,
                address,
                {
                    "name": name,
                    "points": 0,
                    "target": target,
                    "gap": target,
                    "unit": unit_name,
                    "unit_rank": ranks.rank(unit_id),
                    "week_points": week_points.get(member_id, 0),
                    "date": day.isoformat(),
                },
            )
        )
    return Selection(out, dict(skipped))


def _week_points(member_ids: list[int], week: Period) -> dict[int, int]:
    out: dict[int, int] = {}
    for i in range(0, len(member_ids), 5_000):
        chunk = member_ids[i : i + 5_000]
        out.update(
            db.session.execute(
                select(PeriodPoints.member_id, func.sum(PeriodPoints.points))
                .where(
                    PeriodPoints.kind == "week",
                    PeriodPoints.period_start == week.start,
                    PeriodPoints.member_id.in_(chunk),
                )
                .group_by(PeriodPoints.member_id)
            ).all()
        )
    return out


class _UnitRanks:
    """A unit's rank among its siblings, one board per parent, when unit rankings are on."""

    def __init__(self, period: Period, today: date) -> None:
        self.period, self.today = period, today
        self.enabled = org_settings.value("unit_rankings_enabled")
        self.cache: dict[int, dict[int, rankings.UnitStanding]] = {}

    def standing(self, unit: Unit) -> rankings.UnitStanding | None:
        if not self.enabled or unit.parent_id is None:
            return None
        if unit.parent_id not in self.cache:
            parent = org.get_unit(unit.parent_id)
            board = rankings.unit_board(self.period, parent, "avg", today=self.today)
            self.cache[unit.parent_id] = {s.unit.id: s for s in board}
        return self.cache[unit.parent_id].get(unit.id)

    def rank(self, unit_id: int) -> int | None:
        unit = org.get_unit(unit_id)
        standing = self.standing(unit) if unit else None
        return standing.rank if standing else None


def unit_summary(unit: Unit, period: Period, today: date, ranks: _UnitRanks) -> dict:
    """Aggregates and top learners of a unit's subtree: never a list of who fell short."""
    board = rankings.member_board(period, unit, today=today)
    roster = len(board.standings)
    total = sum(s.points for s in board.standings)
    participants = sum(1 for s in board.standings if s.reported_days > 0)
    top_ids = [s.member_id for s in board.standings[:3] if s.points > 0]
    names = rankings.member_names(top_ids)
    anonymous = org_settings.anonymous_among(top_ids)  # the 通报 is read by other members
    standing = ranks.standing(unit)
    days = period.days if period.elapsed_end(today) == period.end else 0
    return {
        "unit": unit.name,
        "rank": standing.rank if standing else None,
        "change": standing.change if standing else None,
        "average": f"{total / roster:.1f}" if roster else "0",
        "participation": f"{participants * 100 // roster}%" if roster else "0%",
        "total": total,
        "roster": roster,
        "target": rankings.period_target(days or period.days),
        "top": [
            {
                "name": org_settings.ANONYMOUS_NAME
                if s.member_id in anonymous
                else names[s.member_id].name,
                "points": s.points,
            }
            for s in board.standings[:3]
            if s.member_id in top_ids
        ],
    }


def weekly(day: date) -> tuple[Period, list[tuple[ReminderChannel, Unit, dict]]]:
    """The 通报 of the week before ``day``'s week, one per enabled unit channel."""
    week = period_of("week", day).previous()
    if not org_settings.value("weekly_bulletin_enabled"):
        return week, []
    root = org.root_unit()
    ranks = _UnitRanks(week, day)
    out = []
    for channel in db.session.execute(
        select(ReminderChannel)
        .where(ReminderChannel.enabled, ReminderChannel.kind != "inapp")
        .order_by(ReminderChannel.id)
    ).scalars():
        unit = org.get_unit(channel.unit_id) if channel.unit_id else root
        if unit is None:
            continue
        variables = unit_summary(unit, week, day, ranks)
        variables["week"] = week.key
        out.append((channel, unit, variables))
    return week, out


def quarterly(day: date) -> tuple[Period, list[Recipient]]:
    """The review reminder for the quarter before ``day``'s, to each leader for each unit led."""
    quarter = period_of("quarter", day).previous()
    ranks = _UnitRanks(quarter, day)
    rows = db.session.execute(
        select(Member, Unit)
        .join(LeaderRole, LeaderRole.member_id == Member.id)
        .join(Unit, Unit.id == LeaderRole.unit_id)
        .where(
            Member.active_from <= day,
            or_(Member.active_to.is_(None), Member.active_to >= day),
        )
        .order_by(Member.id, Unit.id)
    ).all()
    prefs = _prefs([m.id for m, _ in rows])
    out = []
    for member, unit in rows:
        p = prefs.get(member.id)
        if p is not None and policy.on_leave(day, p.leave_from, p.leave_to):
            continue
        summary = unit_summary(unit, quarter, day, ranks)
        channel, address = "inapp", ""
        if p is not None and p.channel == "email" and p.email:
            channel, address = "email", p.email
        out.append(
            Recipient(
                member.id,
                member.name,
                unit.id,
                unit.name,
                channel,
                address,
                {
                    "name": member.name,
                    "unit": unit.name,
                    "quarter": quarter.key,
                    "average": summary["average"],
                    "participation": summary["participation"],
                    "rank": summary["rank"],
                },
            )
        )
    return quarter, out
