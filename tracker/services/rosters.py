"""Rosters of a subtree for a period (SPEC §2), from dated memberships and active dates.

A subtree's roster size and its active member-days change only when memberships, active dates
or the tree change, so they are kept in ``roster_stats`` and trusted while their version equals
``roster_version``, which database triggers bump on every such change (whichever code makes
it). A stale or missing row is recomputed from the memberships on the next read.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text

from tracker.domain.periods import Period, overlap_days
from tracker.domain.units import path_ids
from tracker.extensions import db
from tracker.models import Unit

from .driver import chunks, one_of, query, sql_date

Span = tuple[int, str, date, date]  # member, unit path, first day, last day


SELECT_SPANS = (
    "SELECT ms.member_id, u.path, ms.valid_from, ms.valid_to, m.active_from, m.active_to "
    "FROM membership ms JOIN unit u ON u.id = ms.unit_id JOIN member m ON m.id = ms.member_id "
)


def spans(period: Period, unit: Unit) -> list[Span]:
    """(member, unit path, first, last): days in the period active and belonging to the subtree."""
    return list(_clipped(_overlapping(unit, period.start, period.end), period))


def _overlapping(unit: Unit, first: date, last: date) -> list[tuple]:
    """The subtree's membership rows (with paths and active dates) that overlap these days."""
    start, end = sql_date(first), sql_date(last)
    return query(
        f"{SELECT_SPANS} WHERE u.path >= ? AND u.path < ? AND ms.valid_from <= ? "
        "AND (ms.valid_to IS NULL OR ms.valid_to >= ?) AND m.active_from <= ? "
        "AND (m.active_to IS NULL OR m.active_to >= ?)",
        [*path_range(unit), end, start, end, start],
    )


def partial_members(period: Period, unit: Unit, end: date) -> list[int]:
    """Members on the subtree's roster for the period who were not on it every day from its
    start to ``end``: they joined, left, moved or retired in between. Everyone else on the
    roster has the same days so far, and so the same target."""
    start = sql_date(period.start)
    rows = query(
        "SELECT DISTINCT ms.member_id FROM membership ms JOIN unit u ON u.id = ms.unit_id "
        "JOIN member m ON m.id = ms.member_id WHERE u.path >= ? AND u.path < ? "
        "AND ms.valid_from <= ? AND (ms.valid_to IS NULL OR ms.valid_to >= ?) "
        "AND m.active_from <= ? AND (m.active_to IS NULL OR m.active_to >= ?) "
        "AND (ms.valid_from > ? OR ms.valid_to < ? OR m.active_from > ? OR m.active_to < ?)",
        [
            *path_range(unit),
            sql_date(period.end),
            start,
            sql_date(period.end),
            start,
            start,
            sql_date(end),
            start,
            sql_date(end),
        ],
    )
    return sorted(member_id for (member_id,) in rows)


def _clipped(rows: list[tuple], period: Period):
    """(member, unit path, first, last) of membership rows that overlap the period.

    Dates are compared as the driver returns them (SQLite's ISO text sorts as the dates do)
    and only the kept rows' first and last days are made dates: a board clips some forty
    memberships on every view.
    """
    start, end = period.start, period.end
    text = bool(rows) and isinstance(rows[0][2], str)
    if text:
        start, end = start.isoformat(), end.isoformat()
    for member_id, path, v_from, v_to, a_from, a_to in rows:
        first = max(v_from, a_from, start)
        last = min(v_to or end, a_to or end, end)
        if first <= last:
            if text:
                first, last = date.fromisoformat(first), date.fromisoformat(last)
            yield member_id, path, first, last


def path_range(unit: Unit) -> tuple[str, str]:
    """The paths of ``unit``'s subtree, as a range the path index answers (LIKE is not): from
    the first up to, not including, the second.

    Paths are ids and slashes: those starting with "/1/4/" sort from "/1/4/" up to, not
    including, "/1/40" ("/" sorts just before "0").
    """
    return unit.path, unit.path[:-1] + "0"


def member_spans(period: Period, unit: Unit, member_ids: list[int]) -> list[tuple[int, date, date]]:
    """(member, first, last) in the period, active and belonging to the subtree, for some
    members (read a few thousand at a time)."""
    out = []
    for chunk in chunks(member_ids):
        out += spans_in(query(*memberships_statement(chunk)), period, unit)
    return out


def memberships_statement(member_ids: list[int]) -> tuple[str, list]:
    """The statement of a few members' memberships with their units' paths and their active
    dates, for ``spans_in``; the same whatever the period and subtree, so one read serves both
    a period and the one before (``driver.query_each`` runs it beside others)."""
    members, ids = one_of("ms.member_id", member_ids)
    # Found by member and kept by path in ``spans_in``: a path range in the statement would be
    # planned once for every subtree when PostgreSQL keeps the statement prepared, as a loop
    # over the units it spans, which at the root is every membership.
    return f"{SELECT_SPANS} WHERE {members}", ids


def spans_in(rows: list[tuple], period: Period, unit: Unit) -> list[tuple[int, date, date]]:
    """(member, first, last) in the period, active and belonging to the subtree, from the rows
    of ``memberships_statement``."""
    prefix = unit.path
    inside = [r for r in rows if r[1].startswith(prefix)]
    return [(member_id, first, last) for member_id, _, first, last in _clipped(inside, period)]


def elapsed(first: date, last: date, period: Period, today: date) -> int:
    """Days from ``first`` to ``last`` that have elapsed in the period by ``today``."""
    end = period.elapsed_end(today)
    return overlap_days(first, last, period.start, end) if end else 0


def roster_stats(
    period: Period, units: list[Unit], today: date, *, rows: list[tuple] | None = None
) -> dict[int, tuple[int, int]]:
    """Each unit's (roster size, active member-days elapsed) for the period.

    ``rows``: what ``roster_statement`` read, where the caller ran it beside other statements.
    """
    return roster_stats_each([period], units, today, rows_each=None if rows is None else [rows])[0]


def roster_stats_each(
    periods: list[Period],
    units: list[Unit],
    today: date,
    *,
    rows_each: list[list[tuple]] | None = None,
) -> list[dict[int, tuple[int, int]]]:
    """``roster_stats`` for several periods: those not kept are computed from one read of the
    memberships (a unit's 12-week trend read its subtree's twelve times, 3 s at the root).

    ``rows_each``: what ``roster_statement`` read for each period.
    """
    if not units:
        return [{} for _ in periods]
    if rows_each is None:
        rows_each = [query(*roster_statement(p, units, today)) for p in periods]
    # Computed earlier in this session's transaction, whose snapshot may not show the stored row.
    memo = db.session.info.setdefault("roster_stats", {})
    outs, keys, lacking = [], [], []
    for period, rows in zip(periods, rows_each, strict=True):
        key = (period.kind, period.start, _elapsed_end(period, today), rows[0][0])
        out = {unit_id: (roster, active) for _, unit_id, roster, active in rows if unit_id}
        for unit in units:
            known = memo.get((unit.id, *key))
            if unit.id not in out and known is not None:
                out[unit.id] = known
        outs.append(out)
        keys.append(key)
        lacking.append([u.id for u in units if u.id not in out])
    todo = [i for i, missing in enumerate(lacking) if missing]
    if todo:
        needed = {u.id: u for u in units if any(u.id in lacking[i] for i in todo)}
        computed = _computed([periods[i] for i in todo], list(needed.values()), today)
        for i, fresh in zip(todo, computed, strict=True):
            fresh = {unit_id: fresh[unit_id] for unit_id in lacking[i]}
            _, _, end, version = keys[i]
            _store(periods[i], end, version, fresh)
            for unit_id, value in fresh.items():
                memo[(unit_id, *keys[i])] = value
            outs[i].update(fresh)
    return outs


def _computed(
    periods: list[Period], units: list[Unit], today: date
) -> list[dict[int, tuple[int, int]]]:
    """For each period, each unit's (roster size, active member-days elapsed), from its
    subtree's memberships, read once for all the periods.

    The memberships of units nested in others are read once, with the outermost unit's: the
    review reminder to the leaders of a province's 5,000 units read each member once for
    every level above them.
    """
    wanted = {u.id for u in units}
    members: list[dict[int, set[int]]] = [{u: set() for u in wanted} for _ in periods]
    active = [dict.fromkeys(wanted, 0) for _ in periods]
    owners: dict[str, list[int]] = {}  # a unit's path: the wanted units it lies in
    first_day, last_day = min(p.start for p in periods), max(p.end for p in periods)
    for top in units:
        if any(a in wanted for a in path_ids(top.path)[:-1]):
            continue  # read with the unit above it
        rows = _overlapping(top, first_day, last_day)
        for i, period in enumerate(periods):
            for member_id, path, first, last in _clipped(rows, period):
                within = owners.get(path)
                if within is None:
                    within = owners[path] = [a for a in path_ids(path) if a in wanted]
                days = elapsed(first, last, period, today)
                for unit_id in within:
                    members[i][unit_id].add(member_id)
                    active[i][unit_id] += days
    return [{u: (len(members[i][u]), active[i][u]) for u in wanted} for i in range(len(periods))]


def roster_statement(period: Period, units: list[Unit], today: date) -> tuple[str, list]:
    """The statement of the units' stored stats and the version they must carry."""
    wanted, unit_ids = one_of("s.unit_id", [u.id for u in units])
    return (
        "SELECT v.version, s.unit_id, s.roster, s.active_days FROM roster_version v "
        f"LEFT JOIN roster_stats s ON {wanted} AND s.kind = ? AND s.period_start = ? "
        "AND s.elapsed_end = ? AND s.version = v.version WHERE v.id = 1",
        [*unit_ids, period.kind, sql_date(period.start), sql_date(_elapsed_end(period, today))],
    )


def _elapsed_end(period: Period, today: date) -> date:
    return period.elapsed_end(today) or period.start - timedelta(days=1)


STORE = text(
    "INSERT INTO roster_stats "
    "(unit_id, kind, period_start, elapsed_end, version, roster, active_days) "
    "VALUES (:unit_id, :kind, :period_start, :elapsed_end, :version, :roster, :active_days) "
    "ON CONFLICT (unit_id, kind, period_start) DO UPDATE SET elapsed_end = excluded.elapsed_end, "
    "version = excluded.version, roster = excluded.roster, active_days = excluded.active_days"
)


def _store(period: Period, end: date, version: int, stats: dict[int, tuple[int, int]]) -> None:
    """Keep freshly computed stats, in a short transaction of their own.

    Inside a writer's transaction nothing is kept: its changes are not committed yet, and on
    SQLite a second writer would wait for the first.
    """
    session = db.session()
    if session.in_transaction() and session.connection().get_execution_options().get(
        "tracker_write"
    ):
        return
    rows = [
        {
            "unit_id": unit_id,
            "kind": period.kind,
            "period_start": sql_date(period.start),
            "elapsed_end": sql_date(end),
            "version": version,
            "roster": roster,
            "active_days": active,
        }
        for unit_id, (roster, active) in sorted(stats.items())
    ]
    # One prepared statement over all the rows: a province's 5,000 units as multi-row
    # VALUES cost SQLAlchemy 0.7-0.8 s to build on the first selection of a day.
    with db.engine.connect().execution_options(tracker_write=True) as conn:
        conn.execute(STORE, rows)
        conn.commit()
