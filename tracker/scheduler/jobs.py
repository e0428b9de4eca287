"""The scheduled jobs, as data: a name, the setting holding its cron schedule, what it does.

Every job claims its period in the database before working (``services.reminders.claims``), so
a second scheduler started by mistake, a restart, or a coalesced misfire does nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from tracker.domain.periods import period_of
from tracker.services import clock
from tracker.services.reminders import claims, exports, runs

from . import rollup_check

log = logging.getLogger("tracker.scheduler")


@dataclass(frozen=True)
class Job:
    name: str
    setting: str  # the config key of its cron schedule
    run: Callable[[], str]
    label: str


def daily_nudge() -> str:
    # Runs every slot of the day: each run sends only the nudges that became due and were not
    # sent yet (deliveries are unique per member and day), so it is a rerun by design.
    return runs.run("daily", clock.today(), rerun=True).summary()


def weekly_bulletin() -> str:
    return runs.run("weekly", clock.today(), rerun=False).summary()


def quarterly_review() -> str:
    return runs.run("quarterly", clock.today(), rerun=False).summary()


def weekly_export() -> str:
    week = period_of("week", clock.today()).previous()
    claim = _claim("export", week.key)
    try:
        files = exports.export_week(week)
    except BaseException:
        claim.abandon()
        raise
    summary = f"export {week.key}: {len(files)} 张图" if files else f"export {week.key}: 无图表模块"
    claim.release(summary)
    return summary


def nightly_rollup_check() -> str:
    today = clock.today()
    claim = _claim("rollup-check", today.isoformat())
    try:
        summary = rollup_check.check(today).summary()
    except BaseException:
        claim.abandon()
        raise
    claim.release(summary)
    return summary


def _claim(job: str, period: str) -> claims.Claim:
    from flask import current_app

    return claims.acquire(
        job, period, rerun=False, lease_seconds=current_app.config["JOB_LEASE_SECONDS"]
    )


JOBS: tuple[Job, ...] = (
    Job("daily", "SCHEDULE_DAILY", daily_nudge, "每日学习提醒"),
    Job("weekly", "SCHEDULE_WEEKLY", weekly_bulletin, "每周学习通报"),
    Job("export", "SCHEDULE_EXPORT", weekly_export, "每周图表导出"),
    Job("quarterly", "SCHEDULE_QUARTERLY", quarterly_review, "季度讲评提醒"),
    Job("rollup-check", "SCHEDULE_ROLLUP_CHECK", nightly_rollup_check, "汇总数据夜间核对"),
)
