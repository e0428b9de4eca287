"""Work done in a forked child: its answer and its errors come back, its memory does not, and
the worker's own database connection is left as it was."""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import select, text

from tracker import serving
from tracker.extensions import db
from tracker.models import Member, Unit
from tracker.web import params


def test_the_answer_comes_back_and_the_memory_stays_with_the_child():
    before = serving.resident_mb()

    def heavy() -> tuple[int, int]:
        block = bytearray(300 * 2**20)  # 300 MB, touched page by page
        for i in range(0, len(block), 4096):
            block[i] = 1
        return os.getpid(), sum(block[::4096])

    pid, ones = serving.in_child(heavy)
    assert pid != os.getpid()
    assert ones == 300 * 2**20 // 4096
    assert serving.resident_mb() - before < 50


def test_an_error_in_the_child_is_raised_again_as_it_was():
    def refused():
        raise params.BadParam("unit", "没有这个单位")

    with pytest.raises(params.BadParam, match="没有这个单位"):
        serving.in_child(refused)


def test_an_error_that_cannot_travel_arrives_as_its_traceback():
    class Local(Exception):  # defined in a function: pickle cannot find it again
        pass

    def fails():
        raise Local("本地错误")

    with pytest.raises(serving.ChildFailed, match="本地错误"):
        serving.in_child(fails)


def test_with_other_threads_running_the_work_is_done_in_process():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert serving.in_child(os.getpid) == os.getpid()
    finally:
        stop.set()
        thread.join()
    assert serving.in_child(os.getpid) != os.getpid()


def test_the_child_reads_through_its_own_connection_and_the_workers_goes_on(org):
    """The request's session is in a transaction when the child forks; the child reads the
    same rows, lazily loads through the objects the request had loaded, and afterwards the
    request's session reads and writes as before."""
    unit = db.session.get(Unit, org.g1.id)
    db.session.expire(unit, ["parent"])
    connection = db.session.connection().connection.driver_connection
    members = db.session.execute(select(Member.name).order_by(Member.id)).scalars().all()

    def read():
        mine = db.session.connection().connection.driver_connection
        return (
            mine is not connection,
            db.session.execute(select(Member.name).order_by(Member.id)).scalars().all(),
            unit.parent.name,  # not loaded before the fork
        )

    own, seen, parent = serving.in_child(read)
    assert own
    assert seen == members
    assert parent == org.b1.name
    assert db.session.connection().connection.driver_connection is connection
    assert db.session.execute(text("SELECT count(*) FROM member")).scalar_one() == len(members)
    org.m1.name = "改过的名字"
    db.session.commit()
    assert (
        db.session.execute(select(Member.name).where(Member.id == org.m1.id)).scalar_one()
        == "改过的名字"
    )


def test_changes_not_yet_flushed_stay_out_of_the_child(org):
    member_id = org.m1.id
    org.m1.name = "未保存"

    def names():
        return db.session.execute(select(Member.name).where(Member.id == member_id)).scalar_one()

    assert serving.in_child(names) != "未保存"
    db.session.rollback()


def test_a_fork_waits_for_a_checkpoint_under_way():
    """SQLite's checkpointer is the one thread a fork may leave behind: the fork waits until
    its checkpoint is over, so the child never starts with SQLite's locks held."""
    import time

    from tracker.database import Checkpointer

    holding, released = threading.Event(), []

    def checkpoint():
        with Checkpointer.checkpointing:
            holding.set()
            time.sleep(0.3)
            released.append(time.monotonic())

    thread = threading.Thread(target=checkpoint)
    thread.fork_safe = True
    thread.start()
    holding.wait()
    started = serving.in_child(time.monotonic)
    thread.join()
    assert started >= released[0]


def test_a_child_that_runs_too_long_is_ended(monkeypatch):
    import time

    monkeypatch.setattr(serving, "CHILD_SECONDS", 1)
    started = time.monotonic()
    with pytest.raises(serving.ChildFailed, match="without an answer"):
        serving.in_child(lambda: time.sleep(30))
    assert time.monotonic() - started < 10
