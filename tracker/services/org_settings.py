"""Privacy and humane settings (SPEC §9), stored in the database; config values are defaults.

Members keep their own records whatever is switched off: these settings change what others
see and what the organisation asks of members, never a member's access to their own data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select

from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import Member, OrgSetting, PrivacyPrefs

from . import access, audit, driver, tx


@dataclass(frozen=True)
class Setting:
    key: str
    label: str
    hint: str
    default: Callable[[dict], bool]


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting(
            "hide_below_target",
            "对其他党员隐藏未达标者的姓名",
            "开启时，未达到目标的党员姓名只有其所在单位的负责人能看到。",
            lambda cfg: not cfg["SHOW_BELOW_TARGET_TO_MEMBERS"],
        ),
        Setting(
            "evidence_enabled",
            "允许上传积分截图",
            "默认关闭：不要求党员截图留证。开启后截图仍是自愿的。",
            lambda cfg: cfg["EVIDENCE_ENABLED"],
        ),
        Setting(
            "unit_rankings_enabled",
            "单位排名",
            "关闭后不再显示单位榜，党员仍可记录和查看自己的学习。",
            lambda cfg: cfg["UNIT_RANKINGS_ENABLED"],
        ),
        Setting(
            "weekly_bulletin_enabled",
            "每周通报",
            "关闭后不再发送每周通报，其他提醒不受影响。",
            lambda cfg: cfg["WEEKLY_BULLETIN_ENABLED"],
        ),
    )
}

ANONYMOUS_NAME = "匿名党员"


def value(key: str) -> bool:
    """The organisation's choice for ``key``, else the configured default."""
    return value_from(driver.query(*value_statement(key)), key)


def value_statement(key: str) -> tuple[str, list]:
    """The statement ``value`` runs, for a caller that runs it beside others."""
    return "SELECT value FROM org_setting WHERE key = ?", [key]


def value_from(rows: list[tuple], key: str) -> bool:
    return bool(driver.as_json(rows[0][0])) if rows else SETTINGS[key].default(current_app.config)


def values() -> dict[str, bool]:
    stored = {r.key: r.value for r in db.session.execute(select(OrgSetting)).scalars()}
    return {
        key: bool(stored[key]) if key in stored else s.default(current_app.config)
        for key, s in SETTINGS.items()
    }


def save(actor: Member, changes: dict) -> dict[str, bool]:
    """Change some settings (admins only); every change is audited with before and after."""
    if not actor.is_admin:
        raise access.Forbidden("只有管理员可以修改组织设置")
    if not isinstance(changes, dict) or not changes:
        raise ValidationError({"settings": "请至少提交一项设置"})
    errors = {}
    for key, new in changes.items():
        if key not in SETTINGS:
            errors[key] = "没有这项设置"
        elif not isinstance(new, bool):
            errors[key] = "应为 true 或 false"
    if errors:
        raise ValidationError(errors)
    actor_id = actor.id
    with tx.write():
        before = values()
        for key, new in changes.items():
            if before[key] == new:
                continue
            row = db.session.get(OrgSetting, key)
            if row is None:
                row = OrgSetting(key=key, value=new)
                db.session.add(row)
            row.value, row.updated_at, row.updated_by = new, datetime.now(UTC), actor_id
            audit.record(
                "settings.update",
                "org_setting",
                key,
                actor_id=actor_id,
                before={key: before[key]},
                after={key: new},
            )
    return values()


# A member's own choice ------------------------------------------------------------------------


def is_anonymous(member_id: int) -> bool:
    row = db.session.get(PrivacyPrefs, member_id)
    return bool(row and row.anonymous_on_boards)


def anonymous_among(member_ids: Iterable[int]) -> set[int]:
    ids = list(set(member_ids))
    if not ids:
        return set()
    return anonymous_from(driver.query(*anonymous_statement(ids)))


def anonymous_statement(member_ids: list[int]) -> tuple[str, list]:
    """The statement ``anonymous_among`` runs, for a caller that runs it beside others."""
    members, ids = driver.one_of("member_id", member_ids)
    return f"SELECT member_id FROM privacy_prefs WHERE {members} AND anonymous_on_boards", ids


def anonymous_from(rows: list[tuple]) -> set[int]:
    return {member_id for (member_id,) in rows}


def set_anonymous(actor: Member, member: Member, anonymous: bool) -> None:
    """Only the member decides how other members see them."""
    if actor.id != member.id:
        raise access.Forbidden("只有党员本人可以修改这项选择")
    if not isinstance(anonymous, bool):
        raise ValidationError({"anonymous": "应为 true 或 false"})
    with tx.write():
        row = db.session.get(PrivacyPrefs, member.id)
        before = bool(row and row.anonymous_on_boards)
        if before == anonymous:
            return
        if row is None:
            row = PrivacyPrefs(member_id=member.id, anonymous_on_boards=anonymous)
            db.session.add(row)
        row.anonymous_on_boards = anonymous
        audit.record(
            "privacy.prefs",
            "privacy_prefs",
            member.id,
            actor_id=actor.id,
            member_id=member.id,
            before={"anonymous_on_boards": before},
            after={"anonymous_on_boards": anonymous},
        )
