"""Onboarding: after a roster import, members activate their own accounts (SPEC §1).

A leader issues an invitation: a short code (checked together with the member's name as on
the roster) and a link. Both are stored only as keyed hashes, are single-use and expire.
The member chooses their own password; attempts are throttled like logins.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select

from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import Invitation, LoginFailure, Member, Membership, Unit
from tracker.security import TooManyAttempts, hash_password

from . import access, audit, clock, tx

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed on a phone
CODE_LENGTH = 8
MIN_PASSWORD = 8
MAX_PASSWORD = 200
THROTTLE_KEY = "#activate"  # failures are counted per address in the login failure table


class ActivationError(ValueError):
    """The code, link or name did not match an open invitation."""


@dataclass
class Issued:
    member: Member
    code: str  # shown once, e.g. "K7PM-3QXD"
    link_token: str
    expires_at: datetime


def _digest(secret: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_activated(member: Member) -> bool:
    return member.password_hash is not None


# Leaders ---------------------------------------------------------------------------------------


def _require_lead(actor: Member, member: Member) -> None:
    if actor.id == member.id or not access.can_manage_member(actor, member):
        raise access.Forbidden("只能为本人所领导单位的党员发放激活码")


def issue(actor: Member, member: Member) -> Issued:
    """A new code and link for a member who has not activated; earlier ones stop working."""
    _require_lead(actor, member)
    return issue_many(actor, [member])[0]


def issue_many(actor: Member, members: list[Member]) -> list[Issued]:
    for m in members:
        _require_lead(actor, m)
    errors = {}
    for m in members:
        if is_activated(m):
            errors[f"member_{m.id}"] = f"{m.name} 已激活账号"
        elif m.active_to is not None and m.active_to < clock.today():
            errors[f"member_{m.id}"] = f"{m.name} 已不在册"
    if errors:
        raise ValidationError(errors)
    actor_id = actor.id
    now = datetime.now(UTC)
    expires = now + timedelta(days=current_app.config["ACTIVATION_CODE_DAYS"])
    out = []
    with tx.write():
        ids = [m.id for m in members]
        for inv in _open_invitations(ids, now):
            inv.revoked_at = now
        for m in members:
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            link = secrets.token_urlsafe(24)
            db.session.add(
                Invitation(
                    member_id=m.id,
                    code_hash=_digest(code),
                    link_hash=_digest(link),
                    expires_at=expires,
                    created_by=actor_id,
                    created_at=now,
                )
            )
            audit.record(
                "invitation.issue",
                "member",
                m.id,
                actor_id=actor_id,
                member_id=m.id,
                after={"expires_at": expires.isoformat()},
            )
            out.append(Issued(m, f"{code[:4]}-{code[4:]}", link, expires))
    return out


def _open_invitations(member_ids: list[int], now: datetime) -> list[Invitation]:
    if not member_ids:
        return []
    return list(
        db.session.execute(
            select(Invitation).where(
                Invitation.member_id.in_(member_ids),
                Invitation.used_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
        ).scalars()
    )


@dataclass
class Pending:
    member: Member
    unit: Unit
    expires_at: datetime | None  # of the open invitation, if any

    @property
    def status(self) -> str:
        return "已发放激活码" if self.expires_at else "未发放或已过期"


def pending(actor: Member, unit: Unit) -> list[Pending]:
    """Members of ``unit``'s subtree (today) who have not activated their accounts yet."""
    if not access.leads_unit(actor, unit):
        raise access.Forbidden("只能查看本人所领导单位的党员")
    today = clock.today()
    rows = db.session.execute(
        select(Member, Unit)
        .join(Membership, Membership.member_id == Member.id)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(
            Unit.path.startswith(unit.path),
            Member.password_hash.is_(None),
            Membership.valid_from <= today,
            or_(Membership.valid_to.is_(None), Membership.valid_to >= today),
            or_(Member.active_to.is_(None), Member.active_to >= today),
        )
        .order_by(Unit.path, Member.name, Member.id)
    ).all()
    now = datetime.now(UTC)
    expiry = {
        inv.member_id: _aware(inv.expires_at)
        for inv in _open_invitations([m.id for m, _ in rows], now)
    }
    return [Pending(m, u, expiry.get(m.id)) for m, u in rows]


def members_by_id(actor: Member, ids: list[int]) -> list[Member]:
    if any(not 0 < i <= 2**31 - 1 for i in ids):
        raise ValidationError({"member_ids": "党员编号无效"})
    members = list(db.session.execute(select(Member).where(Member.id.in_(ids))).scalars())
    missing = set(ids) - {m.id for m in members}
    if missing:
        raise ValidationError({"member_ids": f"没有编号为 {sorted(missing)} 的党员"})
    return members


# Members ---------------------------------------------------------------------------------------


def invitation_for_link(token: str) -> Invitation | None:
    """The open invitation of a link, for greeting the member by name before they activate."""
    inv = db.session.execute(
        select(Invitation).where(Invitation.link_hash == _digest(token))
    ).scalar_one_or_none()
    if inv is None or not _is_open(inv):
        return None
    return inv


def _is_open(inv: Invitation) -> bool:
    return (
        inv.used_at is None
        and inv.revoked_at is None
        and _aware(inv.expires_at) > datetime.now(UTC)
    )


def activate(
    *,
    address: str,
    password: str,
    confirm: str,
    name: str = "",
    code: str = "",
    link: str = "",
    login: str = "",
) -> Member:
    """Check the invitation and set the member's own password (and login, when they have none).

    Raises ``TooManyAttempts``, ``ActivationError`` (counted as a failed attempt) or
    ``ValidationError`` for a password or login that cannot be used (not counted).
    """
    cfg = current_app.config
    since = datetime.now(UTC) - timedelta(minutes=cfg["LOGIN_FAILURE_WINDOW_MINUTES"])
    failures = db.session.execute(
        select(func.count())
        .select_from(LoginFailure)
        .where(
            LoginFailure.login == THROTTLE_KEY,
            LoginFailure.address == address[:64],
            LoginFailure.at >= since,
        )
    ).scalar_one()
    if failures >= cfg["LOGIN_MAX_FAILURES"]:
        raise TooManyAttempts()
    with tx.write():
        if link:
            query = select(Invitation).where(Invitation.link_hash == _digest(link))
        else:
            query = select(Invitation).where(Invitation.code_hash == _digest(normalise_code(code)))
        if tx.is_postgres():
            query = query.with_for_update()
        inv = db.session.execute(query).scalar_one_or_none()
        member = db.session.get(Member, inv.member_id) if inv else None
        matches = (
            inv is not None
            and member is not None
            and _is_open(inv)
            and not is_activated(member)
            and (link or _same_name(member.name, name))
        )
    if not matches:
        with tx.write():
            db.session.add(
                LoginFailure(login=THROTTLE_KEY, address=address[:64], at=datetime.now(UTC))
            )
        raise ActivationError(
            "姓名或激活码不正确，或激活码已失效。请核对，或请党支部负责人重新发放。"
        )
    assert inv is not None and member is not None
    errors = {}
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        errors["password"] = f"密码长度应为 {MIN_PASSWORD}–{MAX_PASSWORD} 个字符"
    elif password != confirm:
        errors["confirm"] = "两次输入的密码不一致"
    login = (login or "").strip()
    if member.login is None and (not login or len(login) > 60 or any(ch.isspace() for ch in login)):
        errors["login"] = "请设置账号：1–60 个字符，不含空格"
    if errors:
        raise ValidationError(errors)
    password_hash = hash_password(password)
    with tx.write():
        inv = db.session.get(Invitation, inv.id, with_for_update=tx.is_postgres())
        member = db.session.get(Member, member.id)
        assert inv is not None and member is not None
        if not _is_open(inv) or is_activated(member):  # used by a concurrent request
            raise ActivationError("该激活码已被使用。")
        if member.login is None:
            if db.session.execute(select(Member.id).where(Member.login == login)).first():
                raise ValidationError({"login": f"账号“{login}”已被使用，请换一个"})
            member.login = login
        member.password_hash = password_hash
        inv.used_at = datetime.now(UTC)
        db.session.execute(
            delete(LoginFailure).where(
                LoginFailure.login == THROTTLE_KEY, LoginFailure.address == address[:64]
            )
        )
        audit.record(
            "member.activate",
            "member",
            member.id,
            actor_id=member.id,
            member_id=member.id,
            after={"login": member.login, "via": "link" if link else "code"},
        )
    return member


def _same_name(roster: str, given: str) -> bool:
    return "".join(roster.split()) == "".join((given or "").split())
