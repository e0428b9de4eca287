"""Awards and deductions: points given or taken by a leader, with a reason, counted on their date."""

from __future__ import annotations

from datetime import date

from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import Adjustment, Member
from tracker.services import access, audit, clock, reports, rollups, tx

MAX_REASON = 200


def give(actor: Member, member: Member, day: date, points: int, reason: str) -> Adjustment:
    """Record an award (points > 0) or a deduction (points < 0) for ``member`` on ``day``."""
    if actor.id == member.id and not actor.is_admin:
        raise access.Forbidden("不能给自己加分或扣分")
    access.require_manage_member(actor, member)
    errors = {}
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        errors["points"] = "分值应为非零整数（正数为奖励，负数为扣减）"
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        errors["reason"] = f"请填写 1–{MAX_REASON} 字的理由"
    if day > clock.today():
        errors["date"] = "不能记在未来的日期"
    with tx.write():
        unit_id = rollups.unit_on(member.id, day)
        if "date" not in errors and reports.is_locked(day):
            errors["date"] = f"{day.isoformat()} 所在的时段已锁定"
        if "date" not in errors and unit_id is None:
            errors["date"] = f"{day.isoformat()} 不在该党员的在册期间"
        if errors:
            raise ValidationError(errors)
        assert unit_id is not None
        row = Adjustment(
            member_id=member.id, day=day, points=points, reason=reason.strip(), created_by=actor.id
        )
        db.session.add(row)
        db.session.flush()
        rollups.apply(member.id, unit_id, day, points, 0)
        audit.record(
            "adjustment.create",
            "adjustment",
            row.id,
            actor_id=actor.id,
            member_id=member.id,
            after={"date": day.isoformat(), "points": points, "reason": row.reason},
        )
    return row
