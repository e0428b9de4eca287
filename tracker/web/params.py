"""Request parameters shared by pages and the API: dates, periods, units, metrics."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from tracker.domain.periods import KINDS, Period, parse_period_key, period_of
from tracker.domain.ranking import METRICS
from tracker.extensions import db
from tracker.models import Member, Unit
from tracker.services import access, clock, org

MAX_ID = 2**31 - 1  # ids are 32-bit integers on every database we run on
_ID = re.compile(r"[0-9]{1,10}")
# The range of dates the product deals in; beyond it a previous or next period cannot exist.
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)


class BadParam(ValueError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def parse_date(value: str | None, name: str = "date") -> date:
    if not value:
        return clock.today()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise BadParam(name, f"“{value}”不是有效的日期（应为 YYYY-MM-DD）") from None
    if not EARLIEST <= day <= LATEST:
        raise BadParam(name, f"日期应在 {EARLIEST.isoformat()} 至 {LATEST.isoformat()} 之间")
    return day


def parse_period(kind: str | None, day: str | None) -> Period:
    """``period=week&date=2026-11-23`` or ``period=2026-W48``; default: this week."""
    kind = kind or "week"
    if kind in KINDS:
        return period_of(kind, parse_date(day))
    try:
        period = parse_period_key(kind)
    except ValueError:
        raise BadParam(
            "period", f"“{kind}”不是有效的时段（day、week、month、quarter、year 或 2026-W48）"
        ) from None
    if not EARLIEST <= period.start <= LATEST:
        raise BadParam("period", f"时段应在 {EARLIEST.year} 至 {LATEST.year} 年之间")
    return period


def as_id(value: str | None) -> int | None:
    """A row id written in ASCII digits that the database can hold, else None (never raises)."""
    if value and _ID.fullmatch(value) and int(value) <= MAX_ID:
        return int(value)
    return None


def parse_unit(value: str | None, default: Callable[[], Unit | None], name: str = "unit") -> Unit:
    """``?unit=``: a unit by id, else ``default()`` (asked only then: it reads the database)."""
    if value:
        unit_id = as_id(value)
        unit = org.get_unit(unit_id) if unit_id is not None else None
        if unit is None:
            raise BadParam(name, f"没有编号为“{value}”的单位")
        return unit
    unit = default()
    if unit is None:
        raise BadParam(name, "还没有任何单位")
    return unit


def parse_managed_member(value: str | None, viewer: Member) -> Member:
    """``?member=``: someone the viewer may manage (``access.Forbidden`` otherwise); the viewer
    when absent."""
    if not value:
        return viewer
    member_id = as_id(value)
    member = db.session.get(Member, member_id) if member_id is not None else None
    if member is None:
        raise BadParam("member", f"没有编号为“{value}”的党员")
    access.require_manage_member(viewer, member)
    return member


def parse_metric(value: str | None) -> str:
    value = value or "avg"
    if value not in METRICS:
        raise BadParam("metric", f"指标应为 {'、'.join(METRICS)} 之一")
    return value


def parse_limit(value: str | None, default: int = 20, maximum: int = 500) -> int:
    if not value:
        return default
    if not re.fullmatch(r"[0-9]{1,6}", value) or not 1 <= int(value) <= maximum:
        raise BadParam("limit", f"limit 应为 1–{maximum} 的整数")
    return int(value)


def parse_page(value: str | None) -> int:
    """``?page=``: a page number from 1 (default 1)."""
    if not value:
        return 1
    if not re.fullmatch(r"[0-9]{1,6}", value) or int(value) < 1:
        raise BadParam("page", "page 应为从 1 起的整数")
    return int(value)
