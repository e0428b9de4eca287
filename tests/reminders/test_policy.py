"""When a reminder may reach a person: quiet hours, leave, chosen times, back-off."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from tracker.reminders import policy


def test_quiet_hours_wrap_past_midnight():
    quiet = policy.QuietHours.parse("21:30-08:00")
    assert quiet.contains(time(21, 30)) and quiet.contains(time(23, 59))
    assert quiet.contains(time(0, 0)) and quiet.contains(time(7, 59))
    assert not quiet.contains(time(8, 0)) and not quiet.contains(time(21, 29))
    assert quiet.last_minute_before() == time(21, 29)
    assert quiet.label() == "21:30–08:00"


def test_no_quiet_hours_when_switched_off():
    quiet = policy.QuietHours.parse("")
    assert not quiet.contains(time(3, 0))
    assert quiet.last_minute_before() == time(23, 59)


def test_a_member_may_not_choose_a_time_inside_quiet_hours():
    quiet = policy.QuietHours.parse("21:30-08:00")
    assert policy.check_nudge_time("19:45", quiet) == time(19, 45)
    with pytest.raises(ValueError, match="免打扰"):
        policy.check_nudge_time("22:00", quiet)
    with pytest.raises(ValueError, match="HH:MM"):
        policy.check_nudge_time("8pm", quiet)


def test_nudge_is_due_once_the_chosen_or_default_time_has_come():
    assert policy.nudge_due(None, "20:00", time(20, 0))
    assert not policy.nudge_due(None, "20:00", time(19, 59))
    assert policy.nudge_due("12:30", "20:00", time(12, 30, 45))
    assert not policy.nudge_due("21:00", "20:00", time(20, 0))


def test_leave_covers_its_days_and_may_be_open_ended():
    d = date(2026, 11, 23)
    assert policy.on_leave(d, d, d)
    assert policy.on_leave(d, d - timedelta(days=3), None)
    assert not policy.on_leave(d, d + timedelta(days=1), None)
    assert not policy.on_leave(d, None, None)


def test_backoff_doubles():
    assert [policy.backoff(2, n).total_seconds() for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
