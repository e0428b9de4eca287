"""Kinds of activity and the points each attendee earns: data, not code.

The defaults come from ``seeds/activity_kinds.json``; once an admin changes a kind's points
the kinds are stored in the database. Activities keep the points of their kind at the time
they were recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import ActivityKind, Member

from . import access, audit, tx
from .seed import SEEDS

KINDS_FILE = SEEDS / "activity_kinds.json"
MAX_POINTS = 100


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    points: int
    monthly_for: tuple[str, ...] = ()


def default_kinds() -> list[Kind]:
    data = json.loads(KINDS_FILE.read_text(encoding="utf-8"))
    return [
        Kind(k["code"], k["label"], int(k.get("points", 0)), tuple(k.get("monthly_for", ())))
        for k in data["kinds"]
    ]


def kinds() -> list[Kind]:
    """The organisation's kinds: the stored ones once an admin edited any, else the defaults."""
    rows = list(
        db.session.execute(
            select(ActivityKind).order_by(ActivityKind.position, ActivityKind.code)
        ).scalars()
    )
    if not rows:
        return default_kinds()
    return [
        Kind(r.code, r.label, r.points, tuple(x for x in r.monthly_for.split(",") if x))
        for r in rows
    ]


def kind(code: str) -> Kind | None:
    return next((k for k in kinds() if k.code == code), None)


def store_defaults() -> None:
    """Inside a write: keep the defaults as rows so they can be edited."""
    if db.session.execute(select(ActivityKind.code).limit(1)).first() is not None:
        return
    for position, k in enumerate(default_kinds()):
        db.session.add(
            ActivityKind(
                code=k.code,
                label=k.label,
                points=k.points,
                monthly_for=",".join(k.monthly_for),
                position=position,
            )
        )
    db.session.flush()


def set_kind_points(actor: Member, code: str, points: object) -> Kind:
    """An admin changes the points a kind awards from now on (recorded activities keep theirs)."""
    if not actor.is_admin:
        raise access.Forbidden("只有管理员可以修改活动积分规则")
    if isinstance(points, bool) or not isinstance(points, int) or not 0 <= points <= MAX_POINTS:
        raise ValidationError({"points": f"分值应为 0–{MAX_POINTS} 的整数"})
    actor_id = actor.id
    with tx.write():
        store_defaults()
        row = db.session.get(ActivityKind, code)
        if row is None:
            raise ValidationError({"kind": f"没有“{code}”这种活动"})
        before = row.points
        row.points = points
        audit.record(
            "activity_kind.update",
            "activity_kind",
            code,
            actor_id=actor_id,
            before={"points": before},
            after={"points": points},
        )
    result = kind(code)
    assert result is not None
    return result
