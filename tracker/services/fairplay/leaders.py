"""What leaders see of fair-play flags, and marking one reviewed (audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from tracker.domain import fairplay as domain
from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import FairPlayFlag, Member, Membership, Unit
from tracker.services import access, audit, clock, org, tx

from .checks import aware

MAX_NOTE = 200


@dataclass
class FlagView:
    flag: FairPlayFlag
    member_name: str
    unit_name: str

    @property
    def label(self) -> str:
        return domain.LABELS_ZH.get(self.flag.kind, self.flag.kind)

    def as_dict(self) -> dict:
        f = self.flag
        return {
            "id": f.id,
            "member_id": f.member_id,
            "member": self.member_name,
            "unit": self.unit_name,
            "kind": f.kind,
            "label": self.label,
            "date": f.day.isoformat(),
            "detail": f.detail,
            "created_at": aware(f.created_at).isoformat(),
            "reviewed": f.reviewed_at is not None,
            "reviewed_at": aware(f.reviewed_at).isoformat() if f.reviewed_at else None,
            "reviewed_by": f.reviewed_by,
            "review_note": f.review_note,
        }


def visible(actor: Member, unit: Unit, status: str = "open") -> list[FlagView]:
    """Flags of members belonging today to ``unit``'s subtree; never the viewer's own."""
    if not access.leads_unit(actor, unit):
        raise access.Forbidden("只有本单位的负责人可以查看提示")
    if status not in ("open", "reviewed", "all"):
        raise ValidationError({"status": "状态只能是 open、reviewed 或 all"})
    today = clock.today()
    query = (
        select(FairPlayFlag, Member.name, Unit.name)
        .join(Member, Member.id == FairPlayFlag.member_id)
        .join(Membership, Membership.member_id == Member.id)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(*org.belongs(unit, today))
        .order_by(FairPlayFlag.day.desc(), FairPlayFlag.id.desc())
    )
    if not actor.is_admin:
        query = query.where(FairPlayFlag.member_id != actor.id)
    if status == "open":
        query = query.where(FairPlayFlag.reviewed_at.is_(None))
    elif status == "reviewed":
        query = query.where(FairPlayFlag.reviewed_at.is_not(None))
    return [FlagView(f, m, u) for f, m, u in db.session.execute(query.limit(500))]


def can_see(actor: Member, flag: FairPlayFlag) -> bool:
    if actor.is_admin:
        return True
    if flag.member_id == actor.id:
        return False
    member = db.session.get(Member, flag.member_id)
    return member is not None and access.can_manage_member(actor, member)


def review(actor: Member, flag_id: int, note: str = "") -> FairPlayFlag:
    """A leader of the member's subtree has looked at the flag (audited)."""
    flag = db.session.get(FairPlayFlag, flag_id) if 0 < flag_id <= 2**31 - 1 else None
    if flag is None:
        raise ValidationError({"flag": f"没有编号为 {flag_id} 的提示"})
    if not can_see(actor, flag):
        raise access.Forbidden("只能处理本人所领导单位党员的提示")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise ValidationError({"note": f"说明最多 {MAX_NOTE} 字"})
    actor_id = actor.id
    with tx.write():
        flag = db.session.get(FairPlayFlag, flag_id)
        assert flag is not None
        if flag.reviewed_at is not None:
            raise ValidationError({"flag": "这条提示已经核实过了"})
        flag.reviewed_at = datetime.now(UTC)
        flag.reviewed_by = actor_id
        flag.review_note = note.strip()
        audit.record(
            "flag.review",
            "fair_play_flag",
            flag.id,
            actor_id=actor_id,
            member_id=flag.member_id,
            before={"kind": flag.kind, "date": flag.day.isoformat(), "reviewed": False},
            after={"reviewed": True, "note": flag.review_note},
        )
    return flag
