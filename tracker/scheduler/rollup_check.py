"""The nightly roll-up check: recent period roll-ups against a rebuild from the daily rows.

Roll-ups are updated by every write in its own transaction, so they should never drift; this
check proves it each night and repairs a period that did (with an audit entry saying so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select, text, tuple_

from tracker.domain.periods import KINDS, period_of
from tracker.extensions import db
from tracker.models import Adjustment, DailyReport, PeriodPoints
from tracker.services import audit, collector, rollups, tx

Pair = tuple[str, date]  # kind, period start


@dataclass
class CheckResult:
    periods: list[Pair]
    repaired: list[Pair] = field(default_factory=list)

    def summary(self) -> str:
        if not self.repaired:
            return f"{len(self.periods)} 个周期的汇总与明细一致"
        names = ", ".join(f"{k} {s.isoformat()}" for k, s in self.repaired)
        return f"{len(self.periods)} 个周期中 {len(self.repaired)} 个已修复：{names}"


def recent_periods(day: date) -> list[Pair]:
    """The periods containing yesterday and the ones before them (the current year only)."""
    yesterday = day - timedelta(days=1)
    out: list[Pair] = []
    for kind in KINDS:
        p = period_of(kind, yesterday)
        out.append((kind, p.start))
        if kind != "year":
            out.append((kind, p.previous().start))
    return out


def _expected(pairs: list[Pair]) -> dict[tuple, tuple[int, int]]:
    wanted = set(pairs)
    start = min(s for _, s in pairs)
    spans = rollups._spans_by_member(None)
    # Streamed: late in the year the year's check reads every day since January.
    reports = db.session.execute(
        select(DailyReport.member_id, DailyReport.day, DailyReport.total)
        .where(DailyReport.day >= start)
        .execution_options(yield_per=10_000)
    )
    adjustments = db.session.execute(
        select(Adjustment.member_id, Adjustment.day, Adjustment.points).where(
            Adjustment.day >= start
        )
    )
    totals = rollups._aggregate(spans, reports, adjustments, wanted=wanted)
    return {k: (v[0], v[1]) for k, v in totals.items() if v[0] or v[1]}


def _actual(pairs: list[Pair]) -> dict[tuple, tuple[int, int]]:
    return rollups.stored(tuple_(PeriodPoints.kind, PeriodPoints.period_start).in_(pairs))


def _differing(expected: dict, actual: dict) -> list[Pair]:
    keys = set(expected) | set(actual)
    return sorted({(k[0], k[1]) for k in keys if expected.get(k) != actual.get(k)})


@collector.paused()
def check(day: date, repair: bool = True) -> CheckResult:
    pairs = recent_periods(day)
    result = CheckResult(pairs)
    bad = _differing(_expected(pairs), _actual(pairs))
    db.session.commit()
    if not bad or not repair:
        result.repaired = bad if not repair else []
        return result
    with tx.write():
        if tx.is_postgres():
            # Hold writers of points still while the periods are recomputed and replaced.
            db.session.execute(
                text(
                    "LOCK TABLE daily_report, adjustment, period_points IN SHARE ROW EXCLUSIVE MODE"
                )
            )
        expected = _expected(bad)
        actual = _actual(bad)
        bad = _differing(expected, actual)
        drifted = {k[2] for k in set(expected) | set(actual) if expected.get(k) != actual.get(k)}
        # Rebuilding the members concerned keeps the subtree roll-ups in step with theirs.
        rollups.rebuild_members(drifted)
        if bad:
            audit.record(
                "rollups.repair",
                "period_points",
                day.isoformat(),
                actor_id=None,
                after=[f"{k} {s.isoformat()}" for k, s in bad],
            )
    result.repaired = bad
    return result
