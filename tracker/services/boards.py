"""What a viewer sees of a ranking (SPEC §9): leaders all of their subtree; members the top,
their neighbours, and no names below the target unless the organisation chooses otherwise."""

from __future__ import annotations

from dataclasses import dataclass

from tracker.domain.periods import Period, period_of
from tracker.domain.ranking import METRIC_LABELS_ZH, UnitStats, as_number, metric_value
from tracker.models import Member, Unit

from . import access, clock, driver, org_settings, rankings, rosters


@dataclass
class MemberRow:
    rank: int
    change: int | None
    member_id: int | None
    name: str
    unit_name: str
    points: int
    reported_days: int
    target: int
    below_target: bool | None  # None where the viewer may not know
    is_me: bool

    def as_dict(self) -> dict:
        return dict(vars(self))


@dataclass
class MemberBoardView:
    period: Period
    unit: Unit
    full: bool  # the viewer leads this subtree and sees every row
    roster_size: int
    rows: list[MemberRow]
    me: MemberRow | None
    neighbours: list[MemberRow]


LEADER_ROWS = 500  # a leader's board on the page and the API; exports hold every member


def member_board(
    viewer: Member,
    period: Period,
    unit: Unit,
    *,
    limit: int = 20,
    around: int = 2,
    every_row: bool = False,
) -> MemberBoardView:
    """The board as ``viewer`` may see it. Leaders see their subtree's first ``LEADER_ROWS``
    (every member of all but the largest units), or with ``every_row`` every member (exports,
    the quarterly review: the whole roster ranked, seconds at 100,000 members)."""
    full = access.leads_unit(viewer, unit)
    if full and every_row:
        board = rankings.member_board(period, unit)
        cut = rankings.slice_of(board, viewer.id, limit=len(board.standings), around=around)
    else:  # from the subtree roll-ups, without ranking the whole roster
        rows = LEADER_ROWS if full else limit
        cut = rankings.member_slice(period, unit, viewer.id, limit=rows, around=around)
    picked, window = cut.top, cut.window
    ids = [s.member_id for s in {id(s): s for s in [*picked, *window]}.values()]
    # Names and units, and for viewers who do not lead this subtree who chose to appear
    # anonymously and whether names below the target are hidden: one round trip.
    statements = rankings.label_statements(ids, min(period.end, clock.today()))
    if not full:
        statements.append(org_settings.anonymous_statement(ids))
        statements.append(org_settings.value_statement("hide_below_target"))
    names, memberships, *chosen = driver.query_each(statements) if ids else ([], [])
    labels = rankings.labels_from(names, memberships)
    anonymous = org_settings.anonymous_from(chosen[0]) if chosen else set()
    show_low = full or not (chosen and org_settings.value_from(chosen[1], "hide_below_target"))

    def row(s) -> MemberRow:
        target = rankings.period_target(s.active_days)
        below = s.points < target
        is_me = s.member_id == viewer.id
        hidden = below and not show_low and not is_me
        anon = not hidden and not is_me and s.member_id in anonymous
        name, unit_name = labels[s.member_id]
        return MemberRow(
            rank=s.rank,
            change=s.change,
            member_id=None if hidden or anon else s.member_id,
            name="（未公开）" if hidden else org_settings.ANONYMOUS_NAME if anon else name,
            unit_name="" if hidden or anon or unit_name is None else unit_name,
            points=s.points,
            reported_days=s.reported_days,
            target=target,
            below_target=below if (full or is_me) else None,
            is_me=is_me,
        )

    rows = [row(s) for s in picked]
    me = row(cut.me) if cut.me is not None else None
    return MemberBoardView(
        period=period,
        unit=unit,
        full=full,
        roster_size=cut.roster_size,
        rows=rows,
        me=me,
        neighbours=[row(s) for s in window],
    )


def unit_board(viewer: Member, period: Period, parent: Unit, metric: str) -> list[dict]:
    standings = rankings.unit_board(period, parent, metric)
    full = access.leads_unit(viewer, parent)
    elapsed_end = period.elapsed_end(clock.today())
    elapsed = (elapsed_end - period.start).days + 1 if elapsed_end else 0
    per_member_target = rankings.period_target(elapsed)
    out = []
    for s in standings:
        avg = metric_value(s.stats, "avg")
        out.append(
            {
                "unit_id": s.unit.id,
                "name": s.unit.name,
                "kind": s.unit.kind,
                "rank": s.rank,
                "change": s.change,
                "metric": metric,
                "metric_label": METRIC_LABELS_ZH[metric],
                "value": as_number(s.value),
                "roster": s.stats.roster,
                "participants": s.stats.participants,
                "points": s.stats.points,
                "avg": as_number(avg, 2),
                "participation": as_number(metric_value(s.stats, "participation")),
                "activity": as_number(metric_value(s.stats, "activity")),
                "reported_days": s.stats.reported_days,
                "active_days": s.stats.active_days,
                "below_target": (avg is not None and avg < per_member_target) if full else None,
            }
        )
    return out


@dataclass
class PeriodFigures:
    roster: int
    participants: int
    points: int

    @classmethod
    def of(cls, stats: UnitStats) -> PeriodFigures:
        return cls(stats.roster, stats.participants, stats.points)

    @property
    def participation(self) -> float | None:
        return self.participants / self.roster if self.roster else None

    @property
    def average(self) -> float | None:
        return self.points / self.roster if self.roster else None


@dataclass
class UnitSummary:
    this_week: PeriodFigures
    last_week: PeriodFigures
    reported_today: int
    not_reported_count: int
    not_reported_today: list[str]  # names, when few enough to read; the unit's leaders only


NAMES_SHOWN = 200  # beyond this, who has not reported today is a count: open a smaller unit


def unit_summary(viewer: Member, unit: Unit, today) -> UnitSummary:
    """A leader's figures for a unit: this week against last, and today's reports.

    The figures come from the subtree totals and roster stats that unit boards read, not from
    ranking every member: at the root of 100,000 members that took 8 s a dashboard.
    """
    if not access.leads_unit(viewer, unit):
        raise access.Forbidden("只有本单位的负责人可以查看")
    week, day = period_of("week", today), period_of("day", today)
    this_week, last_week, on_day = rankings.unit_figures(
        [week, week.previous(), day], [unit], today
    )[unit.id]
    missing = on_day.roster - on_day.participants
    names = []
    if 0 < missing <= NAMES_SHOWN:
        names = sorted(m.name for m in rankings.member_names(_not_reported(day, unit)).values())
    return UnitSummary(
        this_week=PeriodFigures.of(this_week),
        last_week=PeriodFigures.of(last_week),
        reported_today=on_day.participants,
        not_reported_count=missing,
        not_reported_today=names,
    )


def _not_reported(day: Period, unit: Unit) -> list[int]:
    """Members on the subtree's roster that day without a report of any points."""
    reported = {
        member_id
        for (member_id,) in driver.query(
            "SELECT member_id FROM subtree_points WHERE ancestor_id = ? AND kind = ? "
            "AND period_start = ? AND reported_days > 0",
            [unit.id, day.kind, driver.sql_date(day.start)],
        )
    }
    return sorted({m for m, *_ in rosters.spans(day, unit)} - reported)
