"""Awards and deductions as leaders see them: the recent ones in their subtrees."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from tracker.extensions import db
from tracker.models import Adjustment, Member, Membership, Unit

from .members import scope_paths


def recent(actor: Member, limit: int = 30) -> list[tuple[Adjustment, Member, str]]:
    """Recent awards and deductions of members the actor manages: (row, member, given by)."""
    paths = scope_paths(actor)
    giver = aliased(Member)
    query = (
        select(Adjustment, Member, giver.name)
        .join(Member, Member.id == Adjustment.member_id)
        .outerjoin(giver, giver.id == Adjustment.created_by)
    )
    if paths is not None:
        managed = (
            select(Membership.member_id)
            .join(Unit, Unit.id == Membership.unit_id)
            .where(or_(*[Unit.path.startswith(p) for p in paths]))
        )
        query = query.where(Adjustment.member_id.in_(managed))
    rows = db.session.execute(query.order_by(Adjustment.id.desc()).limit(limit)).all()
    return [(a, m, name or "") for a, m, name in rows]
