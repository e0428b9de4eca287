"""Engine settings per database: SQLite in WAL mode with writers queued on a lock of the
kernel's and checkpoints in the background; on PostgreSQL, prepared statements that outlive
read-only transactions."""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import weakref

from flask import Flask
from sqlalchemy import Engine, event

from .extensions import db

log = logging.getLogger(__name__)

# With checkpoints in the background, a writer still checkpoints once the log holds this many
# pages (16 MB), should the background thread fall behind or stop.
BACKSTOP_PAGES = 4000


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "postgresql":
        _keep_prepared_statements(engine)
        _without_jit(engine)
    if engine.dialect.name != "sqlite":
        return
    path = sqlite_file(engine)
    interval = app.config["SQLITE_CHECKPOINT_SECONDS"]
    background = interval > 0 and path is not None

    if path is not None:

        @event.listens_for(engine, "do_connect")
        def _queued_writers(_dialect, _record, _cargs, cparams) -> None:
            cparams["factory"] = QueuedWriters

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event below decide how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        if background:
            cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
        cursor.close()

    if background:

        @app.before_request
        def _checkpoints_in_background() -> None:
            Checkpointer.ensure(engine, path, interval)

        @event.listens_for(engine, "engine_disposed")
        def _stop_checkpoints(disposed: Engine) -> None:
            Checkpointer.stop(path)  # the next request starts it again

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # Writers take the write lock up front, so they wait their turn (``QueuedWriters``,
        # then busy_timeout) instead of failing with "database is locked" when a read lock
        # cannot be upgraded.
        immediate = conn.get_execution_options().get("tracker_write")
        if immediate and path is not None:
            conn.connection.driver_connection.take_turn(path)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class QueuedWriters(sqlite3.Connection):
    """A SQLite connection whose write transactions queue on a lock of the kernel's.

    SQLite lets a writer that finds the database locked sleep and try again, for 1 ms, then
    2, 5, 10 ms and more; between two processes writing reports of a few milliseconds each,
    a waiting writer often slept for 3 or 8 ms after the lock was free (at 300 reports a
    second, half of them slept, 1.3 ms a report on average). Here a write transaction first
    takes an ``flock`` of a file beside the database (``<database>-writers``), which the
    kernel hands to the next writer the moment the last one commits or rolls back, and lets
    go when the process dies. Writers that do not queue (another program, the ``sqlite3``
    shell) still meet SQLite's lock and its busy timeout. A thread already holding a turn on
    another connection does not queue again: it would wait for itself, where SQLite's lock
    gives up after the busy timeout.
    """

    _held = threading.local()  # the turns this thread holds, by file

    def take_turn(self, path: str) -> None:
        turns = self._held.__dict__.setdefault("turns", set())
        lock = path + "-writers"
        if lock in turns:
            return
        fd = getattr(self, "_turn_fd", None)
        if fd is None:
            fd = self._turn_fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._turn = lock
        turns.add(lock)

    def _end_turn(self) -> None:
        lock = getattr(self, "_turn", None)
        if lock is not None:
            self._turn = None
            self._held.__dict__.get("turns", set()).discard(lock)
            fcntl.flock(self._turn_fd, fcntl.LOCK_UN)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._end_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._end_turn()
            fd = getattr(self, "_turn_fd", None)
            if fd is not None:
                self._turn_fd = None
                os.close(fd)


def sqlite_file(engine: Engine) -> str | None:
    """The file of a SQLite database kept on disk; None for any other database."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or path in (None, "", ":memory:"):
        return None
    return path


class Checkpointer:
    """Copies SQLite's write-ahead log back into the database every ``interval`` seconds, from
    a thread of its own, so that writers do not.

    Left to SQLite, the writer whose commit takes the log past a thousand pages copies them
    back before its request can answer (up to a hundred milliseconds, waiting on the disk), and
    pages that every report changes (the score counts of the whole organisation, say) are
    copied again every few reports. A passive checkpoint takes no lock that readers or writers
    wait on. One thread per serving process and database file, started by the process's first
    request (so after gunicorn forks its workers; commands and scripts leave checkpoints to
    their writers). Each checkpoint opens a connection of its own and closes it, so the last
    connection the app closes still checkpoints everything and removes the log. The thread
    ends when its engine is disposed or gone, or the file is; it never creates the file.
    """

    _running: dict[tuple[int, str], Checkpointer] = {}
    _lock = threading.Lock()
    # Held while a checkpoint runs, and by a fork (``serving.in_child``) while it forks: a
    # child never starts with SQLite's locks held by a thread it does not have.
    checkpointing = threading.Lock()

    def __init__(self, engine: Engine, path: str, interval: float) -> None:
        self.engine = weakref.ref(engine)
        self.path = path
        self.interval = interval
        self.stopped = threading.Event()
        self.last: tuple[int, int] | None = None  # pages in the log, and copied back, then
        self.thread = threading.Thread(target=self._run, name=f"checkpoint {path}", daemon=True)
        self.thread.fork_safe = True  # see checkpointing

    @classmethod
    def ensure(cls, engine: Engine, path: str, interval: float) -> Checkpointer:
        key = (os.getpid(), os.path.abspath(path))
        running = cls._running.get(key)
        if running is not None and running.thread.is_alive():
            return running
        with cls._lock:
            running = cls._running.get(key)
            if running is None or not running.thread.is_alive():
                running = cls._running[key] = cls(engine, path, interval)
                running.thread.start()
            return running

    @classmethod
    def stop(cls, path: str) -> None:
        """End the process's thread for ``path``, waiting for a checkpoint under way: its
        connection, if last to close, then takes the log in, as the app's would have."""
        running = cls._running.pop((os.getpid(), os.path.abspath(path)), None)
        if running is not None:
            running.stopped.set()
            if running.thread.is_alive() and running.thread is not threading.current_thread():
                running.thread.join(timeout=5)

    def _run(self) -> None:
        while not self.stopped.wait(self.interval):
            if self.engine() is None or not os.path.exists(self.path):
                return
            try:
                with Checkpointer.checkpointing:
                    conn = sqlite3.connect(
                        f"file:{self.path}?mode=rw", uri=True, isolation_level=None, timeout=1
                    )
                    try:
                        _, pages, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    finally:
                        conn.close()
            except sqlite3.Error as e:  # e.g. the file replaced under it: try again later
                log.debug("checkpoint of %s: %s", self.path, e)
                continue
            self.last = (pages, copied)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=Checkpointer.checkpointing.acquire,
        after_in_parent=Checkpointer.checkpointing.release,
        after_in_child=Checkpointer.checkpointing.release,
    )


def _without_jit(engine) -> None:
    """Turn PostgreSQL's JIT compilation off for the app's connections.

    The server compiles a statement's expressions to machine code when its estimated cost
    passes ``jit_above_cost``; estimates of the app's short statements can be far above what
    they do. Members without points at a province's root, in a window of 21,000 ids: planned
    for 21,000 members to ask about, it asked about 85 in 14 ms, after 146 ms of compiling.
    Every statement here reads index ranges of a few thousand rows at most. Set in the
    connection's startup options, so it costs no round trip.
    """

    @event.listens_for(engine, "do_connect")
    def _options(_dialect, _record, _cargs, cparams) -> None:
        cparams["options"] = f"{cparams.get('options', '')} -c jit=off".strip()


def _keep_prepared_statements(engine) -> None:
    """End transactions that wrote nothing with COMMIT rather than ROLLBACK.

    psycopg prepares a statement on the server once it has run a few times on a connection,
    which saves PostgreSQL planning it again (about half of a short board statement's time),
    but it forgets every prepared statement on ROLLBACK, in case the transaction had changed
    the schema. Every request that only reads ends in a rollback, so nothing stayed prepared.
    A transaction to which PostgreSQL assigned no transaction id wrote no row and changed no
    schema: committing it is the same as rolling it back, and keeps the statements. It is not
    the same for session state changed without a transaction id (a plain ``SET``,
    ``set_config(…, false)``, ``LISTEN``/``NOTIFY``): the app uses none of them on its
    sessions' connections, and must not start to.

    Any doubt (a connection SQLAlchemy invalidated, or one that fails the question) leaves
    the rollback to SQLAlchemy, which reports a lost connection as it always does.
    """
    import psycopg
    from psycopg.pq import TransactionStatus

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn) -> None:
        if conn.invalidated or conn.closed:
            return
        driver = conn.connection.driver_connection
        if driver is None or driver.info.transaction_status != TransactionStatus.INTRANS:
            return  # idle, failed or in a pipeline: a real rollback
        try:
            query = driver.execute("SELECT txid_current_if_assigned()", prepare=True)
            if query.fetchone()[0] is None:
                driver.commit()  # the rollback that follows finds the connection idle
        except psycopg.Error:
            return  # SQLAlchemy's rollback then meets the same error and handles it
