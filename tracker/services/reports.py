"""Self-reports: validate against the day's rules, replace the day, update roll-ups, audit."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.domain.periods import period_of
from tracker.domain.validation import (
    ReportContext,
    ReportInput,
    ValidationError,
    ValidReport,
    validate_report,
)
from tracker.extensions import db
from tracker.models import DailyReport, Member

from . import access, audit, clock, driver, fairplay, org_settings, rollups, rules, tx

EVIDENCE_TYPES = {
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
    b"RIFF": ("image/webp", "webp"),
}


@dataclass
class Saved:
    """A stored report as ``as_dict`` shows it, whether it changed and whether it is new."""

    report: dict
    changed: bool
    created: bool


@dataclass
class Stored:
    """A day's report as stored: its row, its items and its quiz results."""

    id: int
    form: str
    total: int
    cumulative: int | None
    note: str
    evidence_sha256: str | None
    evidence_type: str | None
    items: dict[str, int]
    quizzes: list[dict]
    updated_by: int | None = None

    @classmethod
    def saving(
        cls,
        valid: ValidReport,
        old: Stored | None,
        actor_id: int | None,
        evidence: tuple[str, str] | None = None,
    ) -> Stored:
        """What saving ``valid`` over ``old`` stores: a screenshot already stored for the
        day stays with it unless a new one comes."""
        keep = (old.evidence_sha256, old.evidence_type) if old else (None, None)
        sha256, evidence_type = evidence or keep
        return cls(
            old.id if old else 0,
            valid.form,
            valid.total,
            valid.cumulative,
            valid.note,
            sha256,
            evidence_type,
            dict(sorted(valid.items.items())),
            [
                {
                    "kind": q.kind,
                    "questions": q.questions,
                    "correct": q.correct,
                    "seconds": q.seconds,
                }
                for q in valid.quizzes
            ],
            actor_id,
        )

    def as_dict(self, day: date) -> dict:
        return {
            "date": day.isoformat(),
            "form": self.form,
            "total": self.total,
            "cumulative": self.cumulative,
            "items": dict(sorted(self.items.items())),
            "quizzes": self.quizzes,
            "note": self.note,
            "evidence_sha256": self.evidence_sha256,
        }


@dataclass
class Evidence:
    filename: str
    data: bytes


def backfill_days(actor: Member) -> int:
    cfg = current_app.config
    if actor.is_admin:
        return cfg["BACKFILL_DAYS_ADMIN"]
    if access.is_leader(actor):
        return cfg["BACKFILL_DAYS_LEADER"]
    return cfg["BACKFILL_DAYS_MEMBER"]


def is_locked(day: date) -> bool:
    d = driver.sql_date(day)
    return bool(
        driver.query('SELECT 1 FROM period_lock WHERE start <= ? AND "end" >= ? LIMIT 1', [d, d])
    )


def get(member_id: int, day: date) -> DailyReport | None:
    return db.session.execute(
        select(DailyReport)
        .options(selectinload(DailyReport.items), selectinload(DailyReport.quizzes))
        .where(DailyReport.member_id == member_id, DailyReport.day == day)
    ).scalar_one_or_none()


def history(member_id: int, start: date, end: date) -> list[DailyReport]:
    return list(
        db.session.execute(
            select(DailyReport)
            .options(selectinload(DailyReport.items))
            .where(
                DailyReport.member_id == member_id,
                DailyReport.day >= start,
                DailyReport.day <= end,
            )
            .order_by(DailyReport.day.desc())
        ).scalars()
    )


def put(
    actor: Member,
    member: Member,
    day: date,
    data: ReportInput,
    *,
    evidence: Evidence | None = None,
    from_form: bool = False,
    via: str = "web",
) -> Saved:
    """Validate and store one member's report for ``day``, replacing any earlier one.

    Returns the stored report as a dict (read before the commit, so nothing is loaded again)
    and whether it changed or is new. Raises ``ValidationError`` (nothing is changed) or
    ``access.Forbidden``.
    """
    access.require_manage_member(actor, member)
    evidence_meta = _check_evidence(evidence) if evidence else None
    # Read before the write transaction: starting it expires what the session holds, and
    # touching ``actor`` or ``member`` inside would load them again.
    actor_id, member_id, backfill = actor.id, member.id, backfill_days(actor)
    with tx.write():
        if tx.is_postgres():
            # Serialise writes per member: weekly caps and 总积分 depend on the other days.
            db.session.execute(select(Member.id).where(Member.id == member_id).with_for_update())
        unit_id, locked, week_items, previous_cumulative, next_cumulative = _day_facts(
            member_id, day
        )
        ctx = ReportContext(
            day=day,
            today=clock.today(),
            rules=rules.version_for(day),
            backfill_days=backfill,
            locked=locked,
            active=unit_id is not None,
            week_items=week_items,
            previous_cumulative=previous_cumulative,
            next_cumulative=next_cumulative,
        )
        valid = validate_report(data, ctx, from_form=from_form)
        old = stored(member_id, day)
        before = old.as_dict(day) if old else None
        new = Stored.saving(valid, old, actor_id, evidence_meta)
        new.id = _save(member_id, day, old, new)
        after = new.as_dict(day)
        changed = before != after
        if changed:
            assert unit_id is not None
            old_total = old.total if old else 0
            rollups.apply(
                member_id,
                unit_id,
                day,
                valid.total - old_total,
                int(valid.total > 0) - int(old_total > 0),
            )
            audit.record(
                "report.put",
                "daily_report",
                f"{member_id}:{day.isoformat()}",
                actor_id=actor_id,
                member_id=member_id,
                before=before,
                after=after,
            )
        # Soft fair-play signals for leaders; ``via`` is "token" for API token writes.
        fairplay.after_report(
            actor_id,
            member_id,
            fairplay.SavedDay(new.id, day, new.total, new.evidence_sha256),
            is_new=old is None,
            changed=changed,
            via=via,
            day_max=ctx.rules.day_maximum(day) if ctx.rules else 0,
        )
    return Saved(after, changed, old is None)


def stored(member_id: int, day: date) -> Stored | None:
    """The member's stored report for ``day``, read with short driver statements."""
    rows = driver.query(
        "SELECT id, form, total, cumulative, note, evidence_sha256, evidence_type, updated_by "
        "FROM daily_report WHERE member_id = ? AND day = ?",
        [member_id, driver.sql_date(day)],
    )
    if not rows:
        return None
    report_id, form, total, cumulative, note, sha256, evidence_type, updated_by = rows[0]
    items = driver.query("SELECT code, points FROM report_item WHERE report_id = ?", [report_id])
    quizzes = driver.query(
        "SELECT kind, questions, correct, seconds FROM quiz_result WHERE report_id = ? ORDER BY id",
        [report_id],
    )
    return Stored(
        report_id,
        form,
        total,
        cumulative,
        note,
        sha256,
        evidence_type,
        dict(items),
        [{"kind": k, "questions": q, "correct": c, "seconds": s} for k, q, c, s in quizzes],
        updated_by,
    )


def _save(member_id: int, day: date, old: Stored | None, new: Stored) -> int:
    """Write ``new`` over ``old`` with driver statements, touching only what differs; the
    report's id. The row's ``updated_at`` is the database's clock, as its column default."""
    d = driver.sql_date(day)
    row = (
        new.form,
        new.total,
        new.cumulative,
        new.note,
        new.evidence_sha256,
        new.evidence_type,
        new.updated_by,
    )
    if old is None:
        report_id = driver.query(
            "INSERT INTO daily_report (member_id, day, form, total, cumulative, note, "
            "evidence_sha256, evidence_type, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING id",
            [member_id, d, *row],
        )[0][0]
    else:
        report_id = old.id
        was = (
            old.form,
            old.total,
            old.cumulative,
            old.note,
            old.evidence_sha256,
            old.evidence_type,
            old.updated_by,
        )
        if was != row:
            driver.execute_many(
                "UPDATE daily_report SET form = ?, total = ?, cumulative = ?, note = ?, "
                "evidence_sha256 = ?, evidence_type = ?, updated_by = ?, "
                "updated_at = CURRENT_TIMESTAMP WHERE id = ?",
                [(*row, report_id)],
            )
        if old.items != new.items:
            driver.execute_many("DELETE FROM report_item WHERE report_id = ?", [(report_id,)])
        if old.quizzes != new.quizzes:
            driver.execute_many("DELETE FROM quiz_result WHERE report_id = ?", [(report_id,)])
    if old is None or old.items != new.items:
        driver.execute_many(
            "INSERT INTO report_item (report_id, code, points) VALUES (?, ?, ?)",
            [(report_id, code, points) for code, points in new.items.items()],
        )
    if old is None or old.quizzes != new.quizzes:
        driver.execute_many(
            "INSERT INTO quiz_result (report_id, member_id, day, kind, questions, correct, "
            "seconds) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (report_id, member_id, d, q["kind"], q["questions"], q["correct"], q["seconds"])
                for q in new.quizzes
            ],
        )
    return report_id


def _day_facts(member_id: int, day: date):
    """What validating a member's day depends on, read with short statements on the driver:
    the unit that day (None when not active or on no roster), whether the day is locked, the
    points per item of the week's other days, and the 总积分 reported before and after it."""
    d = driver.sql_date(day)
    week = period_of("week", day)
    week_items = driver.query(
        "SELECT ri.code, SUM(ri.points) FROM report_item ri "
        "JOIN daily_report r ON r.id = ri.report_id WHERE r.member_id = ? "
        "AND r.day >= ? AND r.day <= ? AND r.day <> ? GROUP BY ri.code",
        [member_id, driver.sql_date(week.start), driver.sql_date(week.end), d],
    )
    before = driver.query(
        "SELECT cumulative FROM daily_report WHERE member_id = ? AND cumulative IS NOT NULL "
        "AND day < ? ORDER BY day DESC LIMIT 1",
        [member_id, d],
    )
    after = driver.query(
        "SELECT cumulative FROM daily_report WHERE member_id = ? AND cumulative IS NOT NULL "
        "AND day > ? ORDER BY day LIMIT 1",
        [member_id, d],
    )
    return (
        rollups.unit_on(member_id, day),
        is_locked(day),
        {code: int(points) for code, points in week_items},
        before[0][0] if before else None,
        after[0][0] if after else None,
    )


def previous_cumulative_report(member_id: int, day: date) -> DailyReport | None:
    """The latest report before ``day`` that recorded the platform's 总积分."""
    return db.session.execute(
        select(DailyReport)
        .where(
            DailyReport.member_id == member_id,
            DailyReport.cumulative.is_not(None),
            DailyReport.day < day,
        )
        .order_by(DailyReport.day.desc())
        .limit(1)
    ).scalar_one_or_none()


def _check_evidence(evidence: Evidence) -> tuple[str, str]:
    """Size- and type-check a screenshot, store it by its hash, return (sha256, type)."""
    if not org_settings.value("evidence_enabled"):
        raise ValidationError({"evidence": "本组织未启用截图凭证"})
    limit = current_app.config["EVIDENCE_MAX_BYTES"]
    if not evidence.data:
        raise ValidationError({"evidence": "截图文件为空"})
    if len(evidence.data) > limit:
        raise ValidationError({"evidence": f"截图不能超过 {limit // 1024 // 1024} MB"})
    kind = next(
        (meta for magic, meta in EVIDENCE_TYPES.items() if evidence.data.startswith(magic)), None
    )
    if kind is None or (kind[1] == "webp" and evidence.data[8:12] != b"WEBP"):
        raise ValidationError({"evidence": "截图只能是 PNG、JPEG 或 WebP 图片"})
    digest = hashlib.sha256(evidence.data).hexdigest()
    folder = Path(current_app.instance_path) / "evidence"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.{kind[1]}"
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(evidence.data)
        tmp.replace(path)
    return digest, kind[0]


def unreported_days(member_id: int, start: date, end: date) -> list[date]:
    """Days in [start, end] with no report (for the back-fill hint on the report page)."""
    have = set(
        db.session.execute(
            select(DailyReport.day).where(
                DailyReport.member_id == member_id,
                DailyReport.day >= start,
                DailyReport.day <= end,
            )
        ).scalars()
    )
    out, day = [], start
    while day <= end:
        if day not in have:
            out.append(day)
        day += timedelta(days=1)
    return out
