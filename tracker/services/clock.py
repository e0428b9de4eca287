"""The organisation's today, from its configured time zone (SPEC §1 Periods)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from tracker.domain.periods import today_in


def today() -> date:
    fixed = current_app.config.get("FIXED_TODAY")
    if fixed:
        return date.fromisoformat(fixed)
    return today_in(current_app.config["TIMEZONE"])


def now() -> datetime:
    """The current moment in the organisation's time zone, on its today.

    With a fixed today (demos, tests) that is the fixed day at the current time of day, so a
    moment stamped now (the audit log's) falls on the day the organisation calls today, and
    what is read from the log (who filled in a day late, who edited after an unlock) agrees
    with what was checked when it was written. (A fixed-day process that runs past real
    midnight stamps later entries earlier in that day: demos and tests accept that.)
    """
    moment = datetime.now(ZoneInfo(current_app.config["TIMEZONE"]))
    fixed = current_app.config.get("FIXED_TODAY")
    if fixed:
        moment = datetime.combine(date.fromisoformat(fixed), moment.timetz())
    return moment
