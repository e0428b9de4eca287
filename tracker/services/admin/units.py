"""Editing the unit tree: add, rename, move and retire units (admins only), each audited."""

from __future__ import annotations

from datetime import date

from sqlalchemy import String, func, literal, or_, select, update

from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import Member, Membership, Unit
from tracker.services import access, audit, org, rollups, tx

MAX_NAME = 120
MAX_KIND = 20


def tree() -> list[org.UnitRow]:
    """Every unit, parents before children, in the order the tree shows them."""
    return org.unit_rows()


def unit_dict(unit: Unit) -> dict:
    return {
        "id": unit.id,
        "name": unit.name,
        "kind": unit.kind,
        "parent_id": unit.parent_id,
        "path": unit.path,
        "depth": unit.depth,
        "position": unit.position,
        "retired_on": unit.retired_on.isoformat() if unit.retired_on else None,
    }


def _require_admin(actor: Member) -> None:
    if not actor.is_admin:
        raise access.Forbidden("只有管理员可以修改组织结构")


def _check_text(errors: dict, field: str, value: str, maximum: int, label: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > maximum:
        errors[field] = f"{label}应为 1–{maximum} 字"
    return value


def _sibling_named(parent_id: int | None, name: str, exclude: int | None = None) -> bool:
    query = select(Unit.id).where(Unit.name == name, Unit.retired_on.is_(None))
    query = query.where(
        Unit.parent_id.is_(None) if parent_id is None else Unit.parent_id == parent_id
    )
    if exclude is not None:
        query = query.where(Unit.id != exclude)
    return db.session.execute(query.limit(1)).first() is not None


def _unit(unit_id: int | None, field: str, errors: dict) -> Unit | None:
    unit = db.session.get(Unit, unit_id) if unit_id is not None else None
    if unit_id is not None and unit is None:
        errors[field] = f"没有编号为 {unit_id} 的单位"
    elif unit is not None and unit.retired_on is not None:
        errors[field] = f"“{unit.name}”已撤销"
        return None
    return unit


def create(actor: Member, name: str, kind: str, parent_id: int | None) -> Unit:
    _require_admin(actor)
    with tx.write():
        errors: dict[str, str] = {}
        name = _check_text(errors, "name", name, MAX_NAME, "名称")
        kind = _check_text(errors, "kind", kind, MAX_KIND, "类型")
        parent = _unit(parent_id, "parent", errors)
        if parent_id is None and org.root_unit() is not None:
            errors["parent"] = "请选择上级单位（只能有一个顶级单位）"
        if "name" not in errors and "parent" not in errors and _sibling_named(parent_id, name):
            errors["name"] = f"上级单位下已有“{name}”"
        if errors:
            raise ValidationError(errors)
        position = db.session.execute(
            select(func.coalesce(func.max(Unit.position), 0)).where(Unit.parent_id == parent_id)
        ).scalar_one()
        return org.add_unit(name, kind, parent, position=position + 1, actor_id=actor.id)


def rename(actor: Member, unit_id: int, name: str, kind: str | None = None) -> Unit:
    _require_admin(actor)
    with tx.write():
        errors: dict[str, str] = {}
        unit = _get(unit_id)
        name = _check_text(errors, "name", name, MAX_NAME, "名称")
        if kind is not None:
            kind = _check_text(errors, "kind", kind, MAX_KIND, "类型")
        if "name" not in errors and _sibling_named(unit.parent_id, name, exclude=unit.id):
            errors["name"] = f"上级单位下已有“{name}”"
        if errors:
            raise ValidationError(errors)
        before = unit_dict(unit)
        unit.name = name
        if kind is not None:
            unit.kind = kind
        audit.record(
            "unit.rename", "unit", unit.id, actor_id=actor.id, before=before, after=unit_dict(unit)
        )
    return unit


def move(actor: Member, unit_id: int, parent_id: int) -> Unit:
    """Put a unit (with its whole subtree) under another parent.

    Boards follow the tree as it is now: the subtree's history counts under its new parent.
    """
    _require_admin(actor)
    with tx.write():
        errors: dict[str, str] = {}
        unit = _get(unit_id)
        parent = _unit(parent_id, "parent", errors)
        if unit.parent_id is None:
            errors["parent"] = "顶级单位不能移动"
        elif parent is not None and parent.path.startswith(unit.path):
            errors["parent"] = "不能移到自己或自己的下级单位之下"
        elif parent is not None and _sibling_named(parent.id, unit.name, exclude=unit.id):
            errors["parent"] = f"“{parent.name}”下已有“{unit.name}”"
        if errors:
            raise ValidationError(errors)
        assert parent is not None
        before = unit_dict(unit)
        old_path, new_path = unit.path, f"{parent.path}{unit.id}/"
        shift = parent.depth + 1 - unit.depth
        # Rewrite the materialised path of the whole subtree in one statement.
        db.session.execute(
            update(Unit)
            .where(Unit.path.startswith(old_path))
            .values(
                path=literal(new_path, String).concat(
                    func.substr(Unit.path, len(old_path) + 1, type_=String)
                ),
                depth=Unit.depth + shift,
            )
            .execution_options(synchronize_session=False)
        )
        unit.parent_id = parent.id
        db.session.flush()
        db.session.expire_all()
        unit = db.session.get(Unit, unit_id)
        rollups.rebuild_subtree(unit)  # its members now count under other ancestors
        audit.record(
            "unit.move", "unit", unit.id, actor_id=actor.id, before=before, after=unit_dict(unit)
        )
    return unit


def retire(actor: Member, unit_id: int, day: date) -> Unit:
    """Retire a unit from ``day``: nobody may belong to it, or to a live sub-unit, from then on."""
    _require_admin(actor)
    with tx.write():
        unit = _get(unit_id)
        errors: dict[str, str] = {}
        if unit.retired_on is not None:
            errors["unit"] = f"该单位已于 {unit.retired_on.isoformat()} 撤销"
        elif unit.parent_id is None:
            errors["unit"] = "顶级单位不能撤销"
        else:
            live_children = db.session.execute(
                select(func.count())
                .select_from(Unit)
                .where(Unit.parent_id == unit.id, Unit.retired_on.is_(None))
            ).scalar_one()
            if live_children:
                errors["unit"] = f"请先撤销或移走它的 {live_children} 个下级单位"
            members = db.session.execute(
                select(func.count(func.distinct(Membership.member_id))).where(
                    Membership.unit_id == unit.id,
                    or_(Membership.valid_to.is_(None), Membership.valid_to >= day),
                )
            ).scalar_one()
            if members and "unit" not in errors:
                errors["date"] = (
                    f"{day.isoformat()} 及以后仍有 {members} 名党员属于该单位，请先调出"
                )
        if errors:
            raise ValidationError(errors)
        before = unit_dict(unit)
        unit.retired_on = day
        audit.record(
            "unit.retire", "unit", unit.id, actor_id=actor.id, before=before, after=unit_dict(unit)
        )
    return unit


def _get(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise ValidationError({"unit": f"没有编号为 {unit_id} 的单位"})
    return unit
