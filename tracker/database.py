"""Engine settings per database: SQLite in WAL mode with queued writers; on PostgreSQL,
prepared statements that outlive read-only transactions."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event

from .extensions import db


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "postgresql":
        _keep_prepared_statements(engine)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event below decide how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # Writers take the write lock up front, so they wait their turn (busy_timeout) instead
        # of failing with "database is locked" when a read lock cannot be upgraded.
        immediate = conn.get_execution_options().get("tracker_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


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
