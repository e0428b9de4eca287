"""Leader roles (书记, 负责人): who leads a unit's subtree. Admins appoint and remove anywhere;
a leader does so inside the subtrees they lead, for members they manage, never for themself."""

from __future__ import annotations

from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import Member, Unit
from tracker.services import access, org, tx

from . import members as member_admin


def leaders_of(actor: Member, unit_id: int) -> tuple[Unit, list[Member]]:
    """A unit and the members who lead it, for an admin or a leader of the unit's subtree."""
    member_admin.scope_paths(actor)
    unit = _unit(unit_id)
    if not access.leads_unit(actor, unit):
        raise access.Forbidden("只能查看本人所领导单位的负责人")
    return unit, org.unit_leaders(unit)


def appoint(actor: Member, unit_id: int | None, member_id: int | None) -> None:
    with tx.write():
        unit, member = _checked(actor, unit_id, member_id)
        errors: dict[str, str] = {}
        if unit.retired_on is not None:
            errors["unit"] = f"“{unit.name}”已撤销"
        elif any(u.id == unit.id for u in org.led_units(member)):
            errors["member"] = f"{member.name}已是“{unit.name}”的负责人"
        if errors:
            raise ValidationError(errors)
        org.add_leader_role(member, unit, actor_id=actor.id)


def remove(actor: Member, unit_id: int | None, member_id: int | None) -> None:
    with tx.write():
        unit, member = _checked(actor, unit_id, member_id)
        try:
            org.remove_leader_role(member, unit, actor_id=actor.id)
        except org.OrgError as e:
            raise ValidationError({"member": str(e)}) from None


def _checked(actor: Member, unit_id: int | None, member_id: int | None) -> tuple[Unit, Member]:
    """The unit and the member, once the actor may change this member's roles there."""
    member_admin.scope_paths(actor)
    errors: dict[str, str] = {}
    unit = db.session.get(Unit, unit_id) if unit_id is not None else None
    if unit is None:
        errors["unit"] = "请选择单位" if unit_id is None else f"没有编号为 {unit_id} 的单位"
    member = db.session.get(Member, member_id) if member_id is not None else None
    if member is None:
        errors["member"] = "请选择党员" if member_id is None else f"没有编号为 {member_id} 的党员"
    if errors:
        raise ValidationError(errors)
    assert unit is not None and member is not None
    if not actor.is_admin:
        if member.id == actor.id:
            raise access.Forbidden("不能任免自己的负责人职务，请联系上级负责人或管理员")
        if not access.leads_unit(actor, unit):
            raise access.Forbidden("只能任免本人所领导单位的负责人")
        member_admin.require_manage(actor, member)
    return unit, member


def _unit(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise ValidationError({"unit": f"没有编号为 {unit_id} 的单位"})
    return unit
