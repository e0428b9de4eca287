"""When a reminder may reach a person (SPEC §9): quiet hours, weekends, leave, chosen times.

Pure functions: no Flask, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_hhmm(text: str) -> time:
    m = _HHMM.match(text.strip())
    if not m:
        raise ValueError(f"时间格式应为 HH:MM，例如 20:00（收到 {text!r}）")
    return time(int(m.group(1)), int(m.group(2)))


@dataclass(frozen=True)
class QuietHours:
    """A daily span in which nobody is disturbed; it may wrap past midnight (21:30–08:00)."""

    start: time | None
    end: time | None

    @classmethod
    def parse(cls, spec: str) -> QuietHours:
        spec = spec.strip()
        if not spec:
            return cls(None, None)
        start, _, end = spec.replace("–", "-").partition("-")
        return cls(parse_hhmm(start), parse_hhmm(end))

    def contains(self, moment: time) -> bool:
        if self.start is None or self.end is None or self.start == self.end:
            return False
        moment = moment.replace(second=0, microsecond=0, tzinfo=None)
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def last_minute_before(self) -> time:
        """The latest time of day before quiet hours begin: every chosen time is due by then."""
        if self.start is None:
            return time(23, 59)
        minutes = self.start.hour * 60 + self.start.minute - 1
        return time(minutes // 60 % 24, minutes % 60)

    def label(self) -> str:
        if self.start is None or self.end is None:
            return "无"
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


def is_weekend(day: date) -> bool:
    return day.weekday() >= 5


def on_leave(day: date, leave_from: date | None, leave_to: date | None) -> bool:
    if leave_from is None:
        return False
    return leave_from <= day and (leave_to is None or day <= leave_to)


def nudge_due(chosen: str | None, default: str, at: time) -> bool:
    """A member's nudge is due once their chosen time (or the organisation's) has come."""
    return parse_hhmm(chosen or default) <= at.replace(second=0, microsecond=0, tzinfo=None)


def check_nudge_time(text: str, quiet: QuietHours) -> time:
    """A time a member may choose: well-formed and outside quiet hours."""
    chosen = parse_hhmm(text)
    if quiet.contains(chosen):
        raise ValueError(f"提醒时间不能在免打扰时段（{quiet.label()}）内")
    return chosen


def backoff(base_seconds: float, attempts: int) -> timedelta:
    """Exponential back-off after ``attempts`` failed tries: base, 2·base, 4·base …"""
    return timedelta(seconds=base_seconds * (2 ** max(0, attempts - 1)))
