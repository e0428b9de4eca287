"""The delivery engine and job claims: rate limits in the database, interrupted sends, claims."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.reminders.fakes import FakeClock, RobotServer
from tracker.extensions import db
from tracker.models import DailyReport, PeriodPoints
from tracker.models.reminders import Delivery, DeliveryAttempt
from tracker.reminders import delivery
from tracker.reminders.delivery import Planned
from tracker.services import rollups, tx
from tracker.services.reminders import claims, settings


@pytest.fixture
def robots():
    server = RobotServer().start()
    yield server
    server.stop()


def _robot(org, robots, path="/wecom/a"):
    return settings.save_channel(
        org.admin, unit_id=org.b1.id, kind="wecom", name="群", url=f"{robots.base}{path}"
    )


def _plan(channel, n: int, period: str = "2026-W47") -> None:
    delivery.plan(
        "weekly",
        period,
        [
            Planned(
                f"channel:{channel.id}/{i}", "wecom", f"t{i}", f"消息 {i}", channel_id=channel.id
            )
            for i in range(n)
        ],
    )


def test_a_robot_gets_at_most_twenty_messages_a_minute(ctx, org, robots):
    channel = _robot(org, robots)
    _plan(channel, 25)
    clock = FakeClock()
    counts = delivery.deliver("weekly", "2026-W47", delivery.Settings.from_app(), clock)
    assert counts == {"sent": 25}
    assert sorted(robots.texts("/wecom/a")) == sorted(f"消息 {i}" for i in range(25))
    times = sorted(
        delivery.utc(t)
        for t in db.session.execute(
            select(DeliveryAttempt.at).where(DeliveryAttempt.channel_id == channel.id)
        ).scalars()
    )
    for i, start in enumerate(times):
        in_window = [t for t in times[i:] if t - start < timedelta(seconds=60)]
        assert len(in_window) <= 20
    assert max(clock.slept) >= 59  # it waited for the window instead of being refused


def test_the_rate_limit_is_shared_through_the_database(ctx, org, robots):
    channel = _robot(org, robots)
    _plan(channel, 20, "2026-W46")
    clock = FakeClock()
    delivery.deliver("weekly", "2026-W46", delivery.Settings.from_app(), clock)
    # Another run (another process, the same robot) finds the minute used up.
    _plan(channel, 1, "2026-W47")
    delivery.deliver("weekly", "2026-W47", delivery.Settings.from_app(), clock)
    assert len(robots.accepted) == 21 and max(clock.slept) >= 59


def test_a_send_cut_off_midway_is_never_repeated_and_can_be_resent_deliberately(ctx, org, robots):
    channel = _robot(org, robots)
    _plan(channel, 2)
    first, second = db.session.execute(select(Delivery).order_by(Delivery.id)).scalars()
    with tx.write():  # a run died after marking the first row sending
        db.session.execute(update(Delivery).where(Delivery.id == first.id).values(status="sending"))
    counts = delivery.deliver("weekly", "2026-W47", delivery.Settings.from_app(), FakeClock())
    assert counts == {"unknown": 1, "sent": 1}
    assert robots.texts("/wecom/a") == ["消息 1"]
    delivery.send_again(first.id, org.admin.id)
    delivery.deliver("weekly", "2026-W47", delivery.Settings.from_app(), FakeClock())
    assert sorted(robots.texts("/wecom/a")) == ["消息 0", "消息 1"]


def test_in_app_notices_go_out_in_batches_each_exactly_once_even_if_a_run_dies(
    ctx, org, monkeypatch
):
    """A batch's notices and its rows marked sent are one transaction: a run that dies keeps
    the batches it finished, and the next run sends the rest, nothing twice."""
    from tracker.models.reminders import Notice

    members = [org.admin, org.leader, org.m1, org.m2, org.m3]
    delivery.plan(
        "daily",
        "2026-11-23",
        [
            Planned(f"member:{m.id}", "inapp", "提醒", f"致 {m.name}", member_id=m.id)
            for m in members
        ],
    )
    monkeypatch.setattr(delivery, "BATCH", 2)
    beats = []
    real_insert, inserts = delivery.insert, []

    def dies_on_the_second_batch(table):
        if table is Notice:
            inserts.append(table)
            if len(inserts) == 2:
                raise RuntimeError("the process was killed")
        return real_insert(table)

    monkeypatch.setattr(delivery, "insert", dies_on_the_second_batch)
    with pytest.raises(RuntimeError):
        delivery.deliver(
            "daily",
            "2026-11-23",
            delivery.Settings.from_app(),
            FakeClock(),
            lambda: beats.append(1),
        )
    assert beats == [1]
    assert delivery.status_counts("daily", "2026-11-23") == {"sent": 2, "pending": 3}
    assert len(db.session.execute(select(Notice)).all()) == 2

    monkeypatch.setattr(delivery, "insert", real_insert)
    counts = delivery.deliver("daily", "2026-11-23", delivery.Settings.from_app(), FakeClock())
    assert counts == {"sent": 5}
    notices = db.session.execute(select(Notice.member_id, Notice.body)).all()
    assert sorted(notices) == sorted((m.id, f"致 {m.name}") for m in members)
    rows = db.session.execute(select(Delivery.attempts, Delivery.sent_at)).all()
    assert all(attempts == 1 and sent_at is not None for attempts, sent_at in rows)
    outcomes = db.session.execute(select(DeliveryAttempt.outcome)).scalars().all()
    assert outcomes == ["sent"] * 5


def test_planning_twice_adds_nothing(ctx, org, robots):
    channel = _robot(org, robots)
    _plan(channel, 3)
    _plan(channel, 3)
    assert len(db.session.execute(select(Delivery)).all()) == 3


def test_one_live_claim_per_job_and_period(ctx):
    claim = claims.acquire("weekly", "2026-W47", rerun=False, lease_seconds=60)
    with pytest.raises(claims.Busy):
        claims.acquire("weekly", "2026-W47", rerun=True, lease_seconds=60)
    claim.release("done")
    with pytest.raises(claims.Busy, match="完成"):
        claims.acquire("weekly", "2026-W47", rerun=False, lease_seconds=60)
    claims.acquire("weekly", "2026-W47", rerun=True, lease_seconds=60).release("again")


def test_a_claim_left_by_a_dead_run_is_taken_over(ctx):
    from tracker.models.reminders import JobClaim

    claim = claims.acquire("weekly", "2026-W48", rerun=False, lease_seconds=60)
    claim._unlock()  # as if the process died: its advisory lock went with its connection
    with tx.write():
        row = db.session.get(JobClaim, ("weekly", "2026-W48"))
        row.owner = f"{claims.HOST}:999999999:dead"
    taken = claims.acquire("weekly", "2026-W48", rerun=False, lease_seconds=60)
    taken.release("taken over")


def test_nightly_check_repairs_a_drifted_rollup(ctx, org):
    from datetime import date

    from tests.conftest import TODAY
    from tracker.domain.validation import ReportInput
    from tracker.scheduler import rollup_check
    from tracker.services import reports

    reports.put(org.admin, org.m1, date(2026, 11, 20), ReportInput(total=20))
    assert rollup_check.check(TODAY).repaired == []
    with tx.write():
        db.session.execute(
            update(PeriodPoints)
            .where(PeriodPoints.member_id == org.m1.id, PeriodPoints.kind == "week")
            .values(points=999)
        )
    result = rollup_check.check(TODAY)
    assert result.repaired == [("week", date(2026, 11, 16))]
    before, subtrees = _rows(), rollups.stored_subtrees()
    rollups.rebuild_all()
    assert _rows() == before
    assert rollups.stored_subtrees() == subtrees  # the boards' subtree roll-ups were repaired too

    # A day written behind the roll-ups' back (a restore, a manual fix): both layers lag.
    with tx.write():
        db.session.execute(
            DailyReport.__table__.insert().values(
                member_id=org.m2.id, day=date(2026, 11, 19), form="total", total=17, note=""
            )
        )
    assert rollup_check.check(TODAY).repaired
    before, subtrees = _rows(), rollups.stored_subtrees()
    rollups.rebuild_all()
    assert _rows() == before
    assert rollups.stored_subtrees() == subtrees


def _rows():
    return sorted(
        tuple(r)
        for r in db.session.execute(
            select(
                PeriodPoints.kind,
                PeriodPoints.period_start,
                PeriodPoints.member_id,
                PeriodPoints.points,
            )
        )
    )


def test_nightly_check_counts_the_whole_year_but_keeps_only_the_periods_it_checks(
    ctx, org, monkeypatch
):
    """The year's row is checked against every day since January; the periods of those
    days are not built (at 100,000 members that was tens of millions of rows)."""
    from datetime import date

    from tests.conftest import TODAY
    from tracker.domain.validation import ReportInput
    from tracker.scheduler import rollup_check
    from tracker.services import reports

    reports.put(org.admin, org.m1, date(2026, 2, 10), ReportInput(total=20))
    reports.put(org.admin, org.m1, date(2026, 11, 20), ReportInput(total=15))
    kept = []
    aggregate = rollups._aggregate

    def watched(*args, **kwargs):
        totals = aggregate(*args, **kwargs)
        kept.extend((kind, start) for kind, start, _, _ in totals)
        return totals

    monkeypatch.setattr(rollups, "_aggregate", watched)
    assert rollup_check.check(TODAY).repaired == []
    assert set(kept) <= set(rollup_check.recent_periods(TODAY))
    assert ("year", date(2026, 1, 1)) in kept and ("month", date(2026, 2, 1)) not in kept

    with tx.write():  # the year row loses February's day
        db.session.execute(
            update(PeriodPoints)
            .where(PeriodPoints.member_id == org.m1.id, PeriodPoints.kind == "year")
            .values(points=15)
        )
    assert rollup_check.check(TODAY).repaired == [("year", date(2026, 1, 1))]
    year = db.session.execute(
        select(PeriodPoints.points).where(
            PeriodPoints.member_id == org.m1.id, PeriodPoints.kind == "year"
        )
    ).scalar_one()
    assert year == 35


def test_a_single_in_app_row_is_sent_as_a_batch_would_send_it(ctx, org):
    """``attempt`` on an in-app row (a resend, a row the batches leave) writes the same notice,
    status and attempt as the batches do."""
    from tracker.models.reminders import Notice

    delivery.plan(
        "daily",
        "2026-11-23",
        [Planned(f"member:{org.m1.id}", "inapp", "提醒", "致 李一", member_id=org.m1.id)],
    )
    row_id = db.session.execute(select(Delivery.id)).scalar_one()
    clock = FakeClock()
    assert delivery.attempt(row_id, delivery.Settings.from_app(), clock) is None
    db.session.expire_all()
    row = db.session.get(Delivery, row_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")
    assert delivery.utc(row.sent_at) == clock.now()
    [notice] = db.session.execute(select(Notice)).scalars()
    assert (notice.member_id, notice.delivery_id, notice.body) == (org.m1.id, row_id, "致 李一")
    outcomes = db.session.execute(select(DeliveryAttempt.outcome)).scalars().all()
    assert outcomes == ["sent"]
    assert delivery.attempt(row_id, delivery.Settings.from_app(), clock) is None  # sent already
    assert len(db.session.execute(select(Notice)).all()) == 1
