"""SQLite's write-ahead log is copied back into the database by a thread of each serving
process, not by the writer whose commit happens to fill it."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from datetime import date

import pytest

from tests.conftest import TODAY
from tracker.database import BACKSTOP_PAGES, Checkpointer
from tracker.extensions import db
from tracker.services import org as org_service
from tracker.services import tx


def _sqlite_only(app) -> str:
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's write-ahead log")
        return db.engine.url.database


def _running(path: str) -> Checkpointer | None:
    return Checkpointer._running.get((os.getpid(), os.path.abspath(path)))


def _wait(condition, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def _write_units(app, count: int) -> None:
    with app.app_context():
        for i in range(count):
            with tx.write():
                org_service.add_unit(f"检查点支部{i}", "支部")


def test_a_request_starts_the_checkpoints_and_they_copy_the_log_back(app_factory):
    app = app_factory(SQLITE_CHECKPOINT_SECONDS=0.05)
    path = _sqlite_only(app)
    assert _running(path) is None
    assert app.test_client().get("/login").status_code == 200
    checkpointer = _running(path)
    assert checkpointer is not None and checkpointer.thread.is_alive()
    with app.app_context():
        # Writers leave the log alone until it is far longer than SQLite's thousand pages.
        setting = db.session.connection().exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        assert setting == BACKSTOP_PAGES
        db.session.rollback()
    _write_units(app, 5)
    # Every page those commits put in the log is copied back by the thread.
    assert _wait(lambda: checkpointer.last is not None and checkpointer.last[0] > 0)
    assert _wait(lambda: checkpointer.last[1] == checkpointer.last[0])
    # One thread per process and file, however many requests.
    app.test_client().get("/login")
    assert _running(path) is checkpointer
    with app.app_context():
        db.engine.dispose()
    assert _wait(lambda: not checkpointer.thread.is_alive())
    assert _running(path) is None


def test_without_background_checkpoints_writers_keep_sqlites_default(app_factory):
    app = app_factory(SQLITE_CHECKPOINT_SECONDS=0)
    path = _sqlite_only(app)
    assert app.test_client().get("/login").status_code == 200
    assert _running(path) is None
    with app.app_context():
        setting = db.session.connection().exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        assert setting == 1000
        db.session.rollback()


def test_the_thread_ends_with_its_file_and_never_creates_it(app_factory, tmp_path):
    app = app_factory(SQLITE_CHECKPOINT_SECONDS=0.05)
    path = _sqlite_only(app)
    app.test_client().get("/login")
    checkpointer = _running(path)
    assert checkpointer is not None
    with app.app_context():
        db.session.remove()
    gone = tmp_path / "gone"
    gone.mkdir()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.replace(path + suffix, gone / f"test.sqlite{suffix}")
    assert _wait(lambda: not checkpointer.thread.is_alive())
    assert not os.path.exists(path)


def test_reports_written_while_checkpoints_run_are_all_kept(app_factory, tmp_path):
    """Many writes with the log copied back all the while; then a copy of the database file
    alone, taken after the app closed its connections, holds every one of them."""
    from tracker.domain.validation import ReportInput
    from tracker.services import reports, seed

    app = app_factory(SQLITE_CHECKPOINT_SECONDS=0.01)
    path = _sqlite_only(app)
    app.test_client().get("/login")
    expected = [1 + i % 30 for i in range(40)]
    with app.app_context():
        seed.load_rules()
        with tx.write():
            unit = org_service.add_unit("检查点支部", "支部")
            admin = org_service.add_member("检查点管理员", unit, date(2025, 1, 1), is_admin=True)
            members = [
                org_service.add_member(f"检查点{i}", unit, date(2025, 1, 1)) for i in range(40)
            ]
        for member, total in zip(members, expected, strict=True):
            reports.put(admin, member, TODAY, ReportInput(total=total))
        db.session.remove()
        db.engine.dispose()
    assert not os.path.exists(path + "-wal")  # the last connection took the log in
    copy = tmp_path / "copy.sqlite"
    shutil.copyfile(path, copy)
    with sqlite3.connect(copy) as conn:
        stored = conn.execute("SELECT count(*), sum(total) FROM daily_report").fetchone()
    assert stored == (len(expected), sum(expected))
