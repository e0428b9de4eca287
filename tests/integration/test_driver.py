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
