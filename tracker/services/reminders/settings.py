"""What members and admins set: reminder preferences, unit channels, message templates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial

from flask import current_app
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Member
from tracker.models.reminders import ReminderChannel, ReminderPrefs, ReminderTemplate
from tracker.reminders import channels, policy, templates
from tracker.services import audit, tx


class SettingsError(ValueError):
    """A setting that cannot be saved, with the reason in Chinese."""


def prefs_of(member: Member) -> ReminderPrefs:
    """The member's preferences, or the defaults (not stored until changed)."""
    return db.session.get(ReminderPrefs, member.id) or ReminderPrefs(
        member_id=member.id, nudge_opt_out=False, nudge_time=None, channel="inapp"
    )


def _prefs_dict(p: ReminderPrefs) -> dict:
    return {
        "nudge_opt_out": bool(p.nudge_opt_out),
        "nudge_time": p.nudge_time,
        "channel": p.channel,
        "email": p.email,
        "leave_from": p.leave_from.isoformat() if p.leave_from else None,
        "leave_to": p.leave_to.isoformat() if p.leave_to else None,
    }


def save_prefs(
    actor: Member,
    member: Member,
    *,
    opt_out: bool,
    nudge_time: str | None,
    channel: str,
    email: str | None,
    leave_from: date | None,
    leave_to: date | None,
) -> ReminderPrefs:
    quiet = policy.QuietHours.parse(current_app.config["QUIET_HOURS"])
    if nudge_time:
        try:
            nudge_time = policy.check_nudge_time(nudge_time, quiet).strftime("%H:%M")
        except ValueError as e:
            raise SettingsError(str(e)) from e
    if channel not in ("inapp", "email"):
        raise SettingsError("提醒方式只能是站内通知或电子邮件")
    email = (email or "").strip() or None
    if channel == "email" and (not email or "@" not in email):
        raise SettingsError("选择电子邮件时请填写有效的邮箱地址")
    if leave_to and not leave_from:
        raise SettingsError("请填写请假开始日期")
    if leave_from and leave_to and leave_to < leave_from:
        raise SettingsError("请假结束日期不能早于开始日期")
    with tx.write():
        row = db.session.get(ReminderPrefs, member.id)
        before = _prefs_dict(row) if row else None
        if row is None:
            row = ReminderPrefs(member_id=member.id)
            db.session.add(row)
        row.nudge_opt_out = opt_out
        row.nudge_time = nudge_time or None
        row.channel = channel
        row.email = email
        row.leave_from, row.leave_to = leave_from, leave_to
        audit.record(
            "reminder.prefs",
            "reminder_prefs",
            member.id,
            actor_id=actor.id,
            member_id=member.id,
            before=before,
            after=_prefs_dict(row),
        )
    return row


# Templates ----------------------------------------------------------------------------------


@dataclass
class TemplateText:
    key: str
    label: str
    title: str
    body: str
    customised: bool
    variables: dict[str, str]


def template(key: str) -> TemplateText:
    default = templates.DEFAULTS[key]
    row = db.session.get(ReminderTemplate, key)
    return TemplateText(
        key,
        default.label,
        row.title if row else default.title,
        row.body if row else default.body,
        row is not None,
        default.variables,
    )


def renderer(key: str) -> Callable[[dict], tuple[str, str]]:
    """Title and body from variables, with the template read once (a run renders many)."""
    t = template(key)
    return partial(templates.render, t.title, t.body)


def save_template(actor: Member, key: str, title: str, body: str) -> None:
    """Store an admin's template; one that does not render with the sample values is refused."""
    if key not in templates.DEFAULTS:
        raise SettingsError("没有这个模板")
    try:
        templates.check(title, body, key)
    except templates.TemplateProblem as e:
        raise SettingsError(str(e)) from e
    with tx.write():
        row = db.session.get(ReminderTemplate, key)
        before = {"title": row.title, "body": row.body} if row else None
        if row is None:
            row = ReminderTemplate(key=key, title=title, body=body, updated_at=datetime.now(UTC))
            db.session.add(row)
        row.title, row.body = title, body
        row.updated_at, row.updated_by = datetime.now(UTC), actor.id
        audit.record(
            "reminder.template",
            "reminder_template",
            key,
            actor_id=actor.id,
            before=before,
            after={"title": title, "body": body},
        )


def reset_template(actor: Member, key: str) -> None:
    with tx.write():
        row = db.session.get(ReminderTemplate, key)
        if row is not None:
            audit.record(
                "reminder.template",
                "reminder_template",
                key,
                actor_id=actor.id,
                before={"title": row.title, "body": row.body},
                after=None,
            )
            db.session.delete(row)


# Channels -----------------------------------------------------------------------------------


def channels_list() -> list[ReminderChannel]:
    return list(db.session.execute(select(ReminderChannel).order_by(ReminderChannel.id)).scalars())


def _channel_dict(c: ReminderChannel) -> dict:
    # The signing secret is never written to the audit log.
    return {
        "unit_id": c.unit_id,
        "kind": c.kind,
        "name": c.name,
        "url": c.url,
        "address": c.address,
        "enabled": bool(c.enabled),
        "has_secret": bool(c.secret),
    }


def save_channel(
    actor: Member | None,
    *,
    channel_id: int | None = None,
    unit_id: int | None,
    kind: str,
    name: str,
    url: str = "",
    secret: str | None = None,
    address: str = "",
    enabled: bool = True,
) -> ReminderChannel:
    """Add or change a unit's channel; an empty ``secret`` on a change keeps the old one."""
    if kind not in channels.KINDS or kind == "inapp":
        raise SettingsError("渠道类型只能是企业微信、钉钉、飞书机器人或电子邮件")
    name = name.strip()
    if not name:
        raise SettingsError("请填写渠道名称")
    if kind in channels.ROBOTS and not url.startswith(("https://", "http://")):
        raise SettingsError("请填写机器人的 Webhook 地址（https://…）")
    if kind == "email" and "@" not in address:
        raise SettingsError("请填写有效的邮箱地址")
    with tx.write():
        row = db.session.get(ReminderChannel, channel_id) if channel_id else None
        before = _channel_dict(row) if row else None
        if row is None:
            row = ReminderChannel(secret="")
            db.session.add(row)
        row.unit_id, row.kind, row.name = unit_id, kind, name
        row.url, row.address, row.enabled = url.strip(), address.strip(), enabled
        if secret:
            row.secret = secret.strip()
        db.session.flush()
        audit.record(
            "reminder.channel",
            "reminder_channel",
            row.id,
            actor_id=actor.id if actor else None,
            before=before,
            after=_channel_dict(row),
        )
    return row
