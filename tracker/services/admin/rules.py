"""Editing rule versions: start a new version from a date as a copy of the one in force, edit
the caps and weekdays of a version no report has used yet, delete a version before it takes
effect. Admins only, audited."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.domain import rules as domain
from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import DailyReport, Member, RuleVersion
from tracker.services import access, audit, clock, tx
from tracker.services import rules as rule_service

MAX_CAP = 1000
MAX_NAME = 120


def all_versions() -> list[RuleVersion]:
    return list(
        db.session.execute(
            select(RuleVersion)
            .options(selectinload(RuleVersion.categories))
            .order_by(RuleVersion.valid_from)
        ).scalars()
    )


def get(version_id: int) -> RuleVersion:
    row = db.session.get(RuleVersion, version_id)
    if row is None:
        raise ValidationError({"version": f"没有编号为 {version_id} 的规则版本"})
    return row


def next_start(row: RuleVersion) -> date | None:
    return db.session.execute(
        select(RuleVersion.valid_from)
        .where(RuleVersion.valid_from > row.valid_from)
        .order_by(RuleVersion.valid_from)
        .limit(1)
    ).scalar_one_or_none()


def used(row: RuleVersion) -> bool:
    """Whether any report falls in the days this version governs (then it cannot be edited)."""
    query = select(DailyReport.id).where(DailyReport.day >= row.valid_from)
    end = next_start(row)
    if end is not None:
        query = query.where(DailyReport.day < end)
    return db.session.execute(query.limit(1)).first() is not None


def editable(row: RuleVersion) -> bool:
    return row.valid_from > clock.today() or not used(row)


def _require_admin(actor: Member) -> None:
    if not actor.is_admin:
        raise access.Forbidden("只有管理员可以修改积分规则")


def start_version(actor: Member, valid_from: date | None, name: str = "") -> RuleVersion:
    """A new version from ``valid_from``, copying the version that would otherwise be in force."""
    _require_admin(actor)
    with tx.write():
        errors: dict[str, str] = {}
        name = (name or "").strip()
        if len(name) > MAX_NAME:
            errors["name"] = f"名称最多 {MAX_NAME} 字"
        if valid_from is None:
            errors["valid_from"] = "请填写生效日期"
            raise ValidationError(errors)
        base = rule_service.version_for(valid_from)
        if base is None:
            errors["valid_from"] = "该日期之前没有规则版本可复制"
        elif base.valid_from == valid_from:
            errors["valid_from"] = f"{valid_from.isoformat()} 已有一个规则版本"
        elif valid_from <= clock.today():
            reported = db.session.execute(
                select(DailyReport.id).where(DailyReport.day >= valid_from).limit(1)
            ).first()
            if reported is not None:
                errors["valid_from"] = "该日期起已有填报，新版本只能从以后的日期开始"
        if errors:
            raise ValidationError(errors)
        assert base is not None
        copy = replace(
            base, valid_from=valid_from, name=name or f"{valid_from.isoformat()} 起", id=None
        )
        return rule_service.add_version(copy, actor_id=actor.id)


def update_categories(actor: Member, version_id: int, changes: dict[str, dict]) -> RuleVersion:
    """``changes``: ``{code: {"daily_cap": 5, "weekly_cap": None, "weekdays": [1, 4]}}``.

    Weekdays are ISO numbers (1 = Monday). A category with no weekdays never counts.
    """
    _require_admin(actor)
    with tx.write():
        row = get(version_id)
        if not editable(row):
            raise ValidationError(
                {"version": "该版本已有填报使用，不能修改；请从以后的日期开始一个新版本"}
            )
        by_code = {c.code: c for c in row.categories}
        errors: dict[str, str] = {}
        parsed: dict[str, tuple[int, int | None, int]] = {}
        for code, change in changes.items():
            category = by_code.get(code)
            if category is None:
                errors[code] = f"该版本没有“{code}”类别"
                continue
            daily = _cap(change.get("daily_cap", category.daily_cap), False)
            weekly = _cap(change.get("weekly_cap", category.weekly_cap), True)
            if daily is None or isinstance(daily, str):
                errors[f"{code}.daily_cap"] = f"每日上限应为 0–{MAX_CAP} 的整数"
            if isinstance(weekly, str):
                errors[f"{code}.weekly_cap"] = f"每周上限应为 1–{MAX_CAP} 的整数，或留空"
            mask = _weekdays(change.get("weekdays"), category.weekdays)
            if mask is None:
                errors[f"{code}.weekdays"] = "星期应为 1–7（1 为周一）"
            if f"{code}.daily_cap" not in errors and f"{code}.weekly_cap" not in errors:
                parsed[code] = (daily, weekly, mask if mask is not None else 0)  # type: ignore[assignment]
        if errors:
            raise ValidationError(errors)
        before = rule_service.version_dict(row.to_domain())
        for code, (daily, weekly, mask) in parsed.items():
            category = by_code[code]
            category.daily_cap = daily
            category.weekly_cap = weekly
            category.weekdays = mask
        db.session.flush()
        audit.record(
            "rules.update",
            "rule_version",
            row.id,
            actor_id=actor.id,
            before=before,
            after=rule_service.version_dict(row.to_domain()),
        )
    return row


def deletable(row: RuleVersion) -> bool:
    return row.valid_from > clock.today() and not used(row)


def delete_version(actor: Member, version_id: int) -> None:
    """Delete a version that has not taken effect and that no report uses; the version
    before it then stays in force until the next one."""
    _require_admin(actor)
    with tx.write():
        row = get(version_id)
        if row.valid_from <= clock.today():
            raise ValidationError(
                {
                    "version": f"该版本已于 {row.valid_from.isoformat()} 生效，不能删除；"
                    "如需改变规则，请从以后的日期开始一个新版本"
                }
            )
        if used(row):
            raise ValidationError(
                {"version": "该版本已有填报使用，不能删除；如需改变规则，请开始一个新版本"}
            )
        before = rule_service.version_dict(row.to_domain())
        db.session.delete(row)
        db.session.flush()
        audit.record("rules.delete", "rule_version", version_id, actor_id=actor.id, before=before)


def _cap(value, optional: bool) -> int | str | None:
    """An int, ``None`` for an empty optional cap, or ``"bad"``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None if optional else "bad"
    if isinstance(value, bool):
        return "bad"
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            return "bad"
        value = int(value)
    if not isinstance(value, int):
        return "bad"
    low = 1 if optional else 0
    return value if low <= value <= MAX_CAP else "bad"


def _weekdays(value, current: int) -> int | None:
    if value is None:
        return current
    if value == "all":
        return domain.ALL_DAYS
    if not isinstance(value, list | tuple):
        return None
    try:
        days = [int(v) for v in value]
    except (TypeError, ValueError):
        return None
    if any(isinstance(v, bool) for v in value) or not all(1 <= d <= 7 for d in days):
        return None
    return domain.weekdays_from_names(days) if days else 0
