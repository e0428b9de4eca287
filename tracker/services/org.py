"""The organisation tree, members, and their dated memberships."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select

from tracker.extensions import db
from tracker.models import LeaderRole, Member, Membership, Unit
from tracker.security import hash_password

from . import audit, clock, driver, rollups, tx


class OrgError(ValueError):
    """An organisation change that cannot be made, with the reason."""


def root_unit() -> Unit | None:
    return db.session.execute(
        select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.position, Unit.id).limit(1)
    ).scalar_one_or_none()


def get_unit(unit_id: int) -> Unit | None:
    return db.session.get(Unit, unit_id)


@dataclass(frozen=True)
class UnitRow:
    """A unit read without the ORM: boards of many units, the tree's lists and unit fields
    ask for many units on each view, and loading them as objects cost more than the work
    (a province's 5,000 units: 22 ms as objects, leaving the collector thousands more to
    walk; 6 ms as rows)."""

    id: int
    name: str
    kind: str
    parent_id: int | None
    path: str
    depth: int
    position: int
    retired_on: date | None


def unit_rows(condition: str = "", params: Sequence = (), order: str = "path") -> list[UnitRow]:
    """Units where ``condition`` holds (a driver statement's WHERE), in the tree's order."""
    where = f" WHERE {condition}" if condition else ""
    return [
        UnitRow(i, name, kind, parent, path, depth, position, driver.as_date(retired))
        for i, name, kind, parent, path, depth, position, retired in driver.query(
            "SELECT id, name, kind, parent_id, path, depth, position, retired_on FROM unit"
            f"{where} ORDER BY {order}",
            params,
        )
    ]


def rows_by_id(unit_ids: Iterable[int]) -> dict[int, UnitRow]:
    """Some units by id (those that exist)."""
    ids = sorted(set(unit_ids))
    found: dict[int, UnitRow] = {}
    for chunk in driver.chunks(ids):
        found.update((u.id, u) for u in unit_rows(*driver.one_of("id", chunk)))
    return found


def child_rows(unit_id: int) -> list[UnitRow]:
    """A unit's children in board order, as ``children`` orders them."""
    return unit_rows("parent_id = ?", [unit_id], order="position, id")


def children(unit: Unit) -> list[Unit]:
    return list(
        db.session.execute(
            select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.position, Unit.id)
        ).scalars()
    )


def first_branching(unit: Unit) -> Unit:
    """Down from ``unit`` through levels that have a single child: where comparing begins."""
    kids = children(unit)
    while len(kids) == 1:
        unit, kids = kids[0], children(kids[0])
    return unit


def subtree(unit: Unit) -> list[Unit]:
    return list(
        db.session.execute(
            select(Unit).where(Unit.path.startswith(unit.path)).order_by(Unit.path)
        ).scalars()
    )


def ancestors(unit: Unit) -> list[Unit]:
    """From the root down to the unit itself."""
    ids = [int(i) for i in unit.path.strip("/").split("/") if i]
    units = {u.id: u for u in db.session.execute(select(Unit).where(Unit.id.in_(ids))).scalars()}
    return [units[i] for i in ids]


def add_unit(
    name: str,
    kind: str,
    parent: Unit | None = None,
    *,
    position: int = 0,
    actor_id: int | None = None,
) -> Unit:
    """Add a unit inside the caller's transaction."""
    unit = Unit(name=name, kind=kind, parent=parent, position=position)
    db.session.add(unit)
    db.session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    unit.depth = parent.depth + 1 if parent else 0
    audit.record("unit.create", "unit", unit.id, actor_id=actor_id, after=unit_dict(unit))
    return unit


def unit_dict(unit: Unit) -> dict:
    return {"id": unit.id, "name": unit.name, "kind": unit.kind, "parent_id": unit.parent_id}


def belongs(unit: Unit, day: date) -> tuple:
    """Conditions on a membership joined with its unit: it places its member in ``unit``'s
    subtree on ``day``."""
    return (
        Unit.path.startswith(unit.path),
        Membership.valid_from <= day,
        or_(Membership.valid_to.is_(None), Membership.valid_to >= day),
    )


def current_membership(member: Member, day: date | None = None) -> Membership | None:
    day = day or clock.today()
    return db.session.execute(
        select(Membership)
        .where(
            Membership.member_id == member.id,
            Membership.valid_from <= day,
            or_(Membership.valid_to.is_(None), Membership.valid_to >= day),
        )
        .limit(1)
    ).scalar_one_or_none()


def current_unit(member: Member, day: date | None = None) -> Unit | None:
    """The unit a member belongs to on ``day`` (today by default), else their latest unit."""
    membership = current_membership(member, day)
    if membership is None:
        membership = db.session.execute(
            select(Membership)
            .where(Membership.member_id == member.id)
            .order_by(Membership.valid_from.desc())
            .limit(1)
        ).scalar_one_or_none()
    return membership.unit if membership else None


def add_member(
    name: str,
    unit: Unit,
    active_from: date,
    *,
    login: str | None = None,
    password: str | None = None,
    is_admin: bool = False,
    active_to: date | None = None,
    retired: bool = False,
    actor_id: int | None = None,
) -> Member:
    """Add a member inside the caller's transaction."""
    if active_to is not None and active_to < active_from:
        raise OrgError("离开日期不能早于加入日期")
    member = Member(
        name=name,
        login=login,
        password_hash=hash_password(password) if password else None,
        is_admin=is_admin,
        active_from=active_from,
        active_to=active_to,
        retired=retired,
    )
    db.session.add(member)
    db.session.flush()
    db.session.add(Membership(member_id=member.id, unit_id=unit.id, valid_from=active_from))
    audit.record(
        "member.create",
        "member",
        member.id,
        actor_id=actor_id,
        member_id=member.id,
        after={"name": name, "unit_id": unit.id, "active_from": active_from.isoformat()},
    )
    return member


def create_member(name: str, unit: Unit, active_from: date, **kwargs) -> Member:
    with tx.write():
        return add_member(name, unit, active_from, **kwargs)


def make_leader(member: Member, unit: Unit, *, actor_id: int | None = None) -> None:
    with tx.write():
        add_leader_role(member, unit, actor_id=actor_id)


def led_units(member: Member) -> list[Unit]:
    """The units whose subtrees a member leads, in tree order."""
    return list(
        db.session.execute(
            select(Unit)
            .join(LeaderRole, LeaderRole.unit_id == Unit.id)
            .where(LeaderRole.member_id == member.id)
            .order_by(Unit.path)
        ).scalars()
    )


def unit_leaders(unit: Unit) -> list[Member]:
    """The members who lead this unit itself (not those leading an ancestor)."""
    return list(
        db.session.execute(
            select(Member)
            .join(LeaderRole, LeaderRole.member_id == Member.id)
            .where(LeaderRole.unit_id == unit.id)
            .order_by(Member.name, Member.id)
        ).scalars()
    )


def add_leader_role(member: Member, unit: Unit, *, actor_id: int | None = None) -> None:
    """The member leads ``unit``'s subtree; inside the caller's transaction, audited."""
    before = _leads_dict(member)
    db.session.merge(LeaderRole(member_id=member.id, unit_id=unit.id))
    db.session.flush()
    audit.record(
        "member.leader",
        "member",
        member.id,
        actor_id=actor_id,
        member_id=member.id,
        before=before,
        after=_leads_dict(member),
    )


def remove_leader_role(member: Member, unit: Unit, *, actor_id: int | None = None) -> None:
    """The member no longer leads ``unit``; inside the caller's transaction, audited."""
    before = _leads_dict(member)
    role = db.session.get(LeaderRole, (member.id, unit.id))
    if role is None:
        raise OrgError(f"{member.name}不是“{unit.name}”的负责人")
    db.session.delete(role)
    db.session.flush()
    audit.record(
        "member.leader_remove",
        "member",
        member.id,
        actor_id=actor_id,
        member_id=member.id,
        before=before,
        after=_leads_dict(member),
    )


def _leads_dict(member: Member) -> dict:
    return {"leads": [{"id": u.id, "name": u.name} for u in led_units(member)]}


def move_member(member: Member, unit: Unit, from_day: date, *, actor_id: int | None = None) -> None:
    """The member belongs to ``unit`` from ``from_day`` on; earlier history is kept."""
    with tx.write():
        memberships = list(
            db.session.execute(
                select(Membership)
                .where(Membership.member_id == member.id)
                .order_by(Membership.valid_from)
            ).scalars()
        )
        before = _memberships_dict(memberships)
        if any(m.valid_from >= from_day for m in memberships):
            raise OrgError("调动日期必须晚于该党员已有的最后一次调动")
        for m in memberships:
            if m.valid_to is None or m.valid_to >= from_day:
                m.valid_to = from_day - timedelta(days=1)
        db.session.add(Membership(member_id=member.id, unit_id=unit.id, valid_from=from_day))
        db.session.flush()
        after = _memberships_dict(
            db.session.execute(
                select(Membership)
                .where(Membership.member_id == member.id)
                .order_by(Membership.valid_from)
            ).scalars()
        )
        audit.record(
            "member.move",
            "member",
            member.id,
            actor_id=actor_id,
            member_id=member.id,
            before=before,
            after=after,
        )
        rollups.rebuild_member(member.id)


def set_active_dates(
    member: Member, active_from: date, active_to: date | None, *, actor_id: int | None = None
) -> None:
    """Joining, retiring or leaving: the member counts only between these dates."""
    if active_to is not None and active_to < active_from:
        raise OrgError("离开日期不能早于加入日期")
    with tx.write():
        before = {
            "active_from": member.active_from.isoformat(),
            "active_to": _iso(member.active_to),
        }
        member.active_from = active_from
        member.active_to = active_to
        first = db.session.execute(
            select(Membership)
            .where(Membership.member_id == member.id)
            .order_by(Membership.valid_from)
            .limit(1)
        ).scalar_one_or_none()
        if first is not None and first.valid_from > active_from:
            first.valid_from = active_from
        audit.record(
            "member.active",
            "member",
            member.id,
            actor_id=actor_id,
            member_id=member.id,
            before=before,
            after={"active_from": active_from.isoformat(), "active_to": _iso(active_to)},
        )
        db.session.flush()
        rollups.rebuild_member(member.id)


def _memberships_dict(memberships) -> list[dict]:
    return [
        {"unit_id": m.unit_id, "from": m.valid_from.isoformat(), "to": _iso(m.valid_to)}
        for m in memberships
    ]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
