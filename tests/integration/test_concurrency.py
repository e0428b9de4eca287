"""Concurrent writers lose nothing and never see "database is locked" (SPEC §8)."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from sqlalchemy import func, select

from tests.conftest import TODAY
from tracker.domain.validation import ReportInput, ValidationError
from tracker.extensions import db
from tracker.models import DailyReport, Member, PeriodPoints
from tracker.services import org as org_service
from tracker.services import reports, tx


def run_threads(app, jobs):
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(jobs))

    def runner(job):
        try:
            with app.app_context():
                barrier.wait()
                job()
        except BaseException as e:  # collected and checked by the test
            errors.append(e)

    threads = [threading.Thread(target=runner, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def test_eight_concurrent_writers_lose_nothing(org, app):
    with tx.write():
        members = [org_service.add_member(f"并发{i}", org.b2, date(2025, 1, 1)) for i in range(8)]
    ids = [m.id for m in members]
    admin_id = org.admin.id
    days = [TODAY - timedelta(days=d) for d in range(10)]

    def writer(member_id):
        def job():
            admin = db.session.get(Member, admin_id)
            member = db.session.get(Member, member_id)
            for i, day in enumerate(days):
                reports.put(admin, member, day, ReportInput(total=10 + i))

        return job

    errors = run_threads(app, [writer(i) for i in ids])
    assert errors == []
    db.session.rollback()  # end this session's snapshot to see what the writers committed
    count = db.session.execute(
        select(func.count()).select_from(DailyReport).where(DailyReport.member_id.in_(ids))
    ).scalar_one()
    assert count == 80
    # Each member's year roll-up holds the sum of their ten days: no update was lost.
    totals = dict(
        db.session.execute(
            select(PeriodPoints.member_id, func.sum(PeriodPoints.points))
            .where(PeriodPoints.kind == "year", PeriodPoints.member_id.in_(ids))
            .group_by(PeriodPoints.member_id)
        ).all()
    )
    assert totals == {i: sum(10 + k for k in range(10)) for i in ids}


def test_racing_reports_cannot_break_a_weekly_cap_together(org, app):
    """Two days of one week each claim the whole weekly cap at once: exactly one wins."""
    admin_id, member_id = org.admin.id, org.m1.id
    week_days = [TODAY - timedelta(days=1), TODAY - timedelta(days=2)]  # Sunday, Saturday
    outcomes: list[str] = []

    def claim(day):
        def job():
            admin = db.session.get(Member, admin_id)
            member = db.session.get(Member, member_id)
            try:
                reports.put(admin, member, day, ReportInput(items={"sport": 2}))
                outcomes.append("ok")
            except ValidationError as e:
                assert "每周上限" in e.errors["items.sport"]
                outcomes.append("rejected")

        return job

    errors = run_threads(app, [claim(d) for d in week_days])
    assert errors == []
    assert sorted(outcomes) == ["ok", "rejected"]
