"""Fixtures for charts, exports and the review: the small organisation with a week of reports."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest

from tracker.domain.periods import parse_period_key
from tracker.domain.validation import ReportInput
from tracker.services import reports

WEEK = parse_period_key("2026-W47")  # 2026-11-16 … 2026-11-22, the week before TODAY

# Daily totals in WEEK: 李一 and 赵三 above the 30-point target, the others below.
DAILY = {"m1": 40, "m2": 20, "m3": 35, "leader": 10}


def pictures_alive() -> int:
    """Agg renderers alive, each holding a drawn picture."""
    from matplotlib.backends.backend_agg import RendererAgg

    return sum(isinstance(o, RendererAgg) for o in gc.get_objects())


@contextmanager
def collector_off() -> Iterator[None]:
    """The collector's own runs off, after one collection: only what the code under test
    collects is freed (a figure is a web of reference cycles)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        yield
    finally:
        if enabled:
            gc.enable()


def put_week(org, week=WEEK, daily=None) -> None:
    for name, points in (daily or DAILY).items():
        member = getattr(org, name)
        for offset in range(7):
            day = week.start + timedelta(days=offset)
            reports.put(org.admin, member, day, ReportInput(total=points))


@pytest.fixture
def week(org):
    """W46 with the order reversed (so rank change shows), then W47."""
    put_week(org, parse_period_key("2026-W46"), {"m1": 10, "m2": 30, "m3": 5})
    put_week(org)
    return WEEK


@pytest.fixture
def many_units(org):
    """``make(n)``: n branches with long names under a fresh committee, with a member each."""
    from tracker.services import org as org_service
    from tracker.services import tx

    def make(n: int):
        with tx.write():
            committee = org_service.add_unit(f"第{n}个机关党委", "党委", org.root)
            members = []
            for i in range(n):
                name = f"市人大常委会教育科学文化卫生工作委员会第{i + 1}党支部"
                if i % 3 == 0:
                    name = f"第{i + 1}支部"
                unit = org_service.add_unit(name, "支部", committee, position=i)
                members.append(org_service.add_member(f"党员{i + 1}", unit, date(2025, 1, 1)))
        for i, member in enumerate(members):
            for offset in range(7):
                day = WEEK.start + timedelta(days=offset)
                reports.put(org.admin, member, day, ReportInput(total=(i * 7) % 41 + 1))
        return committee

    return make
