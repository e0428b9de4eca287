"""Member and unit rankings (SPEC §2), served from the period roll-ups.

Rosters come from dated memberships: a member is on a subtree's roster for a period when they
were active and belonged to it on at least one day of the period.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import select

from tracker.domain.periods import Period
from tracker.domain.ranking import Ranked, UnitStats, metric_value, rank_change, shared_ranks
from tracker.extensions import db
from tracker.models import Member, SubtreePoints, Unit

from . import clock, driver, org, rosters
from . import standings as standings_service


@dataclass
class Standing:
    member_id: int
    points: int
    reported_days: int
    active_days: int  # days active and belonging to the subtree, elapsed so far
    rank: int
    change: int | None = None


@dataclass
class UnitStanding:
    unit: Unit | org.UnitRow
    stats: UnitStats
    value: object
    rank: int | None
    change: int | None = None


@dataclass
class Board:
    period: Period
    unit: Unit
    standings: list[Standing] = field(default_factory=list)

    def position(self, member_id: int) -> int | None:
        for i, s in enumerate(self.standings):
            if s.member_id == member_id:
                return i
        return None


def _points(period: Period, unit: Unit) -> list[tuple[int, int, int]]:
    """(member, points, reported days) in the subtree, one row per member, from the roll-ups."""
    return [
        tuple(r)
        for r in db.session.execute(
            select(
                SubtreePoints.member_id, SubtreePoints.points, SubtreePoints.reported_days
            ).where(
                SubtreePoints.ancestor_id == unit.id,
                SubtreePoints.kind == period.kind,
                SubtreePoints.period_start == period.start,
            )
        )
    ]


def _member_ranking(period: Period, unit: Unit, today: date) -> list[Standing]:
    active: dict[int, int] = defaultdict(int)
    for member_id, _path, first, last in rosters.spans(period, unit):
        active[member_id] += rosters.elapsed(first, last, period, today)
    totals: dict[int, list[int]] = {m: [0, 0] for m in active}
    for member_id, points, reported in _points(period, unit):
        cell = totals.setdefault(member_id, [0, 0])
        cell[0] += points
        cell[1] += reported
    ranked = shared_ranks([(m, t[0]) for m, t in totals.items()])
    return [
        Standing(r.key, totals[r.key][0], totals[r.key][1], active.get(r.key, 0), r.rank)
        for r in ranked
    ]


def member_board(period: Period, unit: Unit, today: date | None = None) -> Board:
    """Every roster member of the subtree, ranked by points, with rank change."""
    today = today or clock.today()
    standings = _member_ranking(period, unit, today)
    previous = {s.member_id: s.rank for s in _member_ranking(period.previous(), unit, today)}
    for s in standings:
        s.change = rank_change(previous.get(s.member_id), s.rank)
    return Board(period, unit, standings)


def member_slice(
    period: Period,
    unit: Unit,
    member_id: int | None,
    *,
    limit: int = 20,
    around: int = 2,
    today: date | None = None,
) -> standings_service.Slice:
    """The board's top ``limit``, a member's row and ``around`` neighbours each side.

    Read from the subtree roll-ups without ranking the whole roster; the rows are the ones
    ``member_board`` holds.
    """
    today = today or clock.today()
    return standings_service.member_slice(
        period, unit, member_id, limit=limit, around=around, today=today
    )


def slice_of(
    board: Board, member_id: int | None, *, limit: int, around: int
) -> standings_service.Slice:
    """The top ``limit`` of a whole board, and a member's row with ``around`` each side."""
    i = board.position(member_id) if member_id is not None else None
    rows = board.standings
    return standings_service.Slice(
        roster_size=len(rows),
        top=rows[:limit],
        me=rows[i] if i is not None else None,
        window=rows[max(0, i - around) : i + around + 1] if i is not None else [],
    )


def unit_board(
    period: Period, parent: Unit, metric: str = "avg", today: date | None = None
) -> list[UnitStanding]:
    """The children of ``parent`` ranked by a metric; empty rosters last, unranked."""
    today = today or clock.today()
    children = org.child_rows(parent.id)
    stats, before = _unit_stats([period, period.previous()], children, today)
    current = _unit_ranking(stats, children, metric)
    previous = {r.key: r.rank for r in _rank_units(before, metric)}
    for standing in current:
        standing.change = rank_change(previous.get(standing.unit.id), standing.rank)
    return current


def unit_figures(
    periods: list[Period], units: list[Unit], today: date
) -> dict[int, list[UnitStats]]:
    """Each unit's own stats for each period (roster, points, participants), as its parent's
    board reads them: from the subtree totals and roster stats, for all the units at once."""
    stats = _unit_stats(periods, units, today)
    return {u.id: [by_unit[u.id] for by_unit in stats] for u in units}


def sibling_ranks(
    period: Period, children: dict[int, list[Unit]], today: date, metric: str = "avg"
) -> dict[int, int | None]:
    """Each unit's rank among its siblings (``children``: each parent's children in board
    order), as each parent's ``unit_board`` ranks them, from one read of every unit's stats.
    The daily reminders ranked each parent's children with reads of their own, rosters
    included: on PostgreSQL, for a province, 5.5-6.9 s the first time in a day, now 1.8-2.2 s."""
    everyone = [u for kids in children.values() for u in kids]
    (stats,) = _unit_stats([period], everyone, today)
    ranks: dict[int, int | None] = {}
    for kids in children.values():
        ranked = _unit_ranking({u.id: stats[u.id] for u in kids}, kids, metric)
        ranks.update({s.unit.id: s.rank for s in ranked})
    return ranks


def _unit_ranking(
    stats: dict[int, UnitStats], children: list[Unit], metric: str
) -> list[UnitStanding]:
    by_id = {u.id: u for u in children}
    return [
        UnitStanding(by_id[r.key], stats[r.key], r.value, r.rank)
        for r in _rank_units(stats, metric)
    ]


def _rank_units(stats: dict[int, UnitStats], metric: str) -> list[Ranked]:
    order = {unit_id: i for i, unit_id in enumerate(stats)}
    return shared_ranks(
        [(unit_id, metric_value(s, metric)) for unit_id, s in stats.items()],
        tie_break=order.__getitem__,
    )


def _unit_stats(
    periods: list[Period], children: list[Unit], today: date
) -> list[dict[int, UnitStats]]:
    """The children's stats for each period, from their subtree totals and rosters: every
    statement in one round trip on PostgreSQL (``driver.query_each``)."""
    if not children:
        return [{} for _ in periods]
    units, unit_ids = driver.one_of("ancestor_id", [c.id for c in children])
    statements = []
    for period in periods:
        statements.append(
            (
                "SELECT ancestor_id, points, reported_days, participants FROM subtree_totals "
                f"WHERE {units} AND kind = ? AND period_start = ?",
                [*unit_ids, period.kind, driver.sql_date(period.start)],
            )
        )
        statements.append(rosters.roster_statement(period, children, today))
    results = driver.query_each(statements)
    out = []
    rosters_each = rosters.roster_stats_each(periods, children, today, rows_each=results[1::2])
    for totals_rows, roster in zip(results[::2], rosters_each, strict=True):
        totals = {unit_id: (p, r, n) for unit_id, p, r, n in totals_rows}
        stats = {}
        for c in children:
            points, reported, participants = totals.get(c.id, (0, 0, 0))
            stats[c.id] = UnitStats(
                unit_id=c.id,
                roster=roster[c.id][0],
                points=points,
                participants=participants,
                reported_days=reported,
                active_days=roster[c.id][1],
            )
        out.append(stats)
    return out


def met_target(period: Period, unit: Unit, today: date) -> int | None:
    """How many roster members of the subtree have met their target for the period so far
    (points at least the daily target times their days on the roster), as ranking every
    member counts them, without ranking them: 100,000 members took 3.5 s.

    Everyone on the roster since the period began shares one target, so the score counts say
    how many of all members reach it; only those who joined, left, moved or retired during
    the period are looked at one by one. None before the period has begun, or with no daily
    target (everyone's target is zero): rank them instead.
    """
    end = period.elapsed_end(today)
    target = period_target(rosters.elapsed(period.start, period.end, period, today))
    if end is None or target <= 0:
        return None
    met = standings_service.above_counts(period, unit, [target - 1], today)[target - 1]
    partial = rosters.partial_members(period, unit, end)
    active: dict[int, int] = defaultdict(int)  # on the roster: a day active in the subtree
    for member_id, first, last in rosters.member_spans(period, unit, partial):
        active[member_id] += rosters.elapsed(first, last, period, today)
    points = standings_service.points_of(period, unit, list(active))
    daily = period_target(1)  # asked once: the settings are a proxy lookup each time
    for member_id, days in active.items():
        held = points.get(member_id, 0)
        met += (held >= daily * days) - (held >= target)
    return met


def period_target(days: int) -> int:
    return current_app.config["DAILY_TARGET"] * days


def member_names(member_ids: list[int]) -> dict[int, Member]:
    if not member_ids:
        return {}
    return {
        m.id: m
        for m in db.session.execute(select(Member).where(Member.id.in_(member_ids))).scalars()
    }


def label_statements(member_ids: list[int], day: date) -> list[tuple[str, list]]:
    """Two short driver statements for each member's name and unit name on ``day`` (or their
    last unit, for members who left before it), which every board view shows; the caller
    runs them beside its own (``driver.query_each``) and reads them with ``labels_from``."""
    members, ids = driver.one_of("id", member_ids)
    of_members, of_ids = driver.one_of("ms.member_id", member_ids)
    return [
        (f"SELECT id, name FROM member WHERE {members}", ids),
        (
            "SELECT ms.member_id, u.name, ms.valid_from FROM membership ms "
            f"JOIN unit u ON u.id = ms.unit_id WHERE {of_members} "
            "AND ms.valid_from <= ? ORDER BY ms.member_id, ms.valid_from",
            [*of_ids, driver.sql_date(day)],
        ),
    ]


def labels_from(names: list[tuple], memberships: list[tuple]) -> dict[int, tuple[str, str | None]]:
    """Each member's (name, unit name) from the rows of ``label_statements``."""
    units: dict[int, str] = {}
    for member_id, unit_name, _ in memberships:
        units[member_id] = unit_name  # the latest that began on or before the day wins
    return {member_id: (name, units.get(member_id)) for member_id, name in names}
