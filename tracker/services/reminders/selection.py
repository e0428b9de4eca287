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
from tracker.domain.ranking import UnitStats
from tracker.extensions import db
from tracker.models import DailyReport, LeaderRole, Member, Membership, PeriodPoints, Unit
from tracker.models.reminders import ReminderChannel, ReminderPrefs
from tracker.reminders import policy
from tracker.services import collector, org, org_settings, rankings


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


def _unreported_query(day: date):
    """Members on the roster on ``day`` without a report: (member, name, unit, unit name)."""
    reported = select(DailyReport.id).where(
        DailyReport.member_id == Member.id, DailyReport.day == day
    )
    return (
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


@collector.paused()
def daily(day: date, at: time | None) -> Selection:
    """The daily nudge for ``day`` as of ``at`` (None: everyone whose time comes that day).

    One query reads each candidate with their preferences and the week's points, so the
    selection costs a pass over the roster, not a query per member.
    """
    config = current_app.config
    skipped: dict[str, int] = defaultdict(int)
    if policy.is_weekend(day) and not config["REMINDERS_ON_WEEKENDS"]:
        return Selection([], {}, held="周末不提醒")
    default_time = config["NUDGE_TIME"]
    quiet = policy.QuietHours.parse(config["QUIET_HOURS"])
    at = at or quiet.last_minute_before()
    default_due = policy.nudge_due(None, default_time, at)
    target = config["DAILY_TARGET"]
    week = period_of("week", day)
    # The week's points summed once and joined, not looked up for each member: planned on
    # statistics from before the week had rows (a Monday's, or a server whose autovacuum
    # lags), PostgreSQL looked each member up by filtering the week's whole range, 2.6 s
    # for 97,000 members and a week of 200 rows, a pass over the week for every member.
    week_points = (
        select(PeriodPoints.member_id, func.sum(PeriodPoints.points).label("points"))
        .where(PeriodPoints.kind == "week", PeriodPoints.period_start == week.start)
        .group_by(PeriodPoints.member_id)
        .subquery()
    )
    query = (
        _unreported_query(day)
        .outerjoin(ReminderPrefs, ReminderPrefs.member_id == Member.id)
        .outerjoin(week_points, week_points.c.member_id == Member.id)
        .add_columns(
            ReminderPrefs.member_id,
            ReminderPrefs.nudge_opt_out,
            ReminderPrefs.leave_from,
            ReminderPrefs.leave_to,
            ReminderPrefs.nudge_time,
            ReminderPrefs.channel,
            ReminderPrefs.email,
            func.coalesce(week_points.c.points, 0),
        )
    )
    ranks = _UnitRanks(week, day)
    out: list[Recipient] = []
    for (
        member_id,
        name,
        unit_id,
        unit_name,
        has_prefs,
        opt_out,
        leave_from,
        leave_to,
        nudge_time,
        channel,
        email,
        points,
    ) in db.session.execute(query):
        if has_prefs is not None:
            if opt_out:
                skipped["已关闭提醒"] += 1
                continue
            if policy.on_leave(day, leave_from, leave_to):
                skipped["请假中"] += 1
                continue
        due = policy.nudge_due(nudge_time, default_time, at) if nudge_time else default_due
        if not due:
            skipped["未到所选时间"] += 1
            continue
        by_email = has_prefs is not None and channel == "email" and email
        out.append(
            Recipient(
                member_id,
                name,
                unit_id,
                unit_name,
                "email" if by_email else "inapp",
                email if by_email else "",
                {
                    "name": name,
                    "points": 0,
                    "target": target,
                    "gap": target,
                    "unit": unit_name,
                    "unit_rank": ranks.rank(unit_id),
                    "week_points": int(points),
                    "date": day.isoformat(),
                },
            )
        )
    return Selection(out, dict(skipped))


class _UnitRanks:
    """A unit's rank among its siblings, one board per parent, when unit rankings are on."""

    def __init__(self, period: Period, today: date) -> None:
        self.period, self.today = period, today
        self.enabled = org_settings.value("unit_rankings_enabled")
        self.cache: dict[int, dict[int, rankings.UnitStanding]] = {}
        self.ranks: dict[int, int | None] | None = None  # unit → rank, for the daily nudge

    def standing(self, unit: Unit) -> rankings.UnitStanding | None:
        if not self.enabled or unit.parent_id is None:
            return None
        if unit.parent_id not in self.cache:
            parent = org.get_unit(unit.parent_id)
            board = rankings.unit_board(self.period, parent, "avg", today=self.today)
            self.cache[unit.parent_id] = {s.unit.id: s for s in board}
        return self.cache[unit.parent_id].get(unit.id)

    def rank(self, unit_id: int) -> int | None:
        """The rank alone (no change against the last period): every sibling's at once."""
        if not self.enabled:
            return None
        if self.ranks is None:  # the tree, and every unit's rank, read once
            children: dict[int, list[Unit]] = defaultdict(list)
            units = db.session.execute(select(Unit).order_by(Unit.position, Unit.id)).scalars()
            for u in units:
                if u.parent_id is not None:
                    children[u.parent_id].append(u)
            self.ranks = rankings.sibling_ranks(self.period, children, self.today)
        return self.ranks.get(unit_id)


def unit_summary(
    unit: Unit,
    period: Period,
    today: date,
    ranks: _UnitRanks,
    stats: UnitStats,
) -> dict:
    """Aggregates and top learners of a unit's subtree: never a list of who fell short.

    From the subtree totals, roster stats and the board's top three, as the dashboard reads
    them: ranking every member for each unit made the quarterly reminder to the leaders of a
    province's units rank its members once for every level above them. ``stats``: the unit's,
    read beside other units' (``_figures``).
    """
    roster, total, participants = stats.roster, stats.points, stats.participants
    first = rankings.member_slice(period, unit, None, limit=3, around=0, today=today).top
    top_ids = [s.member_id for s in first if s.points > 0]
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
            for s in first
            if s.member_id in top_ids
        ],
    }


def _figures(period: Period, units: list[Unit], today: date) -> dict[int, UnitStats]:
    """The units' figures at once: the rosters of units nested in others are read together.
    Last period's rosters too, which their ranks among their siblings compare with."""
    distinct = list({u.id: u for u in units}.values())
    figures = rankings.unit_figures([period, period.previous()], distinct, today)
    return {unit_id: stats[0] for unit_id, stats in figures.items()}


@collector.paused()
def weekly(day: date) -> tuple[Period, list[tuple[ReminderChannel, Unit, dict]]]:
    """The 通报 of the week before ``day``'s week, one per enabled unit channel."""
    week = period_of("week", day).previous()
    if not org_settings.value("weekly_bulletin_enabled"):
        return week, []
    root = org.root_unit()
    ranks = _UnitRanks(week, day)
    channels = []
    for channel in db.session.execute(
        select(ReminderChannel)
        .where(ReminderChannel.enabled, ReminderChannel.kind != "inapp")
        .order_by(ReminderChannel.id)
    ).scalars():
        unit = org.get_unit(channel.unit_id) if channel.unit_id else root
        if unit is not None:
            channels.append((channel, unit))
    figures = _figures(week, [unit for _, unit in channels], day)
    out = []
    for channel, unit in channels:
        variables = unit_summary(unit, week, day, ranks, figures[unit.id])
        variables["week"] = week.key
        out.append((channel, unit, variables))
    return week, out


@collector.paused()
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
    figures = _figures(quarter, [unit for _, unit in rows], day)
    out = []
    for member, unit in rows:
        p = prefs.get(member.id)
        if p is not None and policy.on_leave(day, p.leave_from, p.leave_to):
            continue
        summary = unit_summary(unit, quarter, day, ranks, figures[unit.id])
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
