"""Running a reminder job for a date: select, render, claim, plan, deliver (or only show)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app

from tracker.reminders import delivery, policy
from tracker.reminders.delivery import Planned
from tracker.services import collector, org_settings

from . import claims, exports, selection, settings

JOBS = ("daily", "weekly", "quarterly")


@dataclass
class RunResult:
    job: str
    period: str
    planned: list[Planned] = field(default_factory=list)
    new: int = 0
    counts: Counter = field(default_factory=Counter)
    skipped: dict[str, int] = field(default_factory=dict)
    held: str = ""
    dry_run: bool = False

    def summary(self) -> str:
        if self.held and not self.dry_run:
            return f"{self.job} {self.period}: 未发送（{self.held}）"
        head = f"{self.job} {self.period}: {len(self.planned)} 条"
        if self.dry_run:
            # A dry run always lists who would be reached; a hold only says what a real run
            # would do at this moment, so it is reported beside the list, not instead of it.
            held = f"；正式运行此时会暂缓：{self.held}" if self.held else ""
            head += f"（演练，未发送{held}）"
        parts = [head]
        if not self.dry_run:
            parts.append(f"新增 {self.new}")
            parts.extend(f"{k} {v}" for k, v in sorted(self.counts.items()))
        parts.extend(f"{k} {v}" for k, v in sorted(self.skipped.items()))
        return "，".join(parts)


def local_now() -> datetime:
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"]))


def run(
    job: str,
    day: date,
    *,
    at: time | None = None,
    dry_run: bool = False,
    rerun: bool = True,
    clock: delivery.Clock | None = None,
) -> RunResult:
    """Run ``job`` for ``day``. ``at`` is the time of day the run counts as (default: now).

    Quiet hours and weekends hold the whole run; nothing is planned then, so a later run sends.
    """
    config = current_app.config
    quiet = policy.QuietHours.parse(config["QUIET_HOURS"])
    now = local_now()
    moment = at or now.time()
    result = _selected(job, day, at, now, dry_run)
    result.dry_run = dry_run
    if not result.held and policy.is_weekend(day) and not config["REMINDERS_ON_WEEKENDS"]:
        result.held = "周末不提醒"
    if not result.held and quiet.contains(moment):
        result.held = f"免打扰时段 {quiet.label()}"
    if dry_run or result.held:
        return result
    claim = claims.acquire(
        job, result.period, rerun=rerun, lease_seconds=config["JOB_LEASE_SECONDS"]
    )
    try:
        result.new = delivery.plan(job, result.period, result.planned)
        result.counts = delivery.deliver(
            job, result.period, delivery.Settings.from_app(), clock, heartbeat=claim.renew
        )
    except BaseException:
        claim.abandon()
        raise
    claim.release(result.summary())
    return result


@collector.paused()
def _selected(job: str, day: date, at: time | None, now: datetime, dry_run: bool) -> RunResult:
    """Who the run reaches and each message, rendered: at 100,000 members, 90,000 rows built
    at once, so the collector is paused for it (see ``collector``)."""
    if job == "daily":
        due_at = at or (now.time() if day == now.date() else None)
        chosen = selection.daily(day, due_at)
        result = RunResult(job, day.isoformat(), skipped=chosen.skipped, held=chosen.held)
        render = settings.renderer("daily")
        result.planned = [_personal(render, r) for r in chosen.recipients]
    elif job == "weekly":
        week, bulletins = selection.weekly(day)
        result = RunResult(job, week.key)
        if not org_settings.value("weekly_bulletin_enabled"):
            result.held = "本组织已关闭每周通报"
        wants_chart = not dry_run and any(c.kind == "email" for c, _, _ in bulletins)
        chart = exports.bulletin_chart(week) if wants_chart else None
        render = settings.renderer("weekly")
        for channel, unit, variables in bulletins:
            title, body = render(variables)
            result.planned.append(
                Planned(
                    recipient=f"channel:{channel.id}",
                    kind=channel.kind,
                    title=title,
                    body=body,
                    channel_id=channel.id,
                    address=channel.address,
                    attachment=chart if channel.kind == "email" else None,
                    label=f"{unit.name} · {channel.name}",
                )
            )
    elif job == "quarterly":
        quarter, recipients = selection.quarterly(day)
        result = RunResult(job, quarter.key)
        render = settings.renderer("quarterly")
        result.planned = [
            _personal(render, r, f"member:{r.member_id}/unit:{r.unit_id}") for r in recipients
        ]
    else:
        raise ValueError(f"unknown job {job!r}; expected one of {', '.join(JOBS)}")
    return result


def _personal(
    render: Callable[[dict], tuple[str, str]],
    r: selection.Recipient,
    recipient: str | None = None,
) -> Planned:
    title, body = render(r.variables)
    return Planned(
        recipient=recipient or f"member:{r.member_id}",
        kind=r.channel,
        title=title,
        body=body,
        member_id=r.member_id,
        address=r.address,
        label=f"{r.name} · {r.unit_name}",
    )
