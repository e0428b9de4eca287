"""Engine settings per database: SQLite in WAL mode with queued writers."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event

from .extensions import db


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
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
