"""SQLite's writers queue on a lock of the kernel's (``database.QueuedWriters``): the next
writer gets its turn when the last one commits or rolls back, not when it next wakes up."""

from __future__ import annotations

import fcntl
import os
import threading

import pytest
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import Unit
from tracker.services import org as org_service
from tracker.services import tx


@pytest.fixture
def path(app) -> str:
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's writers")
        return db.engine.url.database


def _turn_taken(path: str) -> bool:
    """Whether some write transaction holds the turn (asked from a file of its own)."""
    fd = os.open(path + "-writers", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # lets go of the lock, if this took it
    return False


class Writer(threading.Thread):
    """A write transaction that adds a unit, begun when told to and held until told to end."""

    def __init__(self, app, name: str, fail: bool = False) -> None:
        super().__init__(daemon=True)
        self.app, self.unit, self.fail = app, name, fail
        self.inside, self.finish = threading.Event(), threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.app.app_context(), tx.write():
                org_service.add_unit(self.unit, "支部")
                self.inside.set()
                self.finish.wait(30)
                if self.fail:
                    raise RuntimeError("the writer gives up")
        except BaseException as e:  # checked by the test
            self.error = e


def _units(app, *names: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(func.count()).where(Unit.name.in_(names)))
        db.session.rollback()
        return found


def test_a_writer_waits_for_the_turn_and_takes_it_when_the_other_commits(app, path):
    assert not _turn_taken(path)
    first, second = Writer(app, "先写支部"), Writer(app, "后写支部")
    first.start()
    assert first.inside.wait(10)
    assert _turn_taken(path)
    second.start()
    assert not second.inside.wait(0.3)  # queued behind the first, not writing
    first.finish.set()
    assert second.inside.wait(10)  # the first committed: the turn passed on
    first.join(10)
    assert _turn_taken(path)  # the second's now
    second.finish.set()
    second.join(10)
    assert (first.error, second.error) == (None, None)
    assert not _turn_taken(path)
    assert _units(app, "先写支部", "后写支部") == 2


def test_a_writer_that_rolls_back_passes_the_turn_on(app, path):
    failing = Writer(app, "回滚支部", fail=True)
    failing.start()
    assert failing.inside.wait(10)
    assert _turn_taken(path)
    failing.finish.set()
    failing.join(10)
    assert isinstance(failing.error, RuntimeError)
    assert not _turn_taken(path)
    assert _units(app, "回滚支部") == 0
    with app.app_context(), tx.write():  # and the next writer gets it
        org_service.add_unit("之后支部", "支部")
    assert _units(app, "之后支部") == 1


def test_a_connection_closed_in_its_write_transaction_lets_go(app, path):
    with app.app_context():
        raw = db.engine.raw_connection()
        connection = raw.driver_connection
        connection.take_turn(path)
        assert _turn_taken(path)
        connection.close()
        assert not _turn_taken(path)
        raw.invalidate()


def test_a_thread_holding_a_turn_does_not_queue_behind_itself(app, path):
    """A second write connection in the same thread would wait for its own first one: it
    takes no turn and meets SQLite's lock, which gives up after the busy timeout."""
    done = threading.Event()

    def nested() -> None:
        with app.app_context(), tx.write():
            org_service.add_unit("外层支部", "支部")
            raw = db.engine.raw_connection()
            try:
                raw.driver_connection.take_turn(path)  # returns at once
                done.set()
            finally:
                raw.close()

    thread = threading.Thread(target=nested, daemon=True)
    thread.start()
    assert done.wait(10)
    thread.join(10)
    assert not _turn_taken(path)
    assert _units(app, "外层支部") == 1
