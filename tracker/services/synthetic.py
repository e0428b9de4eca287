"""Synthetic organisations at any scale, for benchmarks: bulk inserts, roll-ups built alongside.

A tree of ``levels`` levels with skewed branching and unit sizes, members who join and retire
during the window, a few who move, weekday-shaped reporting habits, some quiz results, and a
few awards and deductions given by leaders.
Rows are written with the driver's bulk paths (executemany on SQLite, COPY on PostgreSQL);
roll-ups are aggregated per member while generating, so no rebuild pass is needed.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from itertools import accumulate

from sqlalchemy import func, select, text

from tracker.database import sqlite_file
from tracker.domain.periods import KINDS, period_of
from tracker.extensions import db
from tracker.models import DailyReport, Member, PeriodPoints, QuizResult

from . import driver, rollups

COLUMNS = {
    "unit": ("id", "name", "kind", "parent_id", "path", "depth", "position"),
    "member": ("id", "name", "login", "is_admin", "active_from", "active_to", "retired"),
    "membership": ("id", "member_id", "unit_id", "valid_from", "valid_to"),
    "daily_report": ("id", "member_id", "day", "form", "total", "note"),
    "quiz_result": (
        "id",
        "report_id",
        "member_id",
        "day",
        "kind",
        "questions",
        "correct",
        "seconds",
    ),
    "adjustment": ("id", "member_id", "day", "points", "reason"),
    "period_points": ("kind", "period_start", "member_id", "unit_id", "points", "reported_days"),
}
# Given as dates or as their ISO text (COPY takes either; SQLite is given the text).
DATE_COLUMNS = {"active_from", "active_to", "valid_from", "valid_to", "day", "period_start"}
BULK = (DailyReport, QuizResult, PeriodPoints)
KIND_NAMES = ["党组", "党委", "总支", "支部", "党小组", "党小组"]


class Writer:
    """Buffered bulk insert of plain tuples through the driver."""

    def __init__(self, batch: int = 50_000) -> None:
        self.conn = db.session.connection()
        self.postgres = self.conn.dialect.name == "postgresql"
        self.batch = batch
        self.buffers: dict[str, list[tuple]] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, table: str, row: tuple) -> None:
        buffer = self.buffers[table]
        buffer.append(row)
        if len(buffer) >= self.batch:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        """Write ``table``'s rows, and first those of every table it may refer to."""
        order = list(COLUMNS)
        upto = order.index(table) + 1 if table else len(order)
        for name in order[:upto]:
            rows = self.buffers[name]
            if not rows:
                continue
            cols = COLUMNS[name]
            raw = self.conn.connection.driver_connection
            if self.postgres:
                with (
                    raw.cursor() as cur,
                    cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in cols)
                dates = [i for i, c in enumerate(cols) if c in DATE_COLUMNS]
                for n, row in enumerate(rows):
                    if any(isinstance(row[i], date) for i in dates):
                        cells = list(row)
                        for i in dates:
                            if isinstance(cells[i], date):
                                cells[i] = cells[i].isoformat()
                        rows[n] = tuple(cells)
                raw.executemany(f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({marks})", rows)
            self.counts[name] += len(rows)
            rows.clear()


def generate(
    *,
    members: int,
    units: int,
    levels: int,
    days: int,
    today: date,
    seed: int = 7,
    progress: Callable[[int], None] = lambda n: None,
) -> dict[str, int]:
    """Fill an empty database; ``progress`` is called with members done since the last call."""
    if db.session.execute(select(func.count()).select_from(Member)).scalar_one():
        raise ValueError("the database already has members; generate into an empty one")
    rng = random.Random(seed)
    start = today - timedelta(days=days)
    with _bulk_journal():
        counts = _generate(members, units, levels, days, today, start, rng, progress)
    if driver.is_postgres():
        # Planner statistics for the bulk-loaded tables, as autovacuum would gather them
        # (a server may run with it off): without them PostgreSQL guesses its plans.
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return counts


@contextmanager
def _bulk_journal() -> Iterator[None]:
    """On SQLite, fill the new database through a rollback journal instead of the WAL.

    The fill is one transaction of many gigabytes at province scale: in WAL mode every page
    would be written twice (to the log, then back at the checkpoint), and every page read
    while deriving the subtree roll-ups would first be looked up in a log of millions of
    frames. A rollback journal keeps only the original content of pages that existed
    before, which in an empty database is next to nothing. The page cache is made large
    enough for the sorts that order the roll-ups and build their indexes. The app's usual
    settings (WAL, its default cache) come back at the end, whatever happens.
    """
    if sqlite_file(db.engine) is None:
        yield  # PostgreSQL; or an in-memory database, which would not survive emptying the pool
        return
    # A new connection, set for the fill, is the only one in the pool when the session takes
    # one; afterwards the pool is emptied again, and each new connection is set as usual.
    db.session.close()
    db.engine.dispose()
    raw = db.engine.raw_connection()
    try:
        raw.driver_connection.execute("PRAGMA journal_mode=DELETE")
        raw.driver_connection.execute("PRAGMA cache_size=-1048576")  # 1 GiB
    finally:
        raw.close()
    try:
        yield
    finally:
        db.session.close()
        db.engine.dispose()
        db.engine.raw_connection().close()  # a new connection puts the file back in WAL mode


def _generate(
    members: int,
    units: int,
    levels: int,
    days: int,
    today: date,
    start: date,
    rng: random.Random,
    progress: Callable[[int], None],
) -> dict[str, int]:
    out = Writer()
    tree = _tree(units, levels, rng)
    for row in tree:
        out.add("unit", row)
    out.flush("unit")
    # Members sit mostly in the deepest units, sized by a skewed (log-normal) weight.
    depth_of = {row[0]: row[5] for row in tree}
    deepest = max(depth_of.values())
    homes = [uid for uid, d in depth_of.items() if d >= max(1, deepest - 1)]
    # Cumulative, so that each draw is a bisection, not a sum over every unit (the same draws).
    weights = list(accumulate(rng.lognormvariate(0, 0.9) for _ in homes))
    # Each day of the window once: its text form and the periods it falls in (looked up for
    # every report otherwise, about a fifth of the build).
    calendar = [
        (
            day,
            day.isoformat(),
            day.weekday() >= 5,
            [(k, period_of(k, day).start.isoformat()) for k in KINDS],
        )
        for day in (start + timedelta(days=i) for i in range(days + 1))
    ]
    # The big tables' secondary indexes are built once after their rows: kept up to date row
    # by row, each report lands at a different place in them (every day, every unit).
    indexes = sorted(
        (index for model in BULK for index in model.__table__.indexes), key=lambda i: i.name
    )
    for index in indexes:
        index.drop(out.conn)
    report_id = quiz_id = membership_id = adjustment_id = 0
    for mid in range(1, members + 1):
        unit = rng.choices(homes, cum_weights=weights)[0]
        joined = start - timedelta(days=rng.randint(1, 3000))
        if rng.random() < 0.05:
            joined = start + timedelta(days=rng.randint(0, days))
        left = start + timedelta(days=rng.randint(0, days)) if rng.random() < 0.03 else None
        if left is not None and left < joined:
            left = None
        out.add("member", (mid, f"党员{mid:06d}", None, False, joined, left, rng.random() < 0.1))
        spans = [(joined, None, unit)]
        if rng.random() < 0.02:
            moved = start + timedelta(days=rng.randint(1, days))
            if moved > joined:
                other = rng.choices(homes, cum_weights=weights)[0]
                spans = [(joined, moved - timedelta(days=1), unit), (moved, None, other)]
        for first, last, uid in spans:
            membership_id += 1
            out.add("membership", (membership_id, mid, uid, first, last))
        zeal = rng.betavariate(2, 1.5)
        weekend = rng.uniform(0.4, 1.0)
        rollup: dict[tuple[tuple[str, str], int], list[int]] = defaultdict(lambda: [0, 0])
        first = max(start, joined)
        end = min(today - timedelta(days=1), left or today)
        for day, iso, on_weekend, periods in calendar[
            (first - start).days : (end - start).days + 1
        ]:
            chance = zeal * (weekend if on_weekend else 1.0)
            if rng.random() < chance:
                total = min(54, max(1, int(rng.gauss(18 + 30 * zeal, 8))))
                report_id += 1
                out.add("daily_report", (report_id, mid, iso, "total", total, ""))
                if rng.random() < 0.1:
                    quiz_id += 1
                    correct = rng.randint(3, 5)
                    out.add(
                        "quiz_result",
                        (
                            quiz_id,
                            report_id,
                            mid,
                            iso,
                            "每日答题",
                            5,
                            correct,
                            rng.randint(30, 300),
                        ),
                    )
                uid = _unit_on(spans, day)
                for period in periods:
                    cell = rollup[(period, uid)]
                    cell[0] += total
                    cell[1] += 1
        # An award now and then (集中学习, a talk given), and rarer deductions.
        after = max(first, end + timedelta(days=1))  # the day after the last on the roster
        for chance, low, high, reason in ((0.03, 5, 20, "集中学习加分"), (0.01, -30, -5, "扣分")):
            if rng.random() < chance and first < after:
                given = first + timedelta(days=rng.randint(0, (after - first).days - 1))
                points = rng.randint(low, high)
                adjustment_id += 1
                out.add("adjustment", (adjustment_id, mid, given, points, reason))
                uid = _unit_on(spans, given)
                for period in calendar[(given - start).days][3]:
                    rollup[(period, uid)][0] += points
        for ((kind, period_start), uid), (points, reported) in rollup.items():
            out.add("period_points", (kind, period_start, mid, uid, points, reported))
        if mid % 1000 == 0:
            progress(1000)
    out.flush()
    for index in indexes:
        index.create(out.conn)
    progress(members % 1000)
    _reset_sequences(out)
    rollups.fill_subtrees()
    db.session.commit()
    return dict(out.counts)


def _unit_on(spans: list[tuple[date, date | None, int]], day: date) -> int:
    """The unit of the member's span holding ``day``."""
    if len(spans) == 1:
        return spans[0][2]
    return next(u for f, t, u in spans if f <= day and (t is None or day <= t))


def _tree(units: int, levels: int, rng: random.Random) -> list[tuple]:
    """Rows for a tree of ``units`` units over ``levels`` levels, wider at each level."""
    per_level = _level_sizes(units, levels)
    rows: list[tuple] = [(1, "全省机关党组", "党组", None, "/1/", 0, 0)]
    previous = [(1, "/1/")]
    next_id = 2
    for depth, size in enumerate(per_level[1:], start=1):
        weights = list(accumulate(rng.paretovariate(1.5) for _ in previous))
        level = []
        for i in range(size):
            parent, parent_path = rng.choices(previous, cum_weights=weights)[0]
            path = f"{parent_path}{next_id}/"
            kind = KIND_NAMES[min(depth, len(KIND_NAMES) - 1)]
            rows.append((next_id, f"第{depth}级{kind}{i + 1:04d}", kind, parent, path, depth, i))
            level.append((next_id, path))
            next_id += 1
        previous = level
    return rows


def _level_sizes(units: int, levels: int) -> Sequence[int]:
    """1 root, then level sizes growing geometrically so they add up to ``units``."""
    if levels < 2 or units < levels:
        raise ValueError("need at least 2 levels and one unit per level")
    growth = max(1.5, (units - 1) ** (1 / (levels - 1)))
    sizes = [1] + [max(1, round(growth**d)) for d in range(1, levels)]
    sizes[-1] += units - sum(sizes)
    if sizes[-1] < 1:
        raise ValueError("too few units for that many levels")
    return sizes


def _reset_sequences(out: Writer) -> None:
    """Explicit ids were written: move PostgreSQL's sequences past them."""
    if not out.postgres:
        return
    for table in ("unit", "member", "membership", "daily_report", "quiz_result", "adjustment"):
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
            )
        )
