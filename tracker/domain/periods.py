"""Periods (day, ISO week, month, quarter, year) as closed date ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

KINDS = ("day", "week", "month", "quarter", "year")
LABELS_ZH = {"day": "日", "week": "周", "month": "月", "quarter": "季度", "year": "年"}


@dataclass(frozen=True, order=True)
class Period:
    kind: str
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def previous(self) -> Period:
        return period_of(self.kind, self.start - timedelta(days=1))

    def next(self) -> Period:
        return period_of(self.kind, self.end + timedelta(days=1))

    @property
    def key(self) -> str:
        """A stable, human-readable name: 2026-11-23, 2026-W48, 2026-11, 2026-Q4, 2026."""
        s = self.start
        if self.kind == "day":
            return s.isoformat()
        if self.kind == "week":
            year, week, _ = s.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "month":
            return f"{s.year}-{s.month:02d}"
        if self.kind == "quarter":
            return f"{s.year}-Q{(s.month - 1) // 3 + 1}"
        return str(s.year)

    @property
    def label_zh(self) -> str:
        """2026年11月23日 周一, 2026年第48周, 2026年11月, 2026年第4季度, 2026年."""
        s = self.start
        if self.kind == "day":
            return f"{s.year}年{s.month}月{s.day}日 周{'一二三四五六日'[s.weekday()]}"
        if self.kind == "week":
            year, week, _ = s.isocalendar()
            return f"{year}年第{week}周"
        if self.kind == "month":
            return f"{s.year}年{s.month}月"
        if self.kind == "quarter":
            return f"{s.year}年第{(s.month - 1) // 3 + 1}季度"
        return f"{s.year}年"

    def elapsed_end(self, today: date) -> date | None:
        """The last day of the period that has begun by ``today`` (None if it has not begun)."""
        if today < self.start:
            return None
        return min(self.end, today)


def period_of(kind: str, day: date) -> Period:
    if kind == "day":
        return Period(kind, day, day)
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        return Period(kind, start, start + timedelta(days=6))
    if kind == "month":
        start = day.replace(day=1)
        return Period(kind, start, _month_end(start))
    if kind == "quarter":
        first_month = (day.month - 1) // 3 * 3 + 1
        start = date(day.year, first_month, 1)
        return Period(kind, start, _month_end(date(day.year, first_month + 2, 1)))
    if kind == "year":
        return Period(kind, date(day.year, 1, 1), date(day.year, 12, 31))
    raise ValueError(f"unknown period kind {kind!r}; expected one of {', '.join(KINDS)}")


def periods_containing(day: date) -> list[Period]:
    return [period_of(kind, day) for kind in KINDS]


@lru_cache(maxsize=4096)
def period_starts(day: date) -> tuple[tuple[str, date], ...]:
    """(kind, start) of every period containing ``day``: bulk roll-ups ask once per row, for
    a few hundred distinct days."""
    return tuple((kind, period_of(kind, day).start) for kind in KINDS)


_KEY_PATTERNS = [
    (re.compile(r"^(\d{4})-W(\d{2})$"), "week"),
    (re.compile(r"^(\d{4})-Q([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})-(\d{2})$"), "month"),
    (re.compile(r"^(\d{4})$"), "year"),
]


def parse_period_key(key: str) -> Period:
    """Parse ``2026-W48``, ``2026-Q4``, ``2026-11``, ``2026`` or an ISO date."""
    key = key.strip()
    for pattern, kind in _KEY_PATTERNS:
        m = pattern.match(key)
        if not m:
            continue
        year = int(m.group(1))
        if kind == "week":
            return period_of("week", date.fromisocalendar(year, int(m.group(2)), 1))
        if kind == "quarter":
            return period_of("quarter", date(year, (int(m.group(2)) - 1) * 3 + 1, 1))
        if kind == "month":
            return period_of("month", date(year, int(m.group(2)), 1))
        return period_of("year", date(year, 1, 1))
    return period_of("day", date.fromisoformat(key))


def today_in(tz_name: str, now: datetime | None = None) -> date:
    """The study day in the organisation's time zone: the only place a clock becomes a date."""
    moment = now or datetime.now(tz=ZoneInfo("UTC"))
    return moment.astimezone(ZoneInfo(tz_name)).date()


def _month_end(first: date) -> date:
    nxt = date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)
    return nxt - timedelta(days=1)


def overlap_days(a_start: date, a_end: date, b_start: date, b_end: date) -> int:
    start, end = max(a_start, b_start), min(a_end, b_end)
    return (end - start).days + 1 if start <= end else 0
