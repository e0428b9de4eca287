"""On the demo organisation, a dry run lists exactly the members without a report that day."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import DailyReport, Member, Membership
from tracker.models.reminders import Delivery

FRIDAY = date(2026, 11, 20)


def without_report(day: date) -> set[int]:
    """Written apart from the service: every member, checked one by one in Python."""
    reported = set(
        db.session.execute(select(DailyReport.member_id).where(DailyReport.day == day)).scalars()
    )
    belongs = {
        m.member_id
        for m in db.session.execute(select(Membership)).scalars()
        if m.valid_from <= day and (m.valid_to is None or day <= m.valid_to)
    }
    return {
        m.id
        for m in db.session.execute(select(Member)).scalars()
        if m.is_active_on(day) and m.id in belongs and m.id not in reported
    }


def test_dry_run_lists_exactly_the_members_without_a_report(app, ctx):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    result = runner.invoke(
        args=["reminders", "run", "daily", "--date", FRIDAY.isoformat(), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    listed = [
        int(line.split("\t")[0].removeprefix("member:"))
        for line in result.output.splitlines()
        if line.startswith("member:")
    ]
    expected = without_report(FRIDAY)
    assert 10 < len(expected) < 140  # some reported that day and some did not
    assert len(listed) == len(set(listed))
    assert set(listed) == expected
    assert "演练，未发送" in result.output
    assert db.session.execute(select(Delivery)).first() is None  # nothing planned, nothing sent


def test_dry_run_on_a_weekend_sends_nothing_and_says_why(app, ctx):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reminders", "run", "daily", "--date", "2026-11-21", "--dry-run"])
    assert result.exit_code == 0 and "周末不提醒" in result.output


def test_dry_run_in_quiet_hours_still_lists_and_says_a_real_run_would_wait(app, ctx):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    args = ["reminders", "run", "daily", "--date", FRIDAY.isoformat(), "--dry-run"]
    evening = runner.invoke(args=[*args, "--at", "20:00"])
    night = runner.invoke(args=[*args, "--at", "22:30"])
    assert evening.exit_code == 0 and night.exit_code == 0, night.output
    listed = [line for line in night.output.splitlines() if line.startswith("member:")]
    assert listed and listed == [
        line for line in evening.output.splitlines() if line.startswith("member:")
    ]
    assert "正式运行此时会暂缓：免打扰时段 21:30–08:00" in night.output
    assert "暂缓" not in evening.output
    assert db.session.execute(select(Delivery)).first() is None
