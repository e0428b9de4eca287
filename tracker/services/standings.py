"""The top of a member board and a member's place in it, read from the subtree roll-ups.

A subtree's members are one index range ordered by (points desc, member id), the board's own
order, so the top N is N rows; a rank is one plus the members above, summed from the score
counts (a few bands of ``rollups.BAND`` points and a few exact scores), never by counting every
member above. Members with no points have no rows (those who never reported sit among them):
where a slice reaches them they are found by member id, the board's order among equal points
(``_zeros``), and members with deductions follow them. The answer is always the one
``rankings.member_board`` gives.

These reads run on every board view, so they are a handful of short statements sent straight
to the driver, without building ORM queries each time, and those that do not depend on each
other go together (``driver.query_each``): on PostgreSQL a slice is three round trips.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from itertools import accumulate

from tracker.domain.periods import Period
from tracker.models import Unit

from . import rosters
from .driver import chunks, is_postgres, one_of, query, query_each, sql_date
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
# A member's row and the neighbours each side of their x points, in one statement: equal
# points and a lower id first, then higher points; equal points and a higher id, then lower.
POINTS_OF = f"(SELECT points FROM subtree_points WHERE {RANGE} AND member_id = ?)"
MINE_AND_NEIGHBOURS = f"{ROWS} AND member_id = ? UNION ALL " + " UNION ALL ".join(
    f"SELECT * FROM ({ROWS} AND {cond} ORDER BY {order} LIMIT ?) AS n{i}"
    for i, (cond, order) in enumerate(
        [
            (f"points = {POINTS_OF} AND member_id < ?", "member_id DESC"),
            (f"points > {POINTS_OF}", "points, member_id DESC"),
            (f"points = {POINTS_OF} AND member_id > ?", "member_id"),
            (f"points < {POINTS_OF}", "points DESC, member_id"),
        ]
    )
)


# PostgreSQL's generic plan of the statement above (a prepared statement's, planned without
# its values) expects a subtree to hold a few dozen rows, and took the members with equal
# points and a lower id through the primary key in id order, testing each one's points: the
# whole root below the member's id, 5-10 ms a rank. Here each side is one range of the board
# index from the member's points on, which the primary key cannot give in order, with the
# equal points on the wrong side of the member's id passed over (at most those sharing the
# member's score: 0.1-0.3 ms where 2,763 members share a day's score at a province's root).
MINE_AND_NEIGHBOURS_RANGED = f"{ROWS} AND member_id = ? UNION ALL " + " UNION ALL ".join(
    f"SELECT * FROM ({ROWS} AND {cond} ORDER BY {order} LIMIT ?) AS n{i}"
    for i, (cond, order) in enumerate(
        [
            (
                f"points >= {POINTS_OF} AND NOT (points = {POINTS_OF} AND member_id >= ?)",
                "points, member_id DESC",
            ),
            (
                f"points <= {POINTS_OF} AND NOT (points = {POINTS_OF} AND member_id <= ?)",
                "points DESC, member_id",
            ),
        ]
    )
)


def _range(period: Period, unit: Unit) -> list:
    return [unit.id, period.kind, sql_date(period.start)]


TOP = f"{ROWS} ORDER BY points DESC, member_id LIMIT ?"
# Rosters up to this size are read whole where a top reaches members without points.
SMALL_ROSTER = 200
# Members without points next to a member id are found by statements that keep a membership
# where it lies in the subtree, overlaps the member's active dates and the period (three spans
# meet where each starts before the others end, as ``rosters.spans`` clips them: ON_ROSTER),
# and, by one of the two conditions after it, whose member holds no points there (no row, or
# a row of zero).
ON_ROSTER = (
    "{u}.path >= ? AND {u}.path < ? AND c.valid_from <= ? AND {m}.active_from <= ? "
    "AND (c.valid_to IS NULL OR c.valid_to >= ?) AND ({m}.active_to IS NULL OR {m}.active_to >= ?) "
    "AND (c.valid_to IS NULL OR c.valid_from <= c.valid_to) "
    "AND ({m}.active_to IS NULL OR {m}.active_from <= {m}.active_to) "
    "AND ({m}.active_to IS NULL OR c.valid_from <= {m}.active_to) "
    "AND (c.valid_to IS NULL OR {m}.active_from <= c.valid_to)"
)
HOLDS_NONE = f"{ON_ROSTER} AND "
# Whether the member holds points: looked up for each membership where few are read (in all
# members' order), or the subtree's members with points read once and hashed (PostgreSQL
# looked each of them up otherwise, 3 µs a membership). The lookup is a scalar subquery, so
# that PostgreSQL runs it by key for each membership: as NOT EXISTS it became an anti join,
# and the generic plan of the prepared statement (a few dozen rows expected per subtree and
# period) read the subtree's whole range for every membership, 11 s a batch at the root.
POINTS_EACH = (
    "COALESCE((SELECT p.points FROM subtree_points p WHERE p.ancestor_id = ? AND p.kind = ? "
    "AND p.period_start = ? AND p.member_id = c.member_id), 0) = 0"
)
POINTS_ALL = (
    "c.member_id NOT IN (SELECT p.member_id FROM subtree_points p WHERE p.ancestor_id = ? "
    "AND p.kind = ? AND p.period_start = ? AND p.points <> 0)"
)
REPORTED = (
    "COALESCE((SELECT p.reported_days FROM subtree_points p WHERE p.ancestor_id = ? "
    "AND p.kind = ? AND p.period_start = ? AND p.member_id = c.member_id), 0)"
)


def _next(below: bool, inclusive: bool, column: str) -> str:
    return f"{column} {('<' if below else '>') + ('=' if inclusive else '')} ?"


# In all members' id order, on SQLite: the members who hold no points are the ids of the
# subtree's memberships less the ids of its rows with points, and SQLite merges the two index
# ranges (a compound with ORDER BY; where looking up each membership's row had cost 2.5 µs,
# 14 ms for a member without points at the root of a year). At the root every membership is
# the subtree's, so its units are not asked (0.1 µs an id instead of 0.3). Each such member
# of a batch is then asked about (``ASKED``); rows are (member, on the roster, reported
# days). The first batch holds as many as are
# wanted, up to this many:
GAP_BATCH = 16


# What is asked of each member found by id: whether they are on the subtree's roster (a
# scalar subquery, which PostgreSQL runs by key: as EXISTS it hashed every membership of the
# roster, 100 ms a statement) and their days reported.
ASKED = (
    "COALESCE((SELECT 1 FROM membership c JOIN unit u ON u.id = c.unit_id "
    "JOIN member m ON m.id = c.member_id WHERE c.member_id = z.member_id AND "
    f"{ON_ROSTER.format(u='u', m='m')} LIMIT 1), 0), "
    f"{REPORTED.replace('c.member_id', 'z.member_id')}"
)


# Members who left before the period's first day: their memberships stay open and they hold
# no points, so the merge passes over them here rather than asking about each (at the root of
# a year of province data 296 of them lay among the 57 on the roster without points).
GONE = (
    "SELECT id FROM member INDEXED BY ix_member_ended "
    "WHERE active_to IS NOT NULL AND active_to < ? AND "
)


def _gaps(below: bool, root: bool) -> str:
    memberships = (
        "SELECT member_id FROM membership INDEXED BY ix_membership_member_span "
        f"WHERE {_next(below, False, 'member_id')}"
        if root
        else "SELECT c.member_id FROM membership c INDEXED BY ix_membership_member_span "
        f"CROSS JOIN unit u WHERE u.id = c.unit_id AND {_next(below, False, 'c.member_id')} "
        "AND u.path >= ? AND u.path < ?"
    )
    desc = "DESC" if below else ""
    return (
        f"SELECT z.member_id, {ASKED} FROM ({memberships} EXCEPT "
        f"SELECT member_id FROM subtree_points WHERE {RANGE} AND points <> 0 AND "
        f"{_next(below, False, 'member_id')} EXCEPT {GONE}{_next(below, False, 'id')} "
        f"ORDER BY 1 {desc} LIMIT ?) AS z ORDER BY z.member_id {desc}"
    )


GAPS = {(below, root): _gaps(below, root) for below in (True, False) for root in (True, False)}
# On PostgreSQL, in growing batches: a batch of memberships from a member id on, read from the
# membership index (a subtree's path range beside it would let PostgreSQL start from the units
# and sort every membership of the subtree) and joined to its units and members inside (with
# the members' index read from the same id, or it would hash every unit), then filtered; and
# the batch's size and last member, to go on from.
BATCH = "SELECT {cols} FROM membership ms {joins}WHERE {next} ORDER BY ms.member_id {desc} LIMIT ?"


def _by_id(below: bool, inclusive: bool) -> tuple[str, str]:
    desc, next_id = "DESC" if below else "", _next(below, inclusive, "ms.member_id")
    batch = BATCH.format(
        cols="ms.member_id, ms.valid_from, ms.valid_to, u.path, m.active_from, m.active_to",
        joins="JOIN unit u ON u.id = ms.unit_id JOIN member m ON m.id = ms.member_id ",
        next=f"{next_id} AND {_next(below, inclusive, 'm.id')}",
        desc=desc,
    )
    holding = f"({batch}) c WHERE {HOLDS_NONE.format(u='c', m='c')}"
    scan = BATCH.format(cols="ms.member_id", joins="", next=next_id, desc=desc)
    return (
        f"SELECT c.member_id, {REPORTED} FROM {holding}{POINTS_EACH} ORDER BY c.member_id {desc}",
        f"SELECT COUNT(*), {'MIN' if below else 'MAX'}(member_id) FROM ({scan}) c",
    )


BY_ID = {
    (below, inclusive): _by_id(below, inclusive)
    for below in (True, False)
    for inclusive in (True, False)
}
# All of them in the subtree's own memberships: its units first, then their memberships. A
# read costs the subtree's memberships, for subtrees whose members without points are too
# few to be met soon in the order of all members (so few are read). Ids only: the days
# reported are looked up for the few a slice shows (a lookup for each of them cost a
# mid-sized subtree's read a quarter of its time).
IN_SUBTREE = (
    "SELECT DISTINCT c.member_id FROM membership c "
    "JOIN unit u ON u.id = c.unit_id JOIN member m ON m.id = c.member_id "
    f"WHERE {HOLDS_NONE.format(u='u', m='m')}{POINTS_ALL}"
)


LAST_MEMBER = "SELECT COALESCE(MAX(id), 0) FROM member"  # the highest member id
# On PostgreSQL below the root an id read in batches (``_zeros_in_batches``) costs about
# twice a membership of the subtree read at once, and batches growing fourfold read up to
# four times the ids needed, a round trip each: a member without points in a subtree of
# 1,346 members for a day (797 of them without points) took 12 ms in batches, 6 ms read
# from the subtree.
BATCH_COST = 8


@dataclass(frozen=True)
class Scan:
    """How a slice finds members without points (``_scan_pays``): in all members' id order,
    passing about ``spread`` ids for each one found (the first window of ids is sized by it),
    up to ``top``, the highest member id (None: not read yet); or, where ``spread`` is 0, in
    the subtree's own memberships."""

    spread: float = 0
    top: int | None = None

    def __bool__(self) -> bool:
        return self.spread > 0

    def last_member(self) -> int:
        return query(LAST_MEMBER)[0][0] if self.top is None else self.top


WITH_POINTS = f"SELECT COALESCE(SUM(members), 0) FROM subtree_score WHERE {RANGE} AND width = ?"


def _scan_statements(period: Period, unit: Unit) -> list[tuple[str, list]]:
    """What ``_scan_pays`` reads: the subtree's members with points, and the highest id."""
    return [(WITH_POINTS, [*_range(period, unit), BAND]), (LAST_MEMBER, [])]


def _scan_pays(
    period: Period, unit: Unit, roster: int, count: int, read: list | None = None
) -> Scan:
    """Whether ``count`` members without points are better found in all members' id order
    (``_zeros``) than in the subtree's, which reads every membership of the subtree: the
    first reads about (all members ÷ the subtree's members without points) ids for each one
    it finds (on SQLite the ids themselves cost little; those that hold no points in the
    subtree are each asked whether they are on its roster; on PostgreSQL below the root see
    ``BATCH_COST``). Members with points are counted from the score bands: ``read``, the
    rows of ``_scan_statements`` where the caller read them beside its own."""
    if roster <= SMALL_ROSTER:
        return Scan()
    with_points, top_id = read or query_each(_scan_statements(period, unit))
    top = top_id[0][0]
    cost = BATCH_COST if unit.parent_id is not None and is_postgres() else 1
    zeros = roster - with_points[0][0]
    if zeros <= 0 or zeros * roster < count * top * cost:
        return Scan(0, top)
    return Scan(top / zeros, top)


def _zeros(
    period: Period,
    unit: Unit,
    member_id: int | None,
    count: int,
    *,
    below: bool,
    by_id: Scan,
    first: list[tuple] | None = None,
) -> tuple[list[tuple], bool]:
    """Up to ``count`` roster members without points next to ``member_id`` (below it, nearest
    first, or above it; None: below every member), as rows, and whether those were all there
    are.

    Found in all members' memberships in id order (where ``by_id`` says so, see
    ``_scan_pays``), where a member with several memberships may be met twice; else taken
    from all of the subtree's. ``first``: the rows of the first window of ids, where the
    caller read it (``_in_windows``).
    """
    if count <= 0:
        return [], False
    if not by_id:
        side = _side(_subtree_zeros(period, unit), member_id, below)
        return _zero_rows(period, unit, side[:count]), len(side) <= count
    if member_id is None:
        member_id = by_id.last_member() + 1
    if not is_postgres():
        return _zeros_by_gaps(period, unit, member_id, count, below)
    if _in_windows(unit):
        return _zeros_in_windows(period, unit, member_id, count, below, by_id, first)
    return _zeros_in_batches(period, unit, member_id, count, below)


def _zeros_by_gaps(
    period: Period, unit: Unit, member_id: int, count: int, below: bool
) -> tuple[list[tuple], bool]:
    """``_zeros`` by id on SQLite: batches growing twofold of the members who hold no points
    (``GAPS``), each going on from the last one of the batch before (a batch walks every id
    between its first and last: larger steps overshot by more than they saved)."""
    found: list[tuple] = []
    where, roster, start, batch = _range(period, unit), _on_roster(period, unit), member_id, 0
    first_day = sql_date(period.start)
    root = unit.parent_id is None
    paths = [] if root else list(rosters.path_range(unit))
    while True:
        batch = batch * 2 or min(count, GAP_BATCH)
        rows = query(
            GAPS[(below, root)],
            [*roster, *where, start, *paths, *where, start, first_day, start, batch],
        )
        if _kept(rows, found, count):
            return found, False
        if len(rows) < batch:
            return found, True
        start = rows[-1][0]


def _kept(rows: list[tuple], found: list[tuple], count: int) -> bool:
    """Add the members of ``rows`` (member, on the roster, reported days) who are on the
    roster to ``found``, as rows without points, until it holds ``count``; whether it does."""
    for m, on_roster, reported in rows:
        if on_roster:
            found.append((m, 0, reported))
            if len(found) == count:
                return True
    return False


def _zeros_in_batches(
    period: Period, unit: Unit, member_id: int, count: int, below: bool
) -> tuple[list[tuple], bool]:
    """``_zeros`` by id on PostgreSQL: batches growing fourfold, each going on from the last
    member of the one before, included."""
    found: dict[int, tuple] = {}
    where, holds = _range(period, unit), _holds_none(period, unit)
    start, inclusive, batch = member_id, False, 64
    while True:
        holding, scan = BY_ID[(below, inclusive)]
        rows, ((scanned, last),) = query_each(
            [(holding, [*where, start, start, batch, *holds]), (scan, [start, batch])]
        )
        for m, reported in rows:
            found.setdefault(m, (m, 0, reported))
            if len(found) == count:
                return list(found.values()), False
        if scanned < batch:
            return list(found.values()), True
        start, inclusive, batch = last, True, batch * 4


# On PostgreSQL at the root, in windows of member ids growing twofold: a window's
# membership ids less its ids holding points (PostgreSQL hashes the two index ranges, where
# the batches look each membership's points up: 146 ms for a member without points at the
# root of a year), each then asked about (``ASKED``); rows are (member, on the roster,
# reported days) in id order. Elsewhere a window would ask about every member outside the
# subtree, so the batches stay. The first window spans half as many ids again as should
# hold the members wanted, by the spread of members without points among all ids, and at
# least this many (the next ones double: sized so, a window that falls short falls short by
# little, and fourfold windows read 21,000 ids a side where 5,000 had nearly been enough):
ID_WINDOW = 8
WINDOW = (
    f"SELECT z.member_id, {ASKED} FROM (SELECT member_id FROM membership "
    "WHERE member_id > ? AND member_id < ? EXCEPT SELECT member_id FROM subtree_points "
    f"WHERE {RANGE} AND points <> 0 AND member_id > ? AND member_id < ?) AS z "
    "ORDER BY z.member_id"
)


def _side(ids: list[int], member_id: int | None, below: bool) -> list[int]:
    """The ids below ``member_id`` (None: below every member), nearest first, or above it."""
    if below:
        return [m for m in ids if member_id is None or m < member_id][::-1]
    return [m for m in ids if m > member_id]


def _in_windows(unit: Unit) -> bool:
    """Whether members without points are found in windows of ids (``_zeros_in_windows``)."""
    return unit.parent_id is None and is_postgres()


def _first_window(
    period: Period, unit: Unit, member_id: int, count: int, below: bool, scan: Scan
) -> tuple[str, list]:
    """The statement of the first window of ids from ``member_id`` on."""
    return _window(period, unit, *_bounds(member_id, _first_width(count, scan), below))


def _first_width(count: int, scan: Scan) -> int:
    return max(ID_WINDOW, round(1.5 * count * scan.spread))


def _bounds(start: int, width: int, below: bool) -> tuple[int, int]:
    return (start - width, start) if below else (start, start + width)


def _window(period: Period, unit: Unit, low: int, high: int) -> tuple[str, list]:
    where = _range(period, unit)
    return WINDOW, [*_on_roster(period, unit), *where, low, high, *where, low, high]


def _zeros_in_windows(
    period: Period,
    unit: Unit,
    member_id: int,
    count: int,
    below: bool,
    scan: Scan,
    first: list[tuple] | None = None,
) -> tuple[list[tuple], bool]:
    """``_zeros`` by id on PostgreSQL at the root: windows of ids (``WINDOW``) from
    ``member_id`` on, each beyond the one before and twice as wide, until the ids run
    out. ``first``: the first window's rows (``_first_window``), if read already."""
    found: list[tuple] = []
    start, width = member_id, 0
    top = None if below else scan.last_member()
    while True:
        width = width * 2 or _first_width(count, scan)
        low, high = _bounds(start, width, below)
        rows = query(*_window(period, unit, low, high)) if first is None else first
        first = None
        if _kept(rows[::-1] if below else rows, found, count):
            return found, False
        if low <= 0 if below else high > top:
            return found, True
        start = low + 1 if below else high - 1


def _on_roster(period: Period, unit: Unit) -> list:
    """The parameters of ``ON_ROSTER``."""
    first_day, last_day = sql_date(period.start), sql_date(period.end)
    return [*rosters.path_range(unit), last_day, last_day, first_day, first_day]


def _holds_none(period: Period, unit: Unit) -> list:
    """The parameters of ``HOLDS_NONE`` with either condition on points."""
    return [*_on_roster(period, unit), *_range(period, unit)]


def _subtree_zeros(period: Period, unit: Unit) -> list[int]:
    """Every roster member of the subtree without points in the period, by id."""
    return sorted(m for (m,) in query(IN_SUBTREE, _holds_none(period, unit)))


def _zero_rows(period: Period, unit: Unit, member_ids: list[int]) -> list[tuple]:
    """Rows of members without points, in the given order: a member who reported days of
    zero points has a row that says how many; the others have none."""
    if not member_ids:
        return []
    reported = {m: r for m, _, r in query(*_rows_of(period, unit, member_ids))}
    return [(m, 0, reported.get(m, 0)) for m in member_ids]


def _beyond_zeros(period: Period, unit: Unit, count: int) -> list[tuple]:
    """The first ``count`` members with deductions, who follow those without points."""
    if count <= 0:
        return []
    return query(
        f"{ROWS} AND points < 0 ORDER BY points DESC, member_id LIMIT ?",
        [*_range(period, unit), count],
    )


def _before_zeros(period: Period, unit: Unit, count: int) -> list[tuple]:
    """The last ``count`` members with points, who come before those without, in board order."""
    if count <= 0:
        return []
    rows = query(
        f"{ROWS} AND points > 0 ORDER BY points, member_id DESC LIMIT ?",
        [*_range(period, unit), count],
    )
    return rows[::-1]


def _then_zeros(
    period: Period, unit: Unit, after: list[tuple], count: int, by_id: Scan
) -> list[tuple]:
    """``after`` (rows in board order) cut where members without points begin, then those
    members by id and then members with deductions, ``count`` rows in all (fewer at the end
    of the board)."""
    positive = [r for r in after if r[1] > 0][:count]
    rows, all_of_them = _zeros(period, unit, 0, count - len(positive), below=False, by_id=by_id)
    if all_of_them:
        rows += _beyond_zeros(period, unit, count - len(positive) - len(rows))
    return positive + rows


def _top_rows(period: Period, unit: Unit, rows: list[tuple], limit: int, roster: int):
    """The first ``limit`` rows of the board with their ranks, from the first ``limit`` rows
    with points and, where those are fewer, members without points and with deductions."""
    if len(rows) < limit or (rows and rows[-1][1] <= 0):
        if roster <= SMALL_ROSTER:
            rows = _with_zeros(period, unit, rows, limit)
        else:
            by_id = _scan_pays(period, unit, roster, limit - sum(r[1] > 0 for r in rows))
            rows = _then_zeros(period, unit, rows, limit, by_id)
    ranks, previous_rank = [], 0
    for i, (_, points, _) in enumerate(rows):
        previous_rank = previous_rank if i and points == rows[i - 1][1] else i + 1
        ranks.append(previous_rank)
    return rows, ranks


def _with_zeros(period: Period, unit: Unit, rows: list[tuple], limit: int) -> list:
    """The top when it reaches members with zero points: they follow by member id, and
    members with deductions follow them.

    ``rows`` then holds every member with points. Reads the subtree's roster, so it pays off
    for small subtrees.
    """
    positive = [r for r in rows if r[1] > 0]
    with_rows = {m: (m, p, r) for m, p, r in query(ROWS, _range(period, unit))}
    zeros = sorted(
        {m for m, *_ in rosters.spans(period, unit) if m not in with_rows or with_rows[m][1] == 0}
    )
    negative = sorted((r for r in with_rows.values() if r[1] < 0), key=_board_key)
    return [*positive, *(with_rows.get(m, (m, 0, 0)) for m in zeros), *negative][:limit]


def _mine_and_neighbours(period: Period, unit: Unit, member_id: int, around: int):
    where = _range(period, unit)
    of_me = [*where, member_id]
    if is_postgres():
        side = [*where, *of_me, *of_me, member_id, around]
        return MINE_AND_NEIGHBOURS_RANGED, [*of_me, *side, *side]
    return MINE_AND_NEIGHBOURS, [
        *of_me,
        *[*where, *of_me, member_id, around],
        *[*where, *of_me, around],
        *[*where, *of_me, member_id, around],
        *[*where, *of_me, around],
    ]


def _window_rows(found: list[tuple], member_id: int, around: int) -> tuple[list, int] | None:
    """The member's row with up to ``around`` neighbours each side, in board order, and the
    member's place among them; None where the member has no points or the window reaches
    members without points (see above)."""
    mine = [r for r in found if r[0] == member_id]
    if not mine or mine[0][1] <= 0:
        return None
    before, after = _around(found, mine[0], around)
    if len(after) < around or any(points <= 0 for _, points, _ in after):
        return None
    return [*before, mine[0], *after], len(before)


def _around(found: list[tuple], me: tuple, around: int) -> tuple[list, list]:
    """Up to ``around`` rows of ``found`` each side of ``me``, in board order."""
    before = sorted((r for r in found if _board_key(r) < _board_key(me)), key=_board_key)
    after = sorted((r for r in found if _board_key(r) > _board_key(me)), key=_board_key)
    return (before[-around:] if around else []), after[:around]


def _window_among_zeros(
    period: Period, unit: Unit, member_id: int, around: int, found: list[tuple], by_id: Scan
) -> tuple[list, int]:
    """``_window_rows`` where the window reaches members without points, who have no rows:
    they are found by id (``_zeros``). ``found``: the member's row and neighbours from the
    roll-ups, if they have a row; without one they hold no points."""
    mine = [r for r in found if r[0] == member_id]
    me = mine[0] if mine else (member_id, 0, 0)
    x = me[1]
    if x < 0:  # the members before reach those without points, the last of them by id
        before, after = _around(found, me, around)
        before = [r for r in before if r[1] < 0]
        if len(before) < around:
            count = around - len(before)
            zeros, all_zeros = _zeros(period, unit, None, count, below=True, by_id=by_id)
            lowest = zeros[::-1]
            if all_zeros:
                lowest = _before_zeros(period, unit, count - len(zeros)) + lowest
            before = lowest + before
        return [*before, me, *after], len(before)
    if x > 0:  # the members after reach those without points
        before, after = _around(found, me, around)
        return [*before, me, *_then_zeros(period, unit, after, around, by_id)], len(before)
    if not by_id:  # from the subtree's own, read once for both sides, as are their rows
        among = _subtree_zeros(period, unit)
        below_ids, above_ids = _side(among, member_id, True), _side(among, member_id, False)
        rows = _zero_rows(period, unit, below_ids[:around] + above_ids[:around])
        below, above = rows[: len(below_ids[:around])], rows[len(below_ids[:around]) :]
        all_below, all_above = len(below_ids) <= around, len(above_ids) <= around
    else:
        firsts = [None, None]  # in windows of ids, the first each side are read together
        if around > 0 and _in_windows(unit):
            firsts = query_each(
                [_first_window(period, unit, member_id, around, b, by_id) for b in (True, False)]
            )
        below, all_below = _zeros(
            period, unit, member_id, around, below=True, by_id=by_id, first=firsts[0]
        )
        above, all_above = _zeros(
            period, unit, member_id, around, below=False, by_id=by_id, first=firsts[1]
        )
    before = below[::-1]
    if all_below:
        before = _before_zeros(period, unit, around - len(before)) + before
    after = above + (_beyond_zeros(period, unit, around - len(above)) if all_above else [])
    return [*before, me, *after], len(before)


def _board_key(row: tuple) -> tuple:
    return (-row[1], row[0])  # the board's order: points desc, member id


SCORES = f"SELECT width, floor, members FROM subtree_score WHERE {RANGE} AND width = ?"


def above_counts(
    period: Period, unit: Unit, values: list[int], today: date | None = None
) -> dict[int, int]:
    """For each value, how many roster members of the subtree hold strictly more points.

    Members without a row hold zero points, so below zero they count too (``today`` is then
    needed for the roster size).
    """
    distinct = sorted(set(values))
    if not distinct:
        return {}
    return _above_from(
        query(*_above_statement(period, unit, distinct)), period, unit, distinct, today
    )


EXACT_ABOVE = (
    "SELECT 1, ?, COALESCE(SUM(members), 0) FROM subtree_score "
    f"WHERE {RANGE} AND width = 1 AND floor > ? AND floor < ?"
)
# On PostgreSQL the values come as two arrays (each value, and the floor of the band above
# it), so that the statement's text is the same however many values there are: it stays
# prepared, and planning a union of one subquery per value cost more than running it.
EXACT_ABOVE_EACH = (
    "SELECT 1, v.x, (SELECT COALESCE(SUM(s.members), 0) FROM subtree_score s "
    "WHERE s.ancestor_id = ? AND s.kind = ? AND s.period_start = ? AND s.width = 1 "
    "AND s.floor > v.x AND s.floor < v.upto) FROM unnest(?::int[], ?::int[]) AS v(x, upto)"
)


def _above_statement(period: Period, unit: Unit, distinct: list[int]) -> tuple[str, list]:
    """Two kinds of index range of the score counts, in one statement: the bands from the
    lowest value's band up, and for each value the members of its band above it, summed.
    ``_above_from`` adds the bands up."""
    where = _range(period, unit)
    if distinct[0] < 0:  # every band: members below zero are counted among the roster
        parts, params = [SCORES], [*where, BAND]
    else:
        parts = [f"{SCORES} AND floor >= ?"]
        params = [*where, BAND, distinct[0] - distinct[0] % BAND]
    if is_postgres():
        parts.append(EXACT_ABOVE_EACH)
        params += [*where, distinct, [x - x % BAND + BAND for x in distinct]]
    else:
        for x in distinct:
            parts.append(EXACT_ABOVE)
            params += [x, *where, x, x - x % BAND + BAND]
    return " UNION ALL ".join(parts), params


def _above_from(
    rows: list[tuple], period: Period, unit: Unit, distinct: list[int], today: date | None
) -> dict[int, int]:
    bands = _Counts(rows, BAND)
    exact = {x: n for w, x, n in rows if w == 1}
    out = {x: bands.above(x - x % BAND) + exact[x] for x in distinct}
    if distinct[0] < 0:
        if today is None:
            raise ValueError("ranks below zero need today's roster")
        with_points = bands.total
        zeros = rosters.roster_stats(period, [unit], today)[unit.id][0] - with_points
        for x in distinct:
            if x < 0:
                out[x] += zeros
    return out


class _Counts:
    """Members per floor (one width of the score counts), summed from the top down."""

    def __init__(self, rows: list[tuple], width: int) -> None:
        pairs = sorted((floor, m) for w, floor, m in rows if w == width)
        self.floors = [floor for floor, _ in pairs]
        self.below = [0, *accumulate(m for _, m in pairs)]  # members under the i-th floor
        self.total = self.below[-1]

    def above(self, x: int) -> int:
        """Members counted at floors above ``x``."""
        return self.total - self.below[bisect_right(self.floors, x)]


# On PostgreSQL a few members' rows are looked up one by one by their key: as one condition
# on the array, the generic plan of the prepared statement (which expects a few dozen rows
# per subtree and period) read the whole subtree's range and filtered it, 19-40 ms at the root.
ROWS_OF_EACH = (
    "SELECT p.member_id, p.points, p.reported_days FROM unnest(?::int[]) AS v(id) "
    "CROSS JOIN LATERAL (SELECT member_id, points, reported_days FROM subtree_points "
    f"WHERE {RANGE} AND member_id = v.id LIMIT 1) AS p"
)


def _rows_of(period: Period, unit: Unit, member_ids: list[int]) -> tuple[str, list]:
    """The statement of a few members' rows (member, points, reported days)."""
    if is_postgres():
        return ROWS_OF_EACH, [member_ids, *_range(period, unit)]
    members, params = one_of("member_id", member_ids)
    return f"{ROWS} AND {members}", [*_range(period, unit), *params]


def points_of(period: Period, unit: Unit, member_ids: list[int]) -> dict[int, int]:
    """Some members' points in the subtree for the period (members without a row: none)."""
    out = {}
    for chunk in chunks(member_ids):
        for member_id, points, _ in query(*_rows_of(period, unit, chunk)):
            out[member_id] = points
    return out


def _standings(period: Period, unit: Unit, rows: list[tuple], ranks: list[int | None], today: date):
    """Standings for rows: active days, the change against last period, and the rank where
    ``ranks`` holds None. Two round trips: the rows' memberships, last period's points and
    the score counts for the missing ranks together, then last period's score counts."""
    from .rankings import Standing, rank_change

    if not rows:
        return []
    ids = sorted({m for m, _, _ in rows})
    previous = period.previous()
    statements = [rosters.memberships_statement(ids), _rows_of(previous, unit, ids)]
    unranked = sorted({p for (_, p, _), r in zip(rows, ranks, strict=True) if r is None})
    if unranked:
        statements.append(_above_statement(period, unit, unranked))
    memberships, before_rows, *counts = query_each(statements)
    if unranked:
        above = _above_from(counts[0], period, unit, unranked, today)
        ranks = [1 + above[p] if r is None else r for (_, p, _), r in zip(rows, ranks, strict=True)]
    active: dict[int, int] = dict.fromkeys(ids, 0)
    for member_id, first, last in rosters.spans_in(memberships, period, unit):
        active[member_id] += rosters.elapsed(first, last, period, today)
    before = {m: p for m, p, _ in before_rows}
    for member_id, _, _ in rosters.spans_in(memberships, previous, unit):
        before.setdefault(member_id, 0)  # on last period's roster without a row: zero points
    above = above_counts(previous, unit, list(before.values()), today)
    out = []
    for (member_id, points, reported), r in zip(rows, ranks, strict=True):
        was = 1 + above[before[member_id]] if member_id in before else None
        out.append(Standing(member_id, points, reported, active[member_id], r, rank_change(was, r)))
    return out


def member_slice(
    period: Period, unit: Unit, member_id: int | None, *, limit: int, around: int, today: date
) -> Slice:
    """Top ``limit``, the member's row and neighbours, and the roster's size.

    Three round trips on PostgreSQL: the roster, the top and the member's window together;
    then what the standings need of both (``_standings``).
    """
    statements = [
        rosters.roster_statement(period, [unit], today),
        (TOP, [*_range(period, unit), max(limit, 0)]),
    ]
    if member_id is not None:
        statements.append(_mine_and_neighbours(period, unit, member_id, around))
    roster_rows, top_rows, *found = query_each(statements)
    roster = rosters.roster_stats(period, [unit], today, rows=roster_rows)[unit.id][0]
    rows, ranks = _top_rows(period, unit, top_rows, limit, roster) if limit > 0 else ([], [])
    mine = _window_rows(found[0], member_id, around) if member_id is not None else None
    if mine is None and member_id is not None:
        # What the way to members without points is chosen by, and, for a member without a
        # row, whether they are on the roster at all: one round trip.
        on_board = any(r[0] == member_id for r in found[0])
        scan = _scan_statements(period, unit) if roster > SMALL_ROSTER else []
        spans = [] if on_board else [rosters.memberships_statement([member_id])]
        read = query_each([*scan, *spans]) if scan or spans else []
        if on_board or rosters.spans_in(read[-1], period, unit):
            by_id = _scan_pays(period, unit, roster, 2 * around, read[: len(scan)])
            mine = _window_among_zeros(period, unit, member_id, around, found[0], by_id)
    if mine is None:
        return Slice(roster, _standings(period, unit, rows, ranks, today), None, [])
    window, at = mine
    standings = _standings(period, unit, [*rows, *window], [*ranks, *[None] * len(window)], today)
    head, neighbours = standings[: len(rows)], standings[len(rows) :]
    return Slice(roster, head, neighbours[at], neighbours)
