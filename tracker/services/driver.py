"""Short statements sent straight to the database driver, for the hottest reads and writes.

Board reads and the roll-up deltas of every write run a few small statements each; building
SQLAlchemy statements cost more than running them. Statements are written with ``?`` marks
(SQLite's style; PostgreSQL's ``%s`` is swapped in) and run on the session's connection, so
they are part of the session's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime

from sqlalchemy import event
from sqlalchemy.orm import Session

from tracker.extensions import db


def is_postgres() -> bool:
    """Whether the app's database is PostgreSQL (asked several times by every board read:
    the app's engine, which is the session's bind, is found quicker than that bind)."""
    return db.engine.dialect.name == "postgresql"


_DRIVER = "tracker.driver"  # the session's key for its transaction's driver connection


def _driver():
    """The session connection's driver connection, and whether it is PostgreSQL's.

    Found once a transaction and kept in the session's ``info`` until the transaction ends:
    asking the session for its connection each time cost more than a short statement's
    execution (a write asks about twenty times, a board three to nine).
    """
    session = db.session()
    session.flush()  # like the ORM's autoflush: pending changes are seen (free when clean)
    found = session.info.get(_DRIVER)
    if found is None:
        conn = session.connection()
        found = session.info[_DRIVER] = (
            conn.connection.driver_connection,
            conn.dialect.name == "postgresql",
        )
    return found


@event.listens_for(Session, "after_transaction_end")
def _forget_driver(session: Session, _transaction) -> None:
    """A transaction's end, savepoints' included, lets go of its driver connection."""
    session.info.pop(_DRIVER, None)


def _cursor_and_sql(sql: str):
    driver, postgresql = _driver()
    return driver, sql.replace("?", "%s") if postgresql else sql


def query(sql: str, params: Sequence = ()) -> list[tuple]:
    driver, sql = _cursor_and_sql(sql)
    return driver.execute(sql, tuple(params)).fetchall()


def query_each(statements: Sequence[tuple[str, Sequence]]) -> list[list[tuple]]:
    """The rows of each of a few statements that do not depend on each other.

    On PostgreSQL they are sent together and answered in one round trip (psycopg's pipeline
    mode): a short board statement's time there is mostly the round trip.
    """
    driver, postgresql = _driver()
    if not postgresql:
        return [driver.execute(sql, tuple(params)).fetchall() for sql, params in statements]
    with driver.pipeline():
        cursors = [
            driver.execute(sql.replace("?", "%s"), tuple(params)) for sql, params in statements
        ]
    return [cursor.fetchall() for cursor in cursors]


def chunks(values: Sequence, size: int = 5_000) -> Iterator[Sequence]:
    """Values a few thousand at a time: a statement holds only so many parameters."""
    for i in range(0, len(values), size):
        yield values[i : i + size]


def one_of(column: str, values: Sequence) -> tuple[str, list]:
    """The condition that ``column`` is one of ``values``, and its parameters.

    On PostgreSQL one array parameter, so that the statement's text does not depend on how
    many values there are and it stays prepared (see ``database``); SQLite gets a list of marks.
    """
    values = list(values)
    if is_postgres():
        return f"{column} = ANY(?)", [values]
    return f"{column} IN ({', '.join('?' * len(values))})", values


def execute_many(sql: str, rows: Iterable[Sequence]) -> None:
    rows = [tuple(r) for r in rows]
    if not rows:
        return
    driver, sql = _cursor_and_sql(sql)
    cursor = driver.cursor()
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()


COPY_FROM = 50  # rows from which PostgreSQL is given COPY rather than one INSERT a row


def insert_many(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Insert plain rows into ``table`` (bulk writes: imports, roll-up deltas, audit entries).

    On PostgreSQL more than a few rows go through COPY: an INSERT a row, even pipelined, is
    parsed, planned and run once per row (100,000 rows: about 1.5 s against 0.1 s). SQLite
    runs one prepared INSERT over all of them. Values are given as ``sql_date`` gives them.
    """
    rows = [tuple(r) for r in rows]
    if not rows:
        return
    names = ", ".join(columns)
    driver, postgresql = _driver()
    if postgresql and len(rows) >= COPY_FROM:
        with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    execute_many(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def returning_each(sql: str, rows: Iterable[Sequence]) -> list[tuple]:
    """Run a statement with RETURNING once per row, in order; the first returned row of each.

    On PostgreSQL the runs are sent together (``query_each``): a report's roll-up upsert runs
    once for each of its 25 or so (period, ancestor) rows, each a round trip before.
    """
    return [tuple(found[0]) for found in query_each([(sql, row) for row in rows])]


def sql_date(day: date | str) -> date | str:
    """A date as the driver compares it with stored dates (SQLite keeps ISO text)."""
    if isinstance(day, str) or is_postgres():
        return day
    return day.isoformat()


def sql_datetime(moment: datetime) -> datetime | str:
    """A moment as the driver compares it with stored ones: SQLite keeps UTC text in the
    format SQLAlchemy writes (``2026-11-23 08:00:00.000000``)."""
    if is_postgres():
        return moment
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def as_date(value) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def as_datetime(value) -> datetime:
    """A stored moment as an aware datetime (SQLite keeps UTC text without a zone)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_json(value):
    """A stored JSON value (PostgreSQL's driver decodes it; SQLite keeps the text)."""
    return json.loads(value) if isinstance(value, str) else value
