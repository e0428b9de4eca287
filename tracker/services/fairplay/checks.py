"""Fair-play checks run inside a report's transaction, and the flag upsert shared with scans.

Flags are soft signals for the leaders of a member's subtree: the checks run under a
savepoint, so a failing check can never fail the report. A flag is unique per member, kind
and occasion, so the report path and repeated scans agree.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app

from tracker.domain import fairplay as domain
from tracker.domain import rules as domain_rules
from tracker.extensions import db
from tracker.models import DailyReport
from tracker.services import clock, driver, rules

log = logging.getLogger(__name__)
TH = domain.DEFAULT


class SavedDay(NamedTuple):
    """What the checks need of a saved report (a stored ``DailyReport`` has the same names)."""

    id: int
    day: date
    total: int
    evidence_sha256: str | None


def raise_flag(member_id: int, kind: str, key: str, day: date, detail: dict) -> None:
    """Add the flag, or bring its detail up to date (short driver statements: a burst of
    token writes asks on every write)."""
    rows = driver.query(
        'SELECT id, detail FROM fair_play_flag WHERE member_id = ? AND kind = ? AND "key" = ?',
        [member_id, kind, key],
    )
    if not rows:
        driver.execute_many(
            'INSERT INTO fair_play_flag (member_id, kind, "key", day, detail, created_at, '
            "review_note) VALUES (?, ?, ?, ?, ?, ?, '')",
            [
                (
                    member_id,
                    kind,
                    key,
                    driver.sql_date(day),
                    json.dumps(detail),
                    driver.sql_datetime(datetime.now(UTC)),
                )
            ],
        )
    else:
        _refresh(*rows[0], detail)  # e.g. a run of maximum days that grew longer


def _refresh(flag_id: int, stored, detail: dict) -> None:
    """Bring a stored flag's detail up to date, writing only when it changed."""
    if driver.as_json(stored) != detail:
        driver.execute_many(
            "UPDATE fair_play_flag SET detail = ? WHERE id = ?", [(json.dumps(detail), flag_id)]
        )


# Inside a report's transaction ----------------------------------------------------------------


def after_report(
    actor_id: int,
    member_id: int,
    report: SavedDay,
    *,
    is_new: bool,
    changed: bool,
    via: str,
    day_max: int,
) -> None:
    """Cheap checks for one saved report. Never raises: a report is never blocked by a flag."""
    try:
        with db.session.begin_nested():
            if via == "token":
                token_write(actor_id, member_id, report.day)
            if changed:
                check_report(member_id, report, is_new=is_new, day_max=day_max)
    except Exception:  # noqa: BLE001  (a flag must never cost a member their report)
        log.exception("fair-play checks failed for member %s on %s", member_id, report.day)


def check_report(member_id: int, report: SavedDay, *, is_new: bool, day_max: int) -> None:
    day = report.day
    if report.evidence_sha256:
        check_evidence(member_id, report)
    if is_new and (clock.today() - day).days > TH.backfill_days:
        raise_flag(
            member_id,
            "backfill",
            day.isoformat(),
            day,
            {"reported_on": clock.today().isoformat(), "days_late": (clock.today() - day).days},
        )
    for lock_id, start, end, lifted in lifted_locks():
        if start <= day <= end:
            raise_flag(
                member_id,
                "edit_after_unlock",
                f"{day.isoformat()}:{lock_id}",
                day,
                {"lock": [start.isoformat(), end.isoformat()], "lifted_at": lifted},
            )
    if report.total <= 0:
        return
    window_start = day - timedelta(days=max(TH.spike_history_days, 62))
    totals = {
        driver.as_date(d): t
        for d, t in driver.query(
            "SELECT day, total FROM daily_report WHERE member_id = ? AND day >= ? AND day <= ?",
            [member_id, driver.sql_date(window_start), driver.sql_date(day + timedelta(days=62))],
        )
    }
    history = [
        t for d, t in totals.items() if day - timedelta(days=TH.spike_history_days) <= d < day
    ]
    usual = domain.is_spike(report.total, history, TH)
    if usual is not None:
        raise_flag(
            member_id,
            "spike",
            day.isoformat(),
            day,
            {"total": report.total, "usual": round(usual, 1)},
        )
    if day_max and report.total >= day_max:
        versions = rules.versions()  # only now: a run may span rule versions
        days = {d: (t, day_max_of(versions, d)) for d, t in totals.items()}
        run = domain.run_through(days, day, TH.max_streak_days)
        if run is not None:
            raise_max_run(member_id, run)


def day_max_of(versions: list[domain_rules.RuleVersion], day: date) -> int:
    version = domain_rules.version_for(versions, day)
    return version.day_maximum(day) if version else 0


def raise_max_run(member_id: int, run: domain.Run) -> None:
    """One flag per run: a run that grew, or two runs that joined, keep the earliest start."""
    existing = driver.query(
        "SELECT id, detail FROM fair_play_flag WHERE member_id = ? AND kind = 'max_streak' "
        "AND day >= ? AND day <= ? ORDER BY id LIMIT 1",
        [member_id, driver.sql_date(run.start), driver.sql_date(run.end)],
    )
    detail = {"from": run.start.isoformat(), "to": run.end.isoformat(), "days": run.days}
    if existing:
        _refresh(*existing[0], detail)
        return
    raise_flag(member_id, "max_streak", run.start.isoformat(), run.start, detail)


def check_evidence(member_id: int, report: SavedDay | DailyReport) -> None:
    others = [
        (m, driver.as_date(d))
        for m, d in driver.query(
            "SELECT member_id, day FROM daily_report WHERE evidence_sha256 = ? AND id <> ? "
            "ORDER BY day LIMIT 5",
            [report.evidence_sha256, report.id],
        )
    ]
    if others:
        raise_flag(
            member_id,
            "evidence_reused",
            f"{report.day.isoformat()}:{report.evidence_sha256[:16]}",
            report.day,
            {"also_on": [{"member_id": m, "date": d.isoformat()} for m, d in others]},
        )


def lifted_locks() -> list[tuple[str, date, date, str]]:
    """Locks that were lifted: (lock id, first day, last day, when), from the audit log."""
    out = []
    for entity_id, before, at in driver.query(
        "SELECT entity_id, \"before\", at FROM audit_entry WHERE action = 'lock.delete'"
    ):
        before = driver.as_json(before)
        at = driver.as_datetime(at)
        if isinstance(before, dict) and before.get("start") and before.get("end"):
            out.append(
                (
                    entity_id,
                    date.fromisoformat(before["start"]),
                    date.fromisoformat(before["end"]),
                    at.isoformat(),
                )
            )
    return out


def token_write(actor_id: int, member_id: int, day: date) -> None:
    """Remember a write made with an API token (for a day) and flag a burst of them."""
    now = datetime.now(UTC)
    driver.execute_many(
        "DELETE FROM token_write WHERE actor_id = ? AND at < ?",
        [(actor_id, driver.sql_datetime(now - timedelta(days=1)))],
    )
    driver.execute_many(
        "INSERT INTO token_write (actor_id, member_id, day, at) VALUES (?, ?, ?, ?)",
        [(actor_id, member_id, driver.sql_date(day), driver.sql_datetime(now))],
    )
    count = driver.query(
        "SELECT COUNT(*) FROM token_write WHERE actor_id = ? AND at >= ?",
        [actor_id, driver.sql_datetime(now - timedelta(minutes=TH.burst_minutes))],
    )[0][0]
    if count >= TH.burst_count:
        # The day of the writes themselves in the organisation's zone, as the scan keys it
        # (not ``clock.today()``, which a demo may fix to another day).
        day = now.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
        raise_flag(
            actor_id,
            "token_burst",
            day.isoformat(),
            day,
            {"writes": count, "minutes": TH.burst_minutes},
        )


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
