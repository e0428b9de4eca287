"""Period roll-ups: applied as deltas in the writer's transaction, rebuilt from daily rows.

Each day's points land in one row per period kind, keyed by the unit the member belonged to
that day. Only days on which the member was active and belonged to a unit count.

The same deltas also keep the subtree roll-ups: a member's points per ancestor unit (a
subtree's board is one index range), how many members hold each score (a rank is a sum of a
few counts) and each subtree's totals (unit boards).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date

from sqlalchemy import delete, select, text
from sqlalchemy.schema import AddConstraint, DropConstraint

from tracker.domain.periods import period_starts, periods_containing
from tracker.domain.units import path_ids
from tracker.extensions import db
from tracker.models import (
    Adjustment,
    DailyReport,
    Member,
    Membership,
    PeriodPoints,
    SubtreePoints,
    SubtreeScore,
    SubtreeTotals,
    Unit,
)

from . import driver

Key = tuple[str, date, int, int]  # kind, period start, member, unit
FAR_FUTURE = date(9999, 12, 31)
BAND = 32  # width of the coarse score counts (SubtreeScore)


def unit_on(member_id: int, day: date) -> int | None:
    """The unit the member belonged to on ``day`` while active, or None (a short driver
    statement: every report's write asks)."""
    d = driver.sql_date(day)
    rows = driver.query(
        "SELECT ms.unit_id FROM membership ms JOIN member m ON m.id = ms.member_id "
        "WHERE ms.member_id = ? AND ms.valid_from <= ? "
        "AND (ms.valid_to IS NULL OR ms.valid_to >= ?) "
        "AND m.active_from <= ? AND (m.active_to IS NULL OR m.active_to >= ?) LIMIT 1",
        [member_id, d, d, d, d],
    )
    return rows[0][0] if rows else None


def apply(member_id: int, unit_id: int, day: date, points: int, reported: int) -> None:
    """Add a change of one day's points (and reported-day count) to every period containing it."""
    if points == 0 and reported == 0:
        return
    periods = [(p.kind, driver.sql_date(p.start)) for p in periods_containing(day)]
    driver.execute_many(
        UPSERT_PERIOD, [(k, s, member_id, unit_id, points, reported) for k, s in periods]
    )
    ancestors = ancestor_ids(unit_id)
    returned = driver.returning_each(
        UPSERT_SUBTREE,
        sorted((a, k, s, member_id, points, reported) for k, s in periods for a in ancestors),
    )
    changes = []
    for a, kind, start, new_points, new_reported in returned:
        changes.append((a, kind, start, new_points - points, new_reported - reported, -1))
        changes.append((a, kind, start, new_points, new_reported, 1))
    _shift(changes)


UPSERT_PERIOD = (
    "INSERT INTO period_points (kind, period_start, member_id, unit_id, points, reported_days) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, period_start, member_id, unit_id) DO UPDATE "
    "SET points = period_points.points + excluded.points, "
    "reported_days = period_points.reported_days + excluded.reported_days"
)
UPSERT_SUBTREE = (
    "INSERT INTO subtree_points "
    "(ancestor_id, kind, period_start, member_id, points, reported_days) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ancestor_id, kind, period_start, member_id) "
    "DO UPDATE SET points = subtree_points.points + excluded.points, "
    "reported_days = subtree_points.reported_days + excluded.reported_days "
    "RETURNING ancestor_id, kind, period_start, points, reported_days"
)
UPSERT_SCORE = (
    "INSERT INTO subtree_score (ancestor_id, kind, period_start, width, floor, members) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ancestor_id, kind, period_start, width, floor) "
    "DO UPDATE SET members = subtree_score.members + excluded.members"
)
UPSERT_TOTALS = (
    "INSERT INTO subtree_totals "
    "(ancestor_id, kind, period_start, points, reported_days, participants) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ancestor_id, kind, period_start) DO UPDATE "
    "SET points = subtree_totals.points + excluded.points, "
    "reported_days = subtree_totals.reported_days + excluded.reported_days, "
    "participants = subtree_totals.participants + excluded.participants"
)


Change = tuple[int, date, int, int]  # member, day, change of points, change of reported days


def apply_many(changes: Iterable[Change]) -> int:
    """Apply many days' changes at once (an import): the same result as ``apply`` for each.

    The changes are summed per period in Python, then every roll-up table is updated by a few
    set-based statements over temporary tables, whatever the number of rows. A day on which
    the member belonged to no unit while active counts nowhere, as in a rebuild.
    Returns the number of period rows changed.
    """
    per_day: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0])
    for member_id, day, points, reported in changes:
        cell = per_day[(member_id, day)]
        cell[0] += points
        cell[1] += reported
    spans: dict[int, list[Span]] = {}
    members = sorted({m for m, _ in per_day})
    for chunk in driver.chunks(members):
        spans.update(_spans_by_member(chunk))
    totals: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    for (member_id, day), (points, reported) in per_day.items():
        if points or reported:
            _add(totals, spans, member_id, day, points, reported)
    starts = {start: driver.sql_date(start) for _, start, _, _ in totals}
    rows = [
        (kind, starts[start], member_id, unit_id, points, reported)
        for (kind, start, member_id, unit_id), (points, reported) in sorted(totals.items())
        if points or reported
    ]
    if not rows:
        return 0
    units = sorted({r[3] for r in rows})
    paths = dict(driver.query("SELECT id, path FROM unit"))
    ancestry = [(unit_id, a) for unit_id in units for a in path_ids(paths[unit_id])]
    date_type = "DATE" if driver.is_postgres() else "TEXT"
    for statement in (
        "DROP TABLE IF EXISTS rollup_delta",
        "DROP TABLE IF EXISTS rollup_ancestry",
        "DROP TABLE IF EXISTS rollup_subtree",
        "DROP TABLE IF EXISTS rollup_score",
        "CREATE TEMPORARY TABLE rollup_delta (kind VARCHAR(8), period_start "
        f"{date_type}, member_id INTEGER, unit_id INTEGER, points INTEGER, reported INTEGER)",
        "CREATE TEMPORARY TABLE rollup_ancestry (unit_id INTEGER, ancestor_id INTEGER)",
    ):
        db.session.execute(text(statement))
    driver.insert_many(
        "rollup_delta", ("kind", "period_start", "member_id", "unit_id", "points", "reported"), rows
    )
    driver.insert_many("rollup_ancestry", ("unit_id", "ancestor_id"), ancestry)
    for statement in BULK_STATEMENTS[driver.is_postgres()]:
        db.session.execute(text(statement))
    return len(rows)


# The subtree change table holds, per (ancestor, kind, period, member), the change and the
# standing before it, so score counts and totals move the member out of the old standing and
# into the new one, as ``_shift`` does for a single write.
_OLD_NEW = (
    "SELECT ancestor_id, kind, period_start, old_points AS points, -1 AS sign "
    "FROM rollup_subtree WHERE old_points <> 0 UNION ALL "
    "SELECT ancestor_id, kind, period_start, old_points + points, 1 "
    "FROM rollup_subtree WHERE old_points + points <> 0"
)
_BULK = (
    "INSERT INTO period_points (kind, period_start, member_id, unit_id, points, reported_days) "
    "SELECT kind, period_start, member_id, unit_id, points, reported FROM rollup_delta "
    "WHERE true ON CONFLICT (kind, period_start, member_id, unit_id) DO UPDATE "
    "SET points = period_points.points + excluded.points, "
    "reported_days = period_points.reported_days + excluded.reported_days",
    "CREATE TEMPORARY TABLE rollup_subtree AS "
    "SELECT c.ancestor_id, c.kind, c.period_start, c.member_id, c.points, c.reported, "
    "COALESCE(s.points, 0) AS old_points, COALESCE(s.reported_days, 0) AS old_reported "
    "FROM (SELECT a.ancestor_id, d.kind, d.period_start, d.member_id, "
    "SUM(d.points) AS points, SUM(d.reported) AS reported "
    "FROM rollup_delta d JOIN rollup_ancestry a ON a.unit_id = d.unit_id "
    "GROUP BY a.ancestor_id, d.kind, d.period_start, d.member_id) AS c "
    "LEFT JOIN subtree_points s ON s.ancestor_id = c.ancestor_id AND s.kind = c.kind "
    "AND s.period_start = c.period_start AND s.member_id = c.member_id "
    "{in key order: c.ancestor_id, c.kind, c.period_start, c.member_id}",
    "INSERT INTO subtree_points "
    "(ancestor_id, kind, period_start, member_id, points, reported_days) "
    "SELECT ancestor_id, kind, period_start, member_id, points, reported FROM rollup_subtree "
    "WHERE true ON CONFLICT (ancestor_id, kind, period_start, member_id) DO UPDATE "
    "SET points = subtree_points.points + excluded.points, "
    "reported_days = subtree_points.reported_days + excluded.reported_days",
    # The change of members per exact score, summed once; the bands are summed from it (a
    # band's change is the sum of its scores' changes), not from every member again.
    "CREATE TEMPORARY TABLE rollup_score AS "
    "SELECT ancestor_id, kind, period_start, points, SUM(sign) AS members "
    f"FROM ({_OLD_NEW}) AS m GROUP BY ancestor_id, kind, period_start, points "
    "HAVING SUM(sign) <> 0 {in key order: ancestor_id, kind, period_start, points}",
    "INSERT INTO subtree_score (ancestor_id, kind, period_start, width, floor, members) "
    "SELECT ancestor_id, kind, period_start, 1, points, members FROM rollup_score WHERE true "
    "ON CONFLICT (ancestor_id, kind, period_start, width, floor) "
    "DO UPDATE SET members = subtree_score.members + excluded.members",
    "INSERT INTO subtree_score (ancestor_id, kind, period_start, width, floor, members) "
    f"SELECT ancestor_id, kind, period_start, {BAND}, band, SUM(members) FROM ("
    f"SELECT ancestor_id, kind, period_start, points - ((points % {BAND}) + {BAND}) % {BAND} "
    "AS band, members FROM rollup_score) AS b WHERE true "
    "GROUP BY ancestor_id, kind, period_start, band HAVING SUM(members) <> 0 "
    "ON CONFLICT (ancestor_id, kind, period_start, width, floor) "
    "DO UPDATE SET members = subtree_score.members + excluded.members",
    "INSERT INTO subtree_totals "
    "(ancestor_id, kind, period_start, points, reported_days, participants) "
    "SELECT ancestor_id, kind, period_start, SUM(points), SUM(reported), "
    "SUM(CASE WHEN old_reported + reported > 0 THEN 1 ELSE 0 END "
    "- CASE WHEN old_reported > 0 THEN 1 ELSE 0 END) FROM rollup_subtree WHERE true "
    "GROUP BY ancestor_id, kind, period_start "
    "ON CONFLICT (ancestor_id, kind, period_start) DO UPDATE "
    "SET points = subtree_totals.points + excluded.points, "
    "reported_days = subtree_totals.reported_days + excluded.reported_days, "
    "participants = subtree_totals.participants + excluded.participants",
    "DROP TABLE rollup_score",
    "DROP TABLE rollup_subtree",
    "DROP TABLE rollup_ancestry",
    "DROP TABLE rollup_delta",
)


def _in_key_order(statement: str, postgresql: bool) -> str:
    """The statement with its ``{in key order: columns}`` mark made an ORDER BY on PostgreSQL
    and dropped on SQLite.

    The change tables are then read in the key order of the roll-up they update, so an upsert
    meets each index page once: PostgreSQL's hash aggregates leave them in no order (a
    100,000-row import's subtree upsert took 12.6 s, in key order 10 s), where SQLite's
    GROUP BY already yields that order and an ORDER BY would sort again.
    """
    head, mark, rest = statement.partition("{in key order: ")
    if not mark:
        return statement
    columns, _, tail = rest.partition("}")
    return head + (f"ORDER BY {columns}" if postgresql else "") + tail


BULK_STATEMENTS = {pg: tuple(_in_key_order(s, pg) for s in _BULK) for pg in (False, True)}


def ancestor_ids(unit_id: int) -> list[int]:
    """The unit and every unit above it, from its materialised path."""
    return path_ids(driver.query("SELECT path FROM unit WHERE id = ?", [unit_id])[0][0])


def rebuild_subtree(unit: Unit) -> None:
    """Recompute the roll-ups of everyone who ever counted in ``unit``'s subtree (it moved)."""
    rebuild_members(
        db.session.execute(
            select(PeriodPoints.member_id)
            .join(Unit, Unit.id == PeriodPoints.unit_id)
            .where(Unit.path.startswith(unit.path))
            .distinct()
        ).scalars()
    )


def rebuild_members(member_ids: Iterable[int]) -> None:
    """Recompute the roll-ups of several members (e.g. after their units moved in the tree)."""
    for member_id in sorted(set(member_ids)):
        rebuild_member(member_id)


def rebuild_member(member_id: int) -> None:
    """Recompute one member's roll-ups after their memberships or active dates changed."""
    old = db.session.execute(
        select(
            SubtreePoints.ancestor_id,
            SubtreePoints.kind,
            SubtreePoints.period_start,
            SubtreePoints.points,
            SubtreePoints.reported_days,
        ).where(SubtreePoints.member_id == member_id)
    ).all()
    _shift([(a, k, s, p, r, -1) for a, k, s, p, r in old])
    db.session.execute(delete(SubtreePoints).where(SubtreePoints.member_id == member_id))
    db.session.execute(delete(PeriodPoints).where(PeriodPoints.member_id == member_id))
    spans = _spans_by_member([member_id])
    reports = db.session.execute(
        select(DailyReport.member_id, DailyReport.day, DailyReport.total).where(
            DailyReport.member_id == member_id
        )
    )
    adjustments = db.session.execute(
        select(Adjustment.member_id, Adjustment.day, Adjustment.points).where(
            Adjustment.member_id == member_id
        )
    )
    totals = _aggregate(spans, reports, adjustments)
    _insert(totals)
    paths = {}
    per_ancestor: dict[tuple[int, str, date], list[int]] = defaultdict(lambda: [0, 0])
    for (kind, start, _member, unit_id), (points, reported) in totals.items():
        if unit_id not in paths:
            paths[unit_id] = ancestor_ids(unit_id)
        for a in paths[unit_id]:
            cell = per_ancestor[(a, kind, start)]
            cell[0] += points
            cell[1] += reported
    rows = [
        {
            "ancestor_id": a,
            "kind": kind,
            "period_start": start,
            "member_id": member_id,
            "points": points,
            "reported_days": reported,
        }
        for (a, kind, start), (points, reported) in sorted(per_ancestor.items())
    ]
    if rows:
        db.session.execute(SubtreePoints.__table__.insert(), rows)
    _shift([(a, k, s, p, r, 1) for (a, k, s), (p, r) in sorted(per_ancestor.items())])


def rebuild_all(progress: Callable[[int], None] | None = None) -> int:
    """Recompute every roll-up from daily rows in one transaction; returns the rows written."""
    from . import tx

    with tx.write():
        for model in (SubtreeTotals, SubtreeScore, SubtreePoints, PeriodPoints):
            db.session.execute(delete(model))
        spans = _spans_by_member(None)
        reports = db.session.execute(
            select(DailyReport.member_id, DailyReport.day, DailyReport.total)
        )
        adjustments = db.session.execute(
            select(Adjustment.member_id, Adjustment.day, Adjustment.points)
        )
        totals = _aggregate(spans, reports, adjustments, progress)
        _insert(totals)
        fill_subtrees()
    return len(totals)


def fill_subtrees() -> None:
    """Derive the (empty) subtree roll-ups from ``period_points`` in a few statements.

    The migration that created them fills them with the same statements.
    """
    # Each unit with itself and every unit above it, from the paths (the database would
    # compare every pair of units' paths: 7 s for 5,000 units).
    ancestry = [
        (unit_id, ancestor)
        for unit_id, path in driver.query("SELECT id, path FROM unit")
        for ancestor in path_ids(path)
    ]
    connection = db.session.connection()
    # SQLite would read the table through its member index, finding each row by its key.
    scan = " NOT INDEXED" if connection.dialect.name == "sqlite" else ""
    points = (
        "INSERT INTO subtree_points "
        "(ancestor_id, kind, period_start, member_id, points, reported_days) "
        "SELECT a.ancestor_id, p.kind, p.period_start, p.member_id, SUM(p.points), "
        "SUM(p.reported_days) "
        f"FROM period_points p{scan} JOIN unit_ancestor_fill a ON a.unit_id = p.unit_id "
        "GROUP BY a.ancestor_id, p.kind, p.period_start, p.member_id "
        "ORDER BY a.ancestor_id, p.kind, p.period_start, p.member_id"
    )
    # Counted from the board index, which holds the rows in the order each count groups them.
    counts = [
        "INSERT INTO subtree_score (ancestor_id, kind, period_start, width, floor, members) "
        "SELECT ancestor_id, kind, period_start, 1, points, COUNT(*) FROM subtree_points "
        "WHERE points <> 0 GROUP BY ancestor_id, kind, period_start, points",
        "INSERT INTO subtree_score (ancestor_id, kind, period_start, width, floor, members) "
        f"SELECT ancestor_id, kind, period_start, {BAND}, band, COUNT(*) FROM ("
        f"SELECT ancestor_id, kind, period_start, points - ((points % {BAND}) + {BAND}) % {BAND} "
        "AS band FROM subtree_points WHERE points <> 0) AS s "
        "GROUP BY ancestor_id, kind, period_start, band",
        "INSERT INTO subtree_totals "
        "(ancestor_id, kind, period_start, points, reported_days, participants) "
        "SELECT ancestor_id, kind, period_start, SUM(points), SUM(reported_days), "
        "SUM(CASE WHEN reported_days > 0 THEN 1 ELSE 0 END) FROM subtree_points "
        "GROUP BY ancestor_id, kind, period_start",
    ]
    # The board and member indexes are built once after the rows: keeping them up to date
    # row by row while tens of millions of rows arrive costs more than the fill itself. The
    # rows arrive in key order, so the primary key grows at its end.
    indexes = sorted(SubtreePoints.__table__.indexes, key=lambda i: i.name)
    foreign_keys = []
    if connection.dialect.name == "postgresql":
        # PostgreSQL checks a foreign key with a query per row (twice per row here); the
        # constraints are added back after the fill, which checks them in one pass each.
        # Sorts of that many rows get memory enough not to spill in small runs (this
        # transaction only).
        db.session.execute(text("SET LOCAL work_mem = '256MB'"))
        db.session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        foreign_keys = [
            fk
            for model in (SubtreePoints, SubtreeScore, SubtreeTotals)
            for fk in sorted(model.__table__.foreign_key_constraints, key=lambda c: c.name)
        ]
    for fk in foreign_keys:
        connection.execute(DropConstraint(fk))
    for index in indexes:
        index.drop(connection)
    db.session.execute(
        text("CREATE TEMPORARY TABLE unit_ancestor_fill (unit_id INTEGER, ancestor_id INTEGER)")
    )
    driver.insert_many("unit_ancestor_fill", ("unit_id", "ancestor_id"), ancestry)
    db.session.execute(
        text("CREATE INDEX ix_unit_ancestor_fill ON unit_ancestor_fill (unit_id, ancestor_id)")
    )
    db.session.execute(text(points))
    db.session.execute(text("DROP TABLE unit_ancestor_fill"))
    for index in indexes:
        index.create(connection)
    for statement in counts:
        db.session.execute(text(statement))
    for fk in foreign_keys:
        connection.execute(AddConstraint(fk))


def stored_subtrees() -> dict[str, dict]:
    """The subtree roll-ups holding anything, by table and key (to compare with a rebuild)."""
    out: dict[str, dict] = {}
    for name, model, keys, values in (
        (
            "points",
            SubtreePoints,
            ("ancestor_id", "kind", "period_start", "member_id"),
            ("points", "reported_days"),
        ),
        (
            "score",
            SubtreeScore,
            ("ancestor_id", "kind", "period_start", "width", "floor"),
            ("members",),
        ),
        (
            "totals",
            SubtreeTotals,
            ("ancestor_id", "kind", "period_start"),
            ("points", "reported_days", "participants"),
        ),
    ):
        columns = [getattr(model, c) for c in (*keys, *values)]
        out[name] = {
            tuple(row[: len(keys)]): tuple(row[len(keys) :])
            for row in db.session.execute(select(*columns))
            if any(row[len(keys) :])
        }
    return out


def stored(*where) -> dict[Key, tuple[int, int]]:
    """The roll-up rows holding any points or reported days (optionally filtered), by key."""
    rows = db.session.execute(
        select(
            PeriodPoints.kind,
            PeriodPoints.period_start,
            PeriodPoints.member_id,
            PeriodPoints.unit_id,
            PeriodPoints.points,
            PeriodPoints.reported_days,
        ).where(*where)
    )
    return {(k, s, m, u): (p, r) for k, s, m, u, p, r in rows if p or r}


Span = tuple[date, date, int]  # first day, last day, unit


def _spans_by_member(member_ids: list[int] | None) -> dict[int, list[Span]]:
    """Each member's days of belonging to a unit while active, as (first, last, unit)."""
    query = select(
        Membership.member_id,
        Membership.unit_id,
        Membership.valid_from,
        Membership.valid_to,
        Member.active_from,
        Member.active_to,
    ).join(Member, Member.id == Membership.member_id)
    if member_ids is not None:
        query = query.where(Membership.member_id.in_(member_ids))
    spans: dict[int, list[Span]] = defaultdict(list)
    for member_id, unit_id, v_from, v_to, a_from, a_to in db.session.execute(query):
        first = max(v_from, a_from)
        last = min(v_to or FAR_FUTURE, a_to or FAR_FUTURE)
        if first <= last:
            spans[member_id].append((first, last, unit_id))
    return spans


def _aggregate(
    spans: dict[int, list[Span]],
    reports: Iterable[tuple[int, date, int]],
    adjustments: Iterable[tuple[int, date, int]],
    progress: Callable[[int], None] | None = None,
    wanted: set[tuple[str, date]] | None = None,
) -> dict[Key, list[int]]:
    """Each period's points per member and unit; only the (kind, start) periods ``wanted``,
    if given (a check of a few periods reads a year of days but keeps a few periods' rows)."""
    totals: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    for n, (member_id, day, total) in enumerate(reports, start=1):
        _add(totals, spans, member_id, day, total, 1 if total > 0 else 0, wanted)
        if progress and n % 10_000 == 0:
            progress(10_000)
    for member_id, day, points in adjustments:
        _add(totals, spans, member_id, day, points, 0, wanted)
    return totals


def _add(
    totals: dict[Key, list[int]],
    spans: dict[int, list[Span]],
    member_id: int,
    day: date,
    points: int,
    reported: int,
    wanted: set[tuple[str, date]] | None = None,
) -> None:
    """Add one day to every period containing it (of those ``wanted``, if given), under the
    unit the member counted in that day; a day outside every span counts nowhere."""
    for first, last, unit_id in spans.get(member_id, ()):
        if first <= day <= last:
            for kind, start in period_starts(day):
                if wanted is not None and (kind, start) not in wanted:
                    continue
                cell = totals[(kind, start, member_id, unit_id)]
                cell[0] += points
                cell[1] += reported
            return


def _insert(totals: dict[Key, list[int]]) -> None:
    rows = [
        {
            "kind": kind,
            "period_start": start,
            "member_id": member_id,
            "unit_id": unit_id,
            "points": points,
            "reported_days": reported,
        }
        for (kind, start, member_id, unit_id), (points, reported) in totals.items()
    ]
    for i in range(0, len(rows), 5_000):
        db.session.execute(PeriodPoints.__table__.insert(), rows[i : i + 5_000])


def _band(points: int) -> int:
    return points - points % BAND


def _shift(changes: Iterable[tuple[int, str, date, int, int, int]]) -> None:
    """Count members in (sign 1) or out (sign -1) of score counts and subtree totals.

    Each change is (ancestor, kind, period start, member points, member reported days, sign):
    one member's standing in one subtree entering or leaving the counts.
    """
    scores: dict[tuple, int] = defaultdict(int)
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for a, kind, start, points, reported, sign in changes:
        if points != 0:
            scores[(a, kind, start, 1, points)] += sign
            scores[(a, kind, start, BAND, _band(points))] += sign
        cell = totals[(a, kind, start)]
        cell[0] += sign * points
        cell[1] += sign * reported
        cell[2] += sign * (1 if reported > 0 else 0)
    driver.execute_many(
        UPSERT_SCORE,
        [(a, k, driver.sql_date(s), w, f, n) for (a, k, s, w, f), n in sorted(scores.items()) if n],
    )
    driver.execute_many(
        UPSERT_TOTALS,
        [
            (a, k, driver.sql_date(s), p, r, n)
            for (a, k, s), (p, r, n) in sorted(totals.items())
            if p or r or n
        ],
    )
