"""Scanning a period's history for fair-play flags (``flask --app tracker flags scan``)."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from operator import itemgetter
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from tracker.domain import fairplay as domain
from tracker.extensions import db
from tracker.models import AuditEntry, DailyReport, FairPlayFlag, TokenWrite
from tracker.services import rules, tx

from .checks import TH, aware, check_evidence, day_max_of, lifted_locks, raise_flag, raise_max_run

STREAM_ROWS = 10_000


def scan(start: date, end: date) -> dict[str, int]:
    """Look over ``start``–``end`` and add the flags that are missing; returns new flags by kind."""
    with tx.write():
        before = _count_by_kind()
        _scan_evidence(start, end)
        _scan_totals(start, end)
        _scan_audit(start, end)
        _scan_tokens()
        db.session.flush()
        after = _count_by_kind()
    return {k: after.get(k, 0) - before.get(k, 0) for k in domain.KINDS}


def _count_by_kind() -> dict[str, int]:
    return dict(
        db.session.execute(
            select(FairPlayFlag.kind, func.count()).group_by(FairPlayFlag.kind)
        ).all()
    )


def _scan_evidence(start: date, end: date) -> None:
    shared = (
        select(DailyReport.evidence_sha256)
        .where(DailyReport.evidence_sha256.is_not(None))
        .group_by(DailyReport.evidence_sha256)
        .having(func.count() > 1)
    )
    rows = db.session.execute(
        select(DailyReport)
        .where(DailyReport.evidence_sha256.in_(shared))
        .order_by(DailyReport.evidence_sha256, DailyReport.day, DailyReport.id)
    ).scalars()
    seen: set[str] = set()
    for report in rows:
        first = report.evidence_sha256 not in seen
        seen.add(report.evidence_sha256)
        if not first and start <= report.day <= end:
            check_evidence(report.member_id, report)


def _scan_totals(start: date, end: date) -> None:
    versions = rules.versions()
    tops: dict[date, int] = {}

    def top(day: date) -> int:
        if day not in tops:
            tops[day] = day_max_of(versions, day)
        return tops[day]

    rows = db.session.execute(
        select(DailyReport.member_id, DailyReport.day, DailyReport.total)
        .where(
            DailyReport.day >= start - timedelta(days=TH.spike_history_days),
            DailyReport.day <= end,
        )
        .order_by(DailyReport.member_id, DailyReport.day)
        .execution_options(yield_per=STREAM_ROWS)
    )
    # One member at a time: a province's 90 days and their history are 12 million rows.
    runs, spikes = [], []
    for member_id, group in groupby(rows, key=itemgetter(0)):
        totals = {day: total for _, day, total in group}
        days = {d: (t, top(d)) for d, t in totals.items()}
        for run in domain.max_runs(days, TH.max_streak_days):
            if run.end >= start:
                runs.append((member_id, run))
        dates, values = list(totals), list(totals.values())  # by day, each once
        for i, (day, total) in enumerate(totals.items()):
            if day < start or total <= 0:
                continue
            # The days of the four weeks before: a slice of the sorted days, not a pass
            # over all of them for each day (90 days took 21 s for 2,000 members).
            history = values[bisect_left(dates, day - timedelta(days=TH.spike_history_days)) : i]
            usual = domain.is_spike(total, history, TH)
            if usual is not None:
                spikes.append((member_id, day, {"total": total, "usual": round(usual, 1)}))
    for member_id, run in runs:  # written once the rows are read: flags are few
        raise_max_run(member_id, run)
    for member_id, day, detail in spikes:
        raise_flag(member_id, "spike", day.isoformat(), day, detail)


def _scan_audit(start: date, end: date) -> None:
    """Back-filled days (first written days after their date) and edits after an unlock."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    lifted = [(lock_id, s, e, datetime.fromisoformat(at)) for lock_id, s, e, at in lifted_locks()]
    first: dict[str, datetime] = {}
    # A day's entries are written on or after that day (no report is for a day to come), so
    # the log before the window, two days early for any time zone, holds none of its days.
    since = datetime.combine(start - timedelta(days=2), time(), UTC)
    for entity_id, at, action, before in db.session.execute(
        select(AuditEntry.entity_id, AuditEntry.at, AuditEntry.action, AuditEntry.before)
        .where(
            AuditEntry.action.in_(("report.put", "report.import")),
            AuditEntry.at >= since,
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    ):
        member_text, _, day_text = entity_id.partition(":")
        try:
            member_id, day = int(member_text), date.fromisoformat(day_text)
        except ValueError:
            continue
        if not start <= day <= end:
            continue
        moment = aware(at)
        if entity_id not in first:
            first[entity_id] = moment
            late = (moment.astimezone(zone).date() - day).days
            # Imports bring in history on purpose; a first entry with a "before" edits a day
            # that was seeded or imported, which is no back-fill either.
            if action == "report.put" and before is None and late > TH.backfill_days:
                raise_flag(
                    member_id,
                    "backfill",
                    day.isoformat(),
                    day,
                    {
                        "reported_on": moment.astimezone(zone).date().isoformat(),
                        "days_late": late,
                    },
                )
        for lock_id, s, e, lifted_at in lifted if action == "report.put" else ():
            if s <= day <= e and moment > lifted_at:
                raise_flag(
                    member_id,
                    "edit_after_unlock",
                    f"{day.isoformat()}:{lock_id}",
                    day,
                    {"lock": [s.isoformat(), e.isoformat()], "lifted_at": lifted_at.isoformat()},
                )


def _scan_tokens() -> None:
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    times: dict[int, list[datetime]] = defaultdict(list)
    for actor_id, at in db.session.execute(select(TokenWrite.actor_id, TokenWrite.at)):
        times[actor_id].append(aware(at))
    for actor_id, moments in times.items():
        for begin, count in domain.bursts(moments, TH):
            day = begin.astimezone(zone).date()
            raise_flag(
                actor_id,
                "token_burst",
                day.isoformat(),
                day,
                {"writes": count, "minutes": TH.burst_minutes},
            )
