"""The top of a member board and a member's place in it, read from the subtree roll-ups.

A subtree's members are one index range ordered by (points desc, member id), the board's own
order, so the top N is N rows; a rank is one plus the members above, summed from the score
counts (a few bands of ``rollups.BAND`` points and a few exact scores), never by counting every
member above. Where a slice reaches members with no points or with deductions (members who
never reported sit among them, and they have no rows), ``None`` is returned and the caller
ranks the whole roster instead: the answer is always the one ``rankings.member_board`` gives.

These reads run on every board view, so they are a handful of short statements sent straight
to the driver (``driver.query``), without building ORM queries each time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tracker.domain.periods import Period
from tracker.models import Unit

from . import rosters
from .driver import one_of, query, sql_date
from .rollups import BAND


@dataclass
class Slice:
    """What a member sees of a board: its top, their own row and their neighbours."""

    roster_size: int
    top: list  # of rankings.Standing
    me: object | None  # rankings.Standing
    window: list


RANGE = "ancestor_id = ? AND kind = ? AND period_start = ?"
ROWS = f"SELECT member_id, points, reported_days FROM subtree_points WHERE {RANGE}"
# The neighbours each side of a member with x points: equal points and a lower id first,
# then higher points; equal points and a higher id, then lower points.
NEIGHBOURS = " UNION ALL ".join(
    f"SELECT * FROM ({ROWS} AND {cond} ORDER BY {order} LIMIT ?) AS n{i}"
    for i, (cond, order) in enumerate(
        [
            ("points = ? AND member_id < ?", "member_id DESC"),
            ("points > ?", "points, member_id DESC"),
            ("points = ? AND member_id > ?", "member_id"),
            ("points < ?", "points DESC, member_id"),
        ]
    )
)


def _range(period: Period, unit: Unit) -> list:
    return [unit.id, period.kind, sql_date(period.start)]


def top(period: Period, unit: Unit, limit: int, today: date) -> list | None:
    """The first ``limit`` standings, or None when they reach members without points."""
    if limit <= 0:
        return []
    rows = query(f"{ROWS} ORDER BY points DESC, member_id LIMIT ?", [*_range(period, unit), limit])
    if len(rows) < limit or rows[-1][1] <= 0:
        rows = _with_zeros(period, unit, rows, limit)
        if rows is None:
            return None
    ranks, previous_rank = [], 0
    for i, (_, points, _) in enumerate(rows):
        previous_rank = previous_rank if i and points == rows[i - 1][1] else i + 1
        ranks.append(previous_rank)
    return _standings(period, unit, rows, ranks, today)


def _with_zeros(period: Period, unit: Unit, rows: list[tuple], limit: int) -> list | None:
    """The top when it reaches members with zero points: they follow by member id.

    ``rows`` then holds every member with points. Reads the subtree's roster, so it pays off
    for small subtrees; None where members with deductions would be reached too.
    """
    positive = [r for r in rows if r[1] > 0]
    with_rows = {m: (m, p, r) for m, p, r in query(ROWS, _range(period, unit))}
    zeros = sorted(
        {m for m, *_ in rosters.spans(period, unit) if m not in with_rows or with_rows[m][1] == 0}
    )
    if len(positive) + len(zeros) < limit and any(p < 0 for _, p, _ in with_rows.values()):
        return None
    return positive + [with_rows.get(m, (m, 0, 0)) for m in zeros][: limit - len(positive)]


def window(
    period: Period, unit: Unit, member_id: int, around: int, today: date
) -> tuple[object, list] | None:
    """The member's standing and up to ``around`` neighbours each side, or None (see above)."""
    where = _range(period, unit)
    mine = query(f"{ROWS} AND member_id = ?", [*where, member_id])
    if not mine or mine[0][1] <= 0:
        return None
    x = mine[0][1]
    found = query(
        NEIGHBOURS,
        [
            *[*where, x, member_id, around],
            *[*where, x, around],
            *[*where, x, member_id, around],
            *[*where, x, around],
        ],
    )

    def key(row):  # the board's order: points desc, member id
        return (-row[1], row[0])

    me = (member_id, x, mine[0][2])
    before = sorted((r for r in found if key(r) < key(me)), key=key)[-around:] if around else []
    after = sorted((r for r in found if key(r) > key(me)), key=key)[:around]
    if len(after) < around or any(points <= 0 for _, points, _ in after):
        return None
    rows = [*before, me, *after]
    above = above_counts(period, unit, [p for _, p, _ in rows])
    standings = _standings(period, unit, rows, [1 + above[p] for _, p, _ in rows], today)
    return standings[len(before)], standings


def rank(period: Period, unit: Unit, points: int, today: date) -> int:
    """The shared rank that ``points`` would have on the board: one plus the members above."""
    return 1 + above_counts(period, unit, [points], today)[points]


SCORES = f"SELECT floor, members FROM subtree_score WHERE {RANGE} AND width = ?"


def above_counts(
    period: Period, unit: Unit, values: list[int], today: date | None = None
) -> dict[int, int]:
    """For each value, how many roster members of the subtree hold strictly more points.

    Two index ranges of the score counts: the bands from the lowest value's band up, and the
    exact scores inside each value's band; the sums are done here. (One statement of a
    subquery per value cost PostgreSQL more to plan than to run.) Members without a row hold
    zero points, so below zero they count too (``today`` is then needed for the roster size).
    """
    distinct = sorted(set(values))
    if not distinct:
        return {}
    where = _range(period, unit)
    if distinct[0] < 0:  # every band: members below zero are counted among the roster
        bands = query(SCORES, [*where, BAND])
    else:
        bands = query(f"{SCORES} AND floor >= ?", [*where, BAND, distinct[0] - distinct[0] % BAND])
    starts = sorted({x - x % BAND for x in distinct})
    exact = query(
        " UNION ALL ".join(f"{SCORES} AND floor >= ? AND floor < ?" for _ in starts),
        [v for b in starts for v in (*where, 1, b, b + BAND)],
    )
    out = {}
    for x in distinct:
        band = x - x % BAND
        out[x] = sum(m for floor, m in bands if floor > band) + sum(
            m for floor, m in exact if x < floor < band + BAND
        )
    if distinct[0] < 0:
        if today is None:
            raise ValueError("ranks below zero need today's roster")
        with_points = sum(m for _, m in bands)
        zeros = rosters.roster_stats(period, [unit], today)[unit.id][0] - with_points
        for x in distinct:
            if x < 0:
                out[x] += zeros
    return out


def _standings(period: Period, unit: Unit, rows: list[tuple], ranks: list[int], today: date):
    """Standings for rows already ranked: active days and the change against last period."""
    from .rankings import Standing, rank_change

    if not rows:
        return []
    ids = [m for m, _, _ in rows]
    active: dict[int, int] = dict.fromkeys(ids, 0)
    for member_id, first, last in rosters.member_spans(period, unit, ids):
        active[member_id] += rosters.elapsed(first, last, period, today)
    previous = period.previous()
    members, params = one_of("member_id", ids)
    before = {
        m: p for m, p, _ in query(f"{ROWS} AND {members}", [*_range(previous, unit), *params])
    }
    missing = [m for m in ids if m not in before]
    if missing:  # on last period's roster without a row: zero points
        for member_id, _, _ in rosters.member_spans(previous, unit, missing):
            before[member_id] = 0
    above = above_counts(previous, unit, list(before.values()), today)
    out = []
    for (member_id, points, reported), r in zip(rows, ranks, strict=True):
        was = 1 + above[before[member_id]] if member_id in before else None
        out.append(Standing(member_id, points, reported, active[member_id], r, rank_change(was, r)))
    return out


def member_slice(
    period: Period, unit: Unit, member_id: int | None, *, limit: int, around: int, today: date
) -> Slice | None:
    """Top ``limit``, the member's row and neighbours, roster size; None where not served."""
    head = top(period, unit, limit, today)
    if head is None:
        return None
    roster = rosters.roster_stats(period, [unit], today)[unit.id][0]
    if member_id is None:
        return Slice(roster, head, None, [])
    found = window(period, unit, member_id, around, today)
    if found is None:
        on_board = query(f"{ROWS} AND member_id = ?", [*_range(period, unit), member_id])
        if on_board or rosters.member_spans(period, unit, [member_id]):
            return None  # on the board, among members without points: rank the roster
        return Slice(roster, head, None, [])
    me, neighbours = found
    return Slice(roster, head, me, neighbours)
