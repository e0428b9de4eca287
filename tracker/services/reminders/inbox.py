"""A member's in-app notices and the admins' delivery log."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update

from tracker.extensions import db
from tracker.models import Member
from tracker.models.reminders import Delivery, DeliveryAttempt, Notice
from tracker.services import tx


def unread_count(member_id: int) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(Notice)
        .where(Notice.member_id == member_id, Notice.read_at.is_(None))
    ).scalar_one()


def notices(member_id: int, limit: int = 50) -> list[Notice]:
    return list(
        db.session.execute(
            select(Notice)
            .where(Notice.member_id == member_id)
            .order_by(Notice.created_at.desc(), Notice.id.desc())
            .limit(limit)
        ).scalars()
    )


def mark_read(member_id: int, notice_id: int | None = None) -> int:
    """Mark one notice (or all) of the member read; nobody marks another member's."""
    with tx.write():
        stmt = update(Notice).where(Notice.member_id == member_id, Notice.read_at.is_(None))
        if notice_id is not None:
            stmt = stmt.where(Notice.id == notice_id)
        result = db.session.execute(stmt.values(read_at=datetime.now(UTC)))
    return result.rowcount or 0


def delivery_log(
    *, status: str | None = None, reminder: str | None = None, limit: int = 200
) -> list[tuple[Delivery, str | None]]:
    """Recent deliveries with the recipient member's name (one query, no N+1)."""
    query = (
        select(Delivery, Member.name)
        .outerjoin(Member, Member.id == Delivery.member_id)
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(Delivery.status == status)
    if reminder:
        query = query.where(Delivery.reminder == reminder)
    return [(d, name) for d, name in db.session.execute(query).all()]


def attempts(delivery_id: int) -> list[DeliveryAttempt]:
    return list(
        db.session.execute(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id == delivery_id)
            .order_by(DeliveryAttempt.id)
        ).scalars()
    )
