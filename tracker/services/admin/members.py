"""Managing members: create, move from a date, end or restore membership, reset a password,
issue an API token. Admins everywhere; leaders for members of the subtrees they lead."""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import case, or_, select
from sqlalchemy.orm import aliased

from tracker import security
from tracker.domain.units import retired_conflict
from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import Member, Membership, PeriodLock, Unit
from tracker.security import hash_password
from tracker.services import access, audit, clock, org, tx

MAX_NAME = 60
MAX_LOGIN = 60
PAGE = 50


def member_dict(member: Member, unit: Unit | None = None) -> dict:
    return {
        "id": member.id,
        "name": member.name,
        "login": member.login,
        "unit": {"id": unit.id, "name": unit.name} if unit else None,
        "active_from": member.active_from.isoformat(),
        "active_to": member.active_to.isoformat() if member.active_to else None,
        "retired": member.retired,
        "admin": member.is_admin,
        "has_password": bool(member.password_hash),
        "has_token": bool(member.token_hash),
    }


def scope_paths(actor: Member) -> list[str] | None:
    """The subtrees whose members the actor manages; ``None`` means everywhere."""
    if actor.is_admin:
        return None
    paths = access.led_paths(actor)
    if not paths:
        raise access.Forbidden("只有管理员或单位负责人可以管理党员")
    return paths


FIRST_UNITS = 16  # units asked about first for a page of members; doubled until it is full
MOST_UNITS = 512


def listing(
    actor: Member, *, unit: Unit | None = None, q: str = "", page: int = 1
) -> tuple[list[tuple[Member, Unit]], bool]:
    """Members with their unit today (or their last unit), within the actor's scope, in the
    order of their unit's path, then name.

    Returns one page and whether there is another.
    """
    paths = scope_paths(actor)
    skip = (max(page, 1) - 1) * PAGE
    if q:
        return _search(paths, unit, q.strip(), skip)
    # Browsing walks the units in path order, a few at a time, until the page is full:
    # ordering every member of a province by unit and name to show the first fifty took
    # 0.45 s on PostgreSQL. Only the page's members are then loaded.
    unit_ids = list(db.session.scalars(_within(select(Unit.id), paths, unit).order_by(Unit.path)))
    shown = (
        select(Membership.member_id, Membership.unit_id)
        .join(Member, Member.id == Membership.member_id)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(Membership.id == shown_membership(Membership.member_id))
        .order_by(Unit.path, Member.name, Member.id)
    )
    wanted = skip + PAGE + 1  # one more than the page tells whether another follows
    keys: list[tuple[int, int]] = []
    start, size = 0, FIRST_UNITS
    # Each batch is the next units in path order, so its rows follow the batch before's.
    while start < len(unit_ids) and len(keys) < wanted:
        batch = unit_ids[start : start + size]
        found = db.session.execute(
            shown.where(Membership.unit_id.in_(batch)).limit(wanted - len(keys))
        )
        keys += [(member_id, unit_id) for member_id, unit_id in found]
        start, size = start + len(batch), min(size * 2, MOST_UNITS)
    page_keys = keys[skip : skip + PAGE]
    loaded_members = {
        m.id: m
        for m in db.session.scalars(select(Member).where(Member.id.in_([m for m, _ in page_keys])))
    }
    loaded_units = {
        u.id: u
        for u in db.session.scalars(select(Unit).where(Unit.id.in_({u for _, u in page_keys})))
    }
    rows = [(loaded_members[m], loaded_units[u]) for m, u in page_keys]
    return rows, len(keys) > skip + PAGE


def _search(
    paths: list[str] | None, unit: Unit | None, q: str, skip: int
) -> tuple[list[tuple[Member, Unit]], bool]:
    """A search names few members: they are found first, then ordered."""
    like = f"%{q}%"
    query = (
        select(Member, Unit)
        .select_from(Member)
        .join(Membership, Membership.id == shown_membership())
        .join(Unit, Unit.id == Membership.unit_id)
        .where(or_(Member.name.like(like), Member.login.like(like)))
    )
    rows = db.session.execute(
        _within(query, paths, unit)
        .order_by(Unit.path, Member.name, Member.id)
        .limit(PAGE + 1)
        .offset(skip)
    ).all()
    return [(m, u) for m, u in rows[:PAGE]], len(rows) > PAGE


def _within(query, paths: list[str] | None, unit: Unit | None):
    """The query kept to the actor's subtrees (``paths``, None: everywhere) and to ``unit``'s."""
    if paths is not None:
        query = query.where(or_(*[Unit.path.startswith(p) for p in paths]))
    if unit is not None:
        query = query.where(Unit.path.startswith(unit.path))
    return query


def shown_membership(member_id=Member.id):
    """For each member (correlated): the membership of today, else the latest one before
    today, else the first one ahead — the unit a member is listed and managed under.

    ``member_id`` is the column it is correlated with: ``Membership.member_id`` checks each
    membership read, where ``Member.id`` would be asked for every member (PostgreSQL then
    computed it for all 100,000 members of a province to list fifty)."""
    today = clock.today()
    m2 = aliased(Membership)
    return (
        select(m2.id)
        .where(m2.member_id == member_id)
        .order_by(case((m2.valid_from > today, 1), else_=0), m2.valid_from.desc())
        .limit(1)
        .correlate(member_id.table)
        .scalar_subquery()
    )


def get_managed(actor: Member, member_id: int) -> Member:
    member = db.session.get(Member, member_id)
    if member is None:
        raise ValidationError({"member": f"没有编号为 {member_id} 的党员"})
    require_manage(actor, member)
    return member


def require_manage(actor: Member, member: Member) -> None:
    if actor.is_admin:
        return
    if member.is_admin:
        raise access.Forbidden("只有管理员可以管理管理员账号")
    if member.id == actor.id:
        raise access.Forbidden("不能在这里修改自己的在册信息，请联系上级负责人")
    unit = org.current_unit(member)
    if unit is None or not access.leads_unit(actor, unit):
        raise access.Forbidden("只能管理本人所领导单位的党员")


def _target_unit(
    actor: Member, unit_id: int | None, errors: dict, from_day: date | None
) -> Unit | None:
    """The unit a member is put in from ``from_day`` on, for as long as nothing else is said."""
    unit = db.session.get(Unit, unit_id) if unit_id is not None else None
    if unit is None:
        errors["unit"] = "请选择单位" if unit_id is None else f"没有编号为 {unit_id} 的单位"
        return None
    if not access.leads_unit(actor, unit):
        raise access.Forbidden("只能把党员放到本人所领导的单位")
    if unit.retired_on is not None:
        # A membership stays open, so it would reach past the day the unit is retired.
        errors["unit"] = retired_conflict(unit.name, unit.retired_on, from_day or unit.retired_on)
        return None
    return unit


def _lock_from(day: date) -> PeriodLock | None:
    """A lock that a change taking effect on ``day`` would reach into."""
    return db.session.execute(
        select(PeriodLock).where(PeriodLock.end >= day).order_by(PeriodLock.start).limit(1)
    ).scalar_one_or_none()


def _check_lock(errors: dict, field: str, day: date) -> None:
    lock = _lock_from(day)
    if lock is not None and field not in errors:
        errors[field] = (
            f"{lock.start.isoformat()} 至 {lock.end.isoformat()} 已锁定，变动只能从锁定之后开始"
        )


def create(
    actor: Member,
    *,
    name: str,
    unit_id: int | None,
    active_from: date | None,
    login: str | None = None,
    retired: bool = False,
) -> Member:
    """A member on the roster, without a password: they activate their own account."""
    scope_paths(actor)
    with tx.write():
        errors: dict[str, str] = {}
        name = (name or "").strip()
        if not name or len(name) > MAX_NAME:
            errors["name"] = f"姓名应为 1–{MAX_NAME} 字"
        unit = _target_unit(actor, unit_id, errors, active_from)
        if active_from is None:
            errors["active_from"] = "请填写加入日期"
        else:
            _check_lock(errors, "active_from", active_from)
        login = (login or "").strip() or None
        if login is not None:
            if len(login) > MAX_LOGIN or any(ch.isspace() for ch in login):
                errors["login"] = f"账号最多 {MAX_LOGIN} 字，且不能有空格"
            elif db.session.execute(select(Member.id).where(Member.login == login)).first():
                errors["login"] = f"账号“{login}”已被使用"
        if errors:
            raise ValidationError(errors)
        assert unit is not None and active_from is not None
        member = org.add_member(
            name, unit, active_from, login=login, retired=retired, actor_id=actor.id
        )
    return member


def move(actor: Member, member_id: int, unit_id: int | None, from_day: date | None) -> None:
    member = get_managed(actor, member_id)
    errors: dict[str, str] = {}
    unit = _target_unit(actor, unit_id, errors, from_day)
    if from_day is None:
        errors["date"] = "请填写调动日期"
    else:
        _check_lock(errors, "date", from_day)
        last = db.session.execute(
            select(Membership)
            .where(Membership.member_id == member.id)
            .order_by(Membership.valid_from.desc())
            .limit(1)
        ).scalar_one_or_none()
        if last is not None and last.valid_from >= from_day and "date" not in errors:
            errors["date"] = f"调动日期应晚于上一次调动（{last.valid_from.isoformat()}）"
        elif last is not None and last.unit_id == unit_id and "unit" not in errors:
            errors["unit"] = "该党员已在这个单位"
    if errors:
        raise ValidationError(errors)
    assert unit is not None and from_day is not None
    try:
        org.move_member(member, unit, from_day, actor_id=actor.id)
    except org.OrgError as e:
        raise ValidationError({"date": str(e)}) from None


def set_leaving(actor: Member, member_id: int, last_day: date | None) -> None:
    """The last day the member counts (leaving, transfer out); ``None`` puts them back on."""
    member = get_managed(actor, member_id)
    errors: dict[str, str] = {}
    if last_day is not None and last_day < member.active_from:
        errors["active_to"] = f"离开日期不能早于加入日期（{member.active_from.isoformat()}）"
    changed = [d for d in (member.active_to, last_day) if d is not None]
    if changed:
        _check_lock(errors, "active_to", min(changed))
    if errors:
        raise ValidationError(errors)
    org.set_active_dates(member, member.active_from, last_day, actor_id=actor.id)


def reset_password(actor: Member, member_id: int) -> str:
    """A new one-time password, shown once; the member should change it after logging in."""
    member = get_managed(actor, member_id)
    if not member.login:
        raise ValidationError({"login": "该党员还没有账号，无法重置密码"})
    password = secrets.token_urlsafe(9)
    with tx.write():
        member = db.session.get(Member, member_id)
        member.password_hash = hash_password(password)
        audit.record(
            "member.password",
            "member",
            member.id,
            actor_id=actor.id,
            member_id=member.id,
            before={"has_password": True},
            after={"reset_by": actor.id},
        )
    return password


def issue_token(actor: Member, member_id: int) -> str:
    """A new API token for a member the actor manages; only its hash is kept."""
    return security.issue_token(get_managed(actor, member_id), actor_id=actor.id)


def history(member: Member) -> list[tuple[Membership, Unit]]:
    return list(
        db.session.execute(
            select(Membership, Unit)
            .join(Unit, Unit.id == Membership.unit_id)
            .where(Membership.member_id == member.id)
            .order_by(Membership.valid_from)
        ).all()
    )
