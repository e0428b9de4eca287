"""Write transactions that never surface "database is locked".

On SQLite a write transaction starts with ``BEGIN IMMEDIATE`` (see ``database``), so writers
queue instead of failing when a read lock cannot be upgraded: on a lock of the kernel's
beside the database file (``database.QueuedWriters``), else on SQLite's busy timeout.
On PostgreSQL, rows are locked explicitly where a write depends on what it read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tracker.extensions import db

from .driver import is_postgres as is_postgres  # asked of tx by the services that write


@contextmanager
def write() -> Iterator[None]:
    session = db.session()
    if session.in_transaction():
        # End the read transaction (a request may have loaded the user); it wrote nothing.
        session.commit()
    session.connection(execution_options={"tracker_write": True})
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
