"""Short statements on the driver run on the session's connection of the moment: the one the
session holds for its transaction, never one a finished transaction held."""

from __future__ import annotations

import pytest

from tracker.extensions import db
from tracker.services import driver


def _session_driver():
    return db.session.connection().connection.driver_connection


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_after_a_transaction_ends_statements_go_to_the_next_ones_connection(ctx, end):
    assert driver.query("SELECT 1") == [(1,)]
    before = _session_driver()
    getattr(db.session, end)()
    db.engine.dispose()  # the pool's connections close; the next transaction opens another
    assert driver.query("SELECT 2") == [(2,)]
    assert _session_driver() is not before


def test_a_savepoint_ending_leaves_the_transaction_its_connection(ctx):
    driver.query("SELECT 1")
    outer = _session_driver()
    with db.session.begin_nested():
        assert driver.query("SELECT 2") == [(2,)]
    assert driver.query("SELECT 3") == [(3,)]
    assert _session_driver() is outer
    db.session.rollback()


@pytest.mark.parametrize("count", [3, driver.COPY_FROM + 7])
def test_insert_many_writes_each_row_as_given_in_the_transaction(ctx, count):
    """Few rows go as INSERTs, many through COPY on PostgreSQL: either way every value reads
    back as written (dates, None, JSON with Chinese text), and a rollback takes them all."""
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from tracker.models import AuditEntry
    from tracker.services import audit

    moment = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    entries = [
        (
            "test.bulk",
            "daily_report",
            f"{n}:2026-11-23",
            None,
            n if n % 2 else None,
            None if n % 3 else {"total": n, "note": "学习\t强国\n第二行 \\ 反斜杠"},
            {"total": n + 1, "items": [1, None, "甲"]},
        )
        for n in range(count)
    ]
    audit.record_many(entries, at=moment)
    stored = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "test.bulk").order_by(AuditEntry.id)
    ).all()
    assert [
        (e.action, e.entity, e.entity_id, e.actor_id, e.member_id, e.before, e.after)
        for e in stored
    ] == [(a, en, i, actor, m, b, af) for a, en, i, actor, m, b, af in entries]
    assert {driver.as_datetime(e.at) for e in stored} == {moment}
    db.session.rollback()
    count_after = db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "test.bulk")
    )
    assert count_after == 0
