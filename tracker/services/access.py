"""Who may see and change what (SPEC §8): members themselves, leaders their subtree, admins all."""

from __future__ import annotations

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Member, Unit

from . import driver, org


class Forbidden(Exception):
    """The actor may not do this."""


def led_paths(actor: Member) -> list[str]:
    """Paths of the units the actor leads (a short driver statement: every page asks)."""
    rows = driver.query(
        "SELECT u.path FROM leader_role r JOIN unit u ON u.id = r.unit_id WHERE r.member_id = ?",
        [actor.id],
    )
    return [p for (p,) in rows]


def is_leader(actor: Member) -> bool:
    return actor.is_admin or bool(led_paths(actor))


def leads_unit(actor: Member, unit: Unit) -> bool:
    """Admins lead everything; a leader leads every unit in their subtrees."""
    if actor.is_admin:
        return True
    return any(unit.path.startswith(p) for p in led_paths(actor))


def can_manage_member(actor: Member, member: Member) -> bool:
    """The member themselves, an admin, or a leader of the member's current unit."""
    if actor.id == member.id or actor.is_admin:
        return True
    unit = org.current_unit(member)
    return unit is not None and leads_unit(actor, unit)


def require_manage_member(actor: Member, member: Member) -> None:
    if not can_manage_member(actor, member):
        raise Forbidden("只能查看或修改本人或所领导单位党员的记录")


def default_unit(actor: Member) -> Unit | None:
    """The unit a viewer's boards open on: the top unit they lead, else their own unit's parent."""
    if actor.is_admin:
        root = org.root_unit()
        return org.first_branching(root) if root else None
    paths = led_paths(actor)
    if paths:
        top = min(paths, key=len)
        return db.session.execute(select(Unit).where(Unit.path == top)).scalar_one()
    unit = org.current_unit(actor)
    if unit is None:
        return org.root_unit()
    return unit.parent or unit
