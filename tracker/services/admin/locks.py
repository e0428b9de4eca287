"""Period locks: nothing dated inside a locked week or month may change; unlocking is audited."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tracker.domain.periods import period_of
from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import Member, PeriodLock
from tracker.services import access, audit, tx

MAX_REASON = 200


def all_locks() -> list[PeriodLock]:
    return list(db.session.execute(select(PeriodLock).order_by(PeriodLock.start.desc())).scalars())


def lock_dict(lock: PeriodLock) -> dict:
    return {
        "id": lock.id,
        "start": lock.start.isoformat(),
        "end": lock.end.isoformat(),
        "reason": lock.reason,
    }


def lock_period(actor: Member, kind: str, day: date, reason: str = "") -> PeriodLock:
    """Lock the week or month (``kind``) containing ``day``; locks are organisation-wide."""
    _require_admin(actor)
    if kind not in ("week", "month"):
        raise ValidationError({"kind": "只能锁定一周或一个月"})
    period = period_of(kind, day)
    return lock_range(actor, period.start, period.end, reason)


def lock_range(actor: Member, start: date, end: date, reason: str = "") -> PeriodLock:
    _require_admin(actor)
    errors = {}
    if end < start:
        errors["end"] = "结束日期不能早于开始日期"
    if len(reason) > MAX_REASON:
        errors["reason"] = f"理由最多 {MAX_REASON} 字"
    with tx.write():
        overlap = db.session.execute(
            select(PeriodLock.id).where(PeriodLock.start <= end, PeriodLock.end >= start).limit(1)
        ).first()
        if overlap is not None and not errors:
            errors["start"] = "该时段与已有的锁定重叠"
        if errors:
            raise ValidationError(errors)
        lock = PeriodLock(start=start, end=end, reason=reason.strip(), created_by=actor.id)
        db.session.add(lock)
        db.session.flush()
        audit.record(
            "lock.create", "period_lock", lock.id, actor_id=actor.id, after=lock_dict(lock)
        )
    return lock


def unlock(actor: Member, lock_id: int, reason: str = "") -> None:
    """Lift a lock; the entry keeps what was locked and why it was lifted."""
    _require_admin(actor)
    if not reason.strip():
        raise ValidationError({"reason": "请填写解锁理由"})
    with tx.write():
        lock = db.session.get(PeriodLock, lock_id)
        if lock is None:
            raise ValidationError({"lock": "没有这条锁定"})
        before = lock_dict(lock)
        db.session.delete(lock)
        audit.record(
            "lock.delete",
            "period_lock",
            lock_id,
            actor_id=actor.id,
            before=before,
            after={"reason": reason.strip()[:MAX_REASON]},
        )


def _require_admin(actor: Member) -> None:
    if not actor.is_admin:
        raise access.Forbidden("只有管理员可以锁定或解锁时段")
