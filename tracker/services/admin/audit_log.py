"""Reading the audit log: filter by member, unit, actor, kind and date; newest first, by page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import String, and_, cast, or_, select

from tracker.extensions import db
from tracker.models import AuditEntry, LeaderRole, Member, Membership, Unit
from tracker.services import access

from .members import shown_membership

PAGE = 50
# Kinds are the first part of an action: "member.move" is of kind "member".
KIND_LABELS = {
    "report": "填报",
    "adjustment": "奖励与扣减",
    "member": "党员",
    "unit": "单位",
    "rules": "积分规则",
    "lock": "时段锁定",
    "import": "导入",
    "review": "季度讲评",
    "reminder": "提醒",
    "delivery": "消息发送",
    "rollups": "排名汇总",
    "invitation": "邀请激活",
    "flag": "填报提示",
}
# What leaders see of their subtrees: never rules, locks, imports, settings, nor a member's
# own privacy and reminder choices.
LEADER_KINDS = ("report", "adjustment", "member", "unit", "review", "invitation", "flag")


@dataclass
class Filters:
    member_id: int | None = None
    unit_id: int | None = None
    actor_id: int | None = None
    kind: str | None = None
    start: date | None = None
    end: date | None = None


@dataclass
class Row:
    entry: AuditEntry
    actor: str
    member: str

    def as_dict(self) -> dict:
        e = self.entry
        return {
            "id": e.id,
            "at": e.at.isoformat(),
            "actor": {"id": e.actor_id, "name": self.actor} if e.actor_id else None,
            "action": e.action,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "member": {"id": e.member_id, "name": self.member} if e.member_id else None,
            "before": e.before,
            "after": e.after,
        }


def require_viewer(actor: Member) -> list[str] | None:
    """The subtrees whose entries the actor sees; ``None`` means every entry (admins)."""
    if actor.is_admin:
        return None
    paths = access.led_paths(actor)
    if not paths:
        raise access.Forbidden("只有管理员或单位负责人可以查看审计日志")
    return paths


def _in_paths(paths: list[str]):
    """Entries about the members a leader manages (by their unit today, else their last
    unit) and about the units of the subtrees they lead, of the kinds leaders see."""
    members = members_under(paths)
    units = select(cast(Unit.id, String)).where(or_(*[Unit.path.startswith(p) for p in paths]))
    return and_(
        or_(*[AuditEntry.action.startswith(k + ".") for k in LEADER_KINDS]),
        or_(
            AuditEntry.member_id.in_(members),
            and_(AuditEntry.entity == "unit", AuditEntry.entity_id.in_(units)),
        ),
    )


def kinds_for(actor: Member) -> dict[str, str]:
    """The kinds a viewer can filter by."""
    if actor.is_admin:
        return KIND_LABELS
    return {k: v for k, v in KIND_LABELS.items() if k in LEADER_KINDS}


def actors(viewer: Member) -> list[tuple[int, str]]:
    """Whom a viewer can filter by as the actor: admins, and for a leader also the leaders
    of the subtrees they lead."""
    paths = require_viewer(viewer)
    who = Member.is_admin.is_(True)
    if paths is not None:
        leading = (
            select(LeaderRole.member_id)
            .join(Unit, Unit.id == LeaderRole.unit_id)
            .where(or_(*[Unit.path.startswith(p) for p in paths]))
        )
        who = or_(who, Member.id.in_(leading))
    return [
        (i, name)
        for i, name in db.session.execute(
            select(Member.id, Member.name).where(who).order_by(Member.name)
        )
    ]


def members_under(paths: list[str]):
    """A select of the ids of members whose current (else last) unit lies under ``paths``."""
    return (
        select(Member.id)
        .join(Membership, Membership.id == shown_membership())
        .join(Unit, Unit.id == Membership.unit_id)
        .where(or_(*[Unit.path.startswith(p) for p in paths]))
    )


def search(actor: Member, filters: Filters, page: int = 1) -> tuple[list[Row], bool]:
    """One page of entries and whether there is another."""
    paths = require_viewer(actor)
    query = select(AuditEntry)
    if paths is not None:
        query = query.where(_in_paths(paths))
    if filters.member_id is not None:
        query = query.where(AuditEntry.member_id == filters.member_id)
    if filters.actor_id is not None:
        query = query.where(AuditEntry.actor_id == filters.actor_id)
    if filters.kind:
        query = query.where(
            or_(AuditEntry.action == filters.kind, AuditEntry.action.startswith(filters.kind + "."))
        )
    if filters.unit_id is not None:
        unit = db.session.get(Unit, filters.unit_id)
        path = unit.path if unit else "/none/"
        in_subtree = select(Unit.id).where(Unit.path.startswith(path))
        members = (
            select(Membership.member_id)
            .join(Unit, Unit.id == Membership.unit_id)
            .where(Unit.path.startswith(path))
        )
        query = query.where(
            or_(
                AuditEntry.member_id.in_(members),
                and_(
                    AuditEntry.entity == "unit",
                    AuditEntry.entity_id.in_(
                        select(cast(Unit.id, String)).where(Unit.id.in_(in_subtree))
                    ),
                ),
            )
        )
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    if filters.start is not None:
        query = query.where(AuditEntry.at >= datetime.combine(filters.start, time(), zone))
    if filters.end is not None:
        query = query.where(
            AuditEntry.at < datetime.combine(filters.end + timedelta(days=1), time(), zone)
        )
    page = max(page, 1)
    entries = list(
        db.session.execute(
            query.order_by(AuditEntry.id.desc()).limit(PAGE + 1).offset((page - 1) * PAGE)
        ).scalars()
    )
    more = len(entries) > PAGE
    entries = entries[:PAGE]
    ids = {e.actor_id for e in entries} | {e.member_id for e in entries}
    ids.discard(None)
    names = dict(db.session.execute(select(Member.id, Member.name).where(Member.id.in_(ids))).all())
    return [
        Row(
            e,
            names.get(e.actor_id, "系统" if e.actor_id is None else ""),
            names.get(e.member_id, ""),
        )
        for e in entries
    ], more
