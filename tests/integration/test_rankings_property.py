"""Roll-up rankings equal a brute-force computation from daily rows (SPEC §2).

For random organisations, rosters (joins, moves, retirements), reports and awards, every
period kind, every subtree and every metric is compared with a day-by-day count written
independently here; rebuilding the roll-ups from scratch must give what the writes built.
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from tests.conftest import TODAY
from tracker.domain.periods import KINDS, period_of
from tracker.domain.ranking import METRICS
from tracker.domain.validation import ReportInput, ValidationError
from tracker.extensions import db
from tracker.models import (
    Adjustment,
    AuditEntry,
    DailyReport,
    LeaderRole,
    Member,
    Membership,
    PeriodPoints,
    QuizResult,
    ReportItem,
    RosterStats,
    SubtreePoints,
    SubtreeScore,
    SubtreeTotals,
    Unit,
)
from tracker.models.fairplay import FairPlayFlag, TokenWrite
from tracker.services import adjustments, org, rankings, rollups, standings, tx
from tracker.services import reports as report_service

START = date(2026, 8, 24)  # a Monday, 13 weeks before TODAY
SPAN = (TODAY - START).days  # 91

day_offset = st.integers(0, SPAN)

organisations = st.fixed_dictionaries(
    {
        # parent index of each unit after the root: a random tree
        "parents": st.lists(st.integers(0, 20), min_size=1, max_size=6),
        "members": st.lists(
            st.fixed_dictionaries(
                {
                    "unit": st.integers(0, 20),
                    "joined": st.integers(0, 40),
                    "left": st.none() | st.integers(30, SPAN + 20),
                    "moves": st.lists(
                        st.tuples(st.integers(1, 60), st.integers(0, 20)), max_size=2
                    ),
                    "rejoin": st.none() | st.integers(0, 50),
                }
            ),
            min_size=1,
            max_size=7,
        ),
        "reports": st.lists(
            st.tuples(st.integers(0, 20), day_offset, st.integers(0, 54)), max_size=40
        ),
        "awards": st.lists(
            st.tuples(st.integers(0, 20), day_offset, st.integers(-5, 10).filter(bool)),
            max_size=6,
        ),
        "probes": st.lists(day_offset, min_size=1, max_size=2),
    }
)


def wipe() -> None:
    # End the read transaction first, as writes do (``tx.write``): roster stats are kept by a
    # connection of their own, and a write on SQLite cannot begin from an older snapshot.
    db.session.commit()
    for model in (
        AuditEntry,
        FairPlayFlag,
        TokenWrite,
        PeriodPoints,
        SubtreePoints,
        SubtreeScore,
        SubtreeTotals,
        RosterStats,
        QuizResult,
        ReportItem,
        DailyReport,
        Adjustment,
        LeaderRole,
        Membership,
    ):
        db.session.execute(delete(model))
    db.session.execute(delete(Member))
    db.session.execute(update(Unit).values(parent_id=None))
    db.session.execute(delete(Unit))
    db.session.commit()


def build(spec) -> tuple[list[Unit], list[Member], Member]:
    with tx.write():
        root = org.add_unit("根", "党组")
        units = [root]
        for i, p in enumerate(spec["parents"]):
            units.append(org.add_unit(f"单位{i}", "支部", units[p % len(units)]))
        admin = org.add_member("管理员", root, START - timedelta(days=400), is_admin=True)
        members = []
        for i, m in enumerate(spec["members"]):
            joined = START + timedelta(days=m["joined"])
            left = START + timedelta(days=m["left"]) if m["left"] is not None else None
            if left is not None and left < joined:
                left = None
            members.append(
                org.add_member(f"党员{i}", units[m["unit"] % len(units)], joined, active_to=left)
            )
    return units, members, admin


def act(spec, units, members, admin) -> None:
    """Reports and awards, interleaved with moves and changes of active dates."""
    todo = []
    for i, (m, off, total) in enumerate(spec["reports"]):
        todo.append((off, 0, i, ("report", m, off, total)))
    for i, (m, off, points) in enumerate(spec["awards"]):
        todo.append((off, 1, i, ("award", m, off, points)))
    for mi, m in enumerate(spec["members"]):
        at = m["joined"]
        for j, (gap, unit) in enumerate(m["moves"]):
            at += gap
            todo.append((at, 2, j, ("move", mi, unit, at)))
        if m["rejoin"] is not None:
            todo.append((SPAN // 2, 3, mi, ("rejoin", mi, m["rejoin"])))
    for _, _, _, op in sorted(todo, key=lambda t: t[:3]):
        kind = op[0]
        if kind == "report":
            member = members[op[1] % len(members)]
            day = START + timedelta(days=op[2])
            try:
                report_service.put(admin, member, day, ReportInput(total=op[3]))
            except ValidationError as e:
                assert set(e.errors) == {"date"}, e.errors  # only days off the roster
        elif kind == "award":
            member = members[op[1] % len(members)]
            try:
                adjustments.give(admin, member, START + timedelta(days=op[2]), op[3], "奖励")
            except ValidationError as e:
                assert set(e.errors) == {"date"}, e.errors
        elif kind == "move":
            member = members[op[1]]
            day = START + timedelta(days=op[3])
            last = max(ms.valid_from for ms in member.memberships)
            if day > last:
                org.move_member(member, units[op[2] % len(units)], day)
        else:  # the member's active dates change after the fact (retired earlier, or rejoined)
            member = members[op[1]]
            new_from = START + timedelta(days=op[2])
            if member.active_to is not None and member.active_to < new_from:
                with pytest.raises(org.OrgError):
                    org.set_active_dates(member, new_from, member.active_to)
            else:
                org.set_active_dates(member, new_from, member.active_to)


class World:
    """Independent, day-by-day facts read straight from the stored rows."""

    def __init__(self) -> None:
        self.units = {u.id: u for u in db.session.execute(select(Unit)).scalars()}
        self.members = list(db.session.execute(select(Member)).scalars())
        self.memberships = list(db.session.execute(select(Membership)).scalars())
        self.reports = {
            (r.member_id, r.day): r.total for r in db.session.execute(select(DailyReport)).scalars()
        }
        self.awards: dict[tuple[int, date], int] = {}
        for a in db.session.execute(select(Adjustment)).scalars():
            self.awards[(a.member_id, a.day)] = self.awards.get((a.member_id, a.day), 0) + a.points

    def unit_of(self, member: Member, day: date) -> Unit | None:
        if day < member.active_from or (member.active_to and day > member.active_to):
            return None
        for ms in self.memberships:
            if (
                ms.member_id == member.id
                and ms.valid_from <= day
                and (ms.valid_to is None or day <= ms.valid_to)
            ):
                return self.units[ms.unit_id]
        return None

    def in_subtree(self, unit: Unit | None, top: Unit) -> bool:
        while unit is not None:
            if unit.id == top.id:
                return True
            unit = self.units.get(unit.parent_id) if unit.parent_id else None
        return False

    def facts(self, period, top: Unit) -> dict[int, dict]:
        out = {}
        for m in self.members:
            days = [
                period.start + timedelta(days=i)
                for i in range(period.days)
                if self.in_subtree(self.unit_of(m, period.start + timedelta(days=i)), top)
            ]
            if not days:
                continue
            out[m.id] = {
                "points": sum(
                    self.reports.get((m.id, d), 0) + self.awards.get((m.id, d), 0) for d in days
                ),
                "reported": sum(1 for d in days if self.reports.get((m.id, d), 0) > 0),
                "active": sum(1 for d in days if d <= TODAY),
            }
        return out

    def met_target(self, period, top: Unit) -> int:
        """Members with points at least the daily target times their days so far."""
        return sum(
            1
            for f in self.facts(period, top).values()
            if f["points"] >= rankings.period_target(f["active"])
        )

    def member_ranks(self, period, top: Unit) -> dict[int, tuple[int, int]]:
        facts = self.facts(period, top)
        return {
            m: (f["points"], 1 + sum(1 for g in facts.values() if g["points"] > f["points"]))
            for m, f in facts.items()
        }

    def unit_values(self, period, parent: Unit, metric: str) -> dict[int, tuple]:
        values = {}
        for child in self.units.values():
            if child.parent_id != parent.id:
                continue
            facts = self.facts(period, child)
            roster = len(facts)
            points = sum(f["points"] for f in facts.values())
            if roster == 0:
                value = None
            elif metric == "avg":
                value = Fraction(points, roster)
            elif metric == "participation":
                value = Fraction(sum(1 for f in facts.values() if f["reported"]), roster)
            elif metric == "activity":
                active = sum(f["active"] for f in facts.values())
                reported = sum(f["reported"] for f in facts.values())
                value = Fraction(reported, active) if active else Fraction(0)
            else:
                value = points
            values[child.id] = value
        ranked = {}
        for uid, v in values.items():
            rank = (
                None
                if v is None
                else 1 + sum(1 for w in values.values() if w is not None and w > v)
            )
            ranked[uid] = (v, rank)
        return ranked


# Slices of rosters of any size: read whole (these small organisations), and as in large
# rosters, where members without points are found in id order, the subtree's or everyone's.
@pytest.mark.parametrize(
    "small, scan", [(200, False), (0, False), (0, True)], ids=["read", "in-subtree", "by-id"]
)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=organisations)
def test_rollup_rankings_equal_brute_force_for_every_period_subtree_and_metric(
    ctx, monkeypatch, small, scan, spec
):
    monkeypatch.setattr(standings, "SMALL_ROSTER", small)
    monkeypatch.setattr(standings, "_scan_pays", lambda *_: standings.Scan(float(scan)))
    monkeypatch.setattr(standings, "GAP_BATCH", 1)  # batches that end between members found
    monkeypatch.setattr(standings, "ID_WINDOW", 2)  # and windows of ids, on PostgreSQL
    wipe()
    units, members, admin = build(spec)
    act(spec, units, members, admin)
    db.session.expire_all()
    world = World()
    for probe in spec["probes"]:
        for kind in KINDS:
            period = period_of(kind, START + timedelta(days=probe))
            for unit in units:
                board = rankings.member_board(period, unit)
                got = {s.member_id: (s.points, s.rank) for s in board.standings}
                assert got == world.member_ranks(period, unit), (kind, period, unit.name)
                met = world.met_target(period, unit) if period.start <= TODAY else None
                assert rankings.met_target(period, unit, TODAY) == met, (kind, unit.name)
                previous = world.member_ranks(period.previous(), unit)
                for s in board.standings:
                    expected = (
                        previous[s.member_id][1] - s.rank if s.member_id in previous else None
                    )
                    assert s.change == expected
                for viewer in [*members[:3], admin]:
                    for limit, around in ((1, 1), (2, 2)):
                        got = rankings.member_slice(
                            period, unit, viewer.id, limit=limit, around=around
                        )
                        expect_slice(board, viewer.id, got, limit, around)
                if not org.children(unit):
                    continue
                for metric in METRICS:
                    got_units = {
                        s.unit.id: (s.value, s.rank)
                        for s in rankings.unit_board(period, unit, metric)
                    }
                    assert got_units == world.unit_values(period, unit, metric), (
                        kind,
                        metric,
                        unit.name,
                    )
    incremental = rollups.stored()
    subtrees = rollups.stored_subtrees()
    rollups.rebuild_all()
    assert rollups.stored() == incremental
    assert rollups.stored_subtrees() == subtrees


def expect_slice(board, member_id, got, limit, around) -> None:
    """The top, the member's row and neighbours, as cut from the whole board."""

    def facts(rows):
        return [
            (s.member_id, s.points, s.reported_days, s.active_days, s.rank, s.change) for s in rows
        ]

    rows = board.standings
    i = board.position(member_id)
    assert got.roster_size == len(rows)
    assert facts(got.top) == facts(rows[:limit])
    if i is None:
        assert got.me is None and got.window == []
        return
    assert facts([got.me]) == facts([rows[i]])
    assert facts(got.window) == facts(rows[max(0, i - around) : i + around + 1])


@pytest.mark.parametrize(
    "small, scan", [(200, False), (0, False), (0, True)], ids=["read", "in-subtree", "by-id"]
)
def test_slices_reach_members_with_deductions_past_those_without_points(
    ctx, monkeypatch, small, scan
):
    """Members with deductions rank below every member without points, who have no rows: a
    slice around them, or a top long enough to reach them, equals the whole board's."""
    monkeypatch.setattr(standings, "SMALL_ROSTER", small)
    monkeypatch.setattr(standings, "_scan_pays", lambda *_: standings.Scan(float(scan)))
    monkeypatch.setattr(standings, "GAP_BATCH", 1)  # batches that end between members found
    monkeypatch.setattr(standings, "ID_WINDOW", 2)  # and windows of ids, on PostgreSQL
    wipe()
    with tx.write():
        root = org.add_unit("根", "党组")
        branch = org.add_unit("一支部", "支部", root)
        other = org.add_unit("二支部", "支部", root)
        admin = org.add_member("管理员", root, START - timedelta(days=400), is_admin=True)
        members = [
            org.add_member(f"党员{i}", branch if i % 3 else other, START - timedelta(days=30))
            for i in range(12)
        ]
    # points: three with points, one whose award and deduction cancel out (a row of zero),
    # one whose report and deduction do (a row of zero points and one day reported), four
    # with deductions (two of them equal), the rest never reported
    for i, total in ((0, 30), (4, 12), (7, 12), (1, 8)):
        report_service.put(admin, members[i], START, ReportInput(total=total))
    for i, points in ((2, 5), (2, -5), (1, -8), (3, -4), (5, -2), (8, -4), (10, -9)):
        adjustments.give(admin, members[i], START + timedelta(days=1), points, "扣分")
    db.session.expire_all()
    period = period_of("week", START + timedelta(days=2))
    negative = 0
    for unit in (root, branch):
        board = rankings.member_board(period, unit)
        negative += sum(s.points < 0 for s in board.standings)
        cancelled = board.standings[board.position(members[1].id)]
        assert (cancelled.points, cancelled.reported_days) == (0, 1)
        for viewer in [*members, admin]:
            for limit in (0, 1, 3, 6, len(board.standings), len(board.standings) + 2):
                for around in (1, 2, 4):
                    got = rankings.member_slice(period, unit, viewer.id, limit=limit, around=around)
                    expect_slice(board, viewer.id, got, limit, around)
    assert negative == 4 + 3  # every deduction at the root, three of them in the branch


@pytest.mark.parametrize("scan", [False, True], ids=["in-subtree", "by-id"])
def test_members_who_left_before_the_period_are_passed_over_and_those_who_left_in_it_kept(
    ctx, monkeypatch, scan
):
    """Members without points who left the day before a period, on its first day or during
    it: only the first are off its board, whichever way members without points are found."""
    monkeypatch.setattr(standings, "SMALL_ROSTER", 0)
    monkeypatch.setattr(standings, "_scan_pays", lambda *_: standings.Scan(float(scan)))
    monkeypatch.setattr(standings, "GAP_BATCH", 1)
    monkeypatch.setattr(standings, "ID_WINDOW", 2)
    wipe()
    week = period_of("week", START + timedelta(days=14))
    left_on = [week.start - timedelta(days=2), week.start - timedelta(days=1), week.start]
    left_on += [week.start + timedelta(days=3), None]
    with tx.write():
        root = org.add_unit("根", "党组")
        branch = org.add_unit("一支部", "支部", root)
        admin = org.add_member("管理员", root, START - timedelta(days=400), is_admin=True)
        members = [
            org.add_member(f"党员{i}", branch, START, active_to=left_on[i % len(left_on)])
            for i in range(15)
        ]
    for i in (4, 9, 14):  # never left: points in the week
        report_service.put(admin, members[i], week.start + timedelta(days=1), ReportInput(total=i))
    db.session.expire_all()
    for unit in (root, branch):
        board = rankings.member_board(period=week, unit=unit)
        on_board = {s.member_id for s in board.standings}
        gone = {m.id for m in members if m.active_to is not None and m.active_to < week.start}
        assert gone and not gone & on_board
        assert {m.id for m in members} - gone <= on_board
        for viewer in [*members, admin]:
            for limit, around in ((0, 1), (2, 2), (len(board.standings), 3)):
                got = rankings.member_slice(week, unit, viewer.id, limit=limit, around=around)
                expect_slice(board, viewer.id, got, limit, around)


def test_roster_stats_are_kept_read_back_and_replaced_when_a_member_moves(org):
    """The stats computed on a first read are stored (one upsert over every unit), the next
    read is answered from the stored rows, and a move stores the new figures over them."""
    from tracker.services import clock, rosters
    from tracker.services import org as org_service

    today = clock.today()
    week = period_of("week", today)
    units = [org.root, org.party, org.b1, org.g1, org.b2]
    first = rosters.roster_stats(week, units, today)
    db.session.rollback()  # a new transaction: the session's memo of computed stats ends
    db.session.info.pop("roster_stats", None)

    def stored():
        rows = db.session.execute(
            select(RosterStats.unit_id, RosterStats.roster, RosterStats.active_days).where(
                RosterStats.kind == "week", RosterStats.period_start == week.start
            )
        )
        return {unit_id: (roster, active) for unit_id, roster, active in rows}

    assert stored() == first and first[org.root.id][0] == 5
    assert rosters.roster_stats(week, units, today) == first
    org_service.move_member(org.m3, org.g1, week.start)
    db.session.rollback()
    db.session.info.pop("roster_stats", None)
    moved = rosters.roster_stats(week, units, today)
    assert moved[org.b2.id][0] == first[org.b2.id][0] - 1
    assert moved[org.g1.id][0] == first[org.g1.id][0] + 1
    db.session.rollback()
    assert stored() == moved


def test_sibling_ranks_are_each_parents_unit_ranking(org):
    """The daily nudge ranks every unit among its siblings from one read of all units' stats;
    each rank must be what that parent's board gives, ties included."""
    from collections import defaultdict

    from tracker.services import org as org_service

    with tx.write():
        g2 = org_service.add_unit("第二小组", "党小组", org.b1)
        org_service.add_unit("空小组", "党小组", org.b2)  # an empty roster: listed, no rank
        extra = org_service.add_member("钱四", g2, date(2025, 1, 1))
    for person, total in [(org.m1, 30), (org.m2, 12), (org.m3, 30), (extra, 30), (org.leader, 5)]:
        report_service.put(org.admin, person, TODAY, ReportInput(total=total))
    children: dict[int, list[Unit]] = defaultdict(list)
    units = db.session.execute(select(Unit).order_by(Unit.position, Unit.id)).scalars()
    for unit in units:
        if unit.parent_id is not None:
            children[unit.parent_id].append(unit)
    week = period_of("week", TODAY)
    expected = {}
    for parent_id in children:
        parent = db.session.get(Unit, parent_id)
        board = rankings.unit_board(week, parent, "avg", today=TODAY)
        expected.update({s.unit.id: s.rank for s in board})
    got = rankings.sibling_ranks(week, children, TODAY)
    assert got == expected
    assert None in got.values() and sorted(set(got.values()) - {None}) == [1, 2]
