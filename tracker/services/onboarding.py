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
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, insert, or_, select, update

from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import Invitation, LoginFailure, Member, Membership, Unit
from tracker.security import TooManyAttempts, hash_password

from . import access, audit, clock, driver, org, tx

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed on a phone
CODE_LENGTH = 8
MIN_PASSWORD = 8
MAX_PASSWORD = 200
PAGE = 200  # members on a page of those who have not activated
THROTTLE_KEY = "#activate"  # failures are counted per address in the login failure table


class ActivationError(ValueError):
    """The code, link or name did not match an open invitation."""


@dataclass
class Issued:
    member_id: int  # and the name, read before the write: its commit expires the members
    name: str
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


def _require_lead(actor: Member, members: list[Member]) -> None:
    """Leaders issue codes to the members of their subtrees (by each member's unit today, else
    their latest unit), admins to anyone; nobody to themselves."""
    forbidden = access.Forbidden("只能为本人所领导单位的党员发放激活码")
    if any(m.id == actor.id for m in members):
        raise forbidden
    if actor.is_admin:
        return
    led = access.led_paths(actor)
    today = clock.today()
    for chunk in driver.chunks([m.id for m in members]):
        shown: dict[int, tuple[bool, date, str]] = {}
        for member_id, valid_from, valid_to, path in db.session.execute(
            select(Membership.member_id, Membership.valid_from, Membership.valid_to, Unit.path)
            .join(Unit, Unit.id == Membership.unit_id)
            .where(Membership.member_id.in_(chunk))
        ):
            current = valid_from <= today and (valid_to is None or valid_to >= today)
            candidate = (current, valid_from, path)
            if member_id not in shown or candidate[:2] > shown[member_id][:2]:
                shown[member_id] = candidate
        if any(i not in shown or not any(shown[i][2].startswith(p) for p in led) for i in chunk):
            raise forbidden


def issue(actor: Member, member: Member) -> Issued:
    """A new code and link for a member who has not activated; earlier ones stop working."""
    return issue_many(actor, [member])[0]


def issue_many(actor: Member, members: list[Member]) -> list[Issued]:
    """Codes and links for many members at once (a whole province's roster, after its import):
    earlier open ones are revoked, the new ones stored hashed, each issue audited."""
    _require_lead(actor, members)
    errors = {}
    today = clock.today()
    for m in members:
        if is_activated(m):
            errors[f"member_{m.id}"] = f"{m.name} 已激活账号"
        elif m.active_to is not None and m.active_to < today:
            errors[f"member_{m.id}"] = f"{m.name} 已不在册"
    if errors:
        raise ValidationError(errors)
    actor_id = actor.id
    people = [(m.id, m.name) for m in members]
    now = datetime.now(UTC)
    expires = now + timedelta(days=current_app.config["ACTIVATION_CODE_DAYS"])
    out = []
    with tx.write():
        for chunk in driver.chunks([i for i, _ in people]):
            db.session.execute(
                update(Invitation)
                .where(Invitation.member_id.in_(chunk), *_open(now))
                .values(revoked_at=now)
                .execution_options(synchronize_session=False)  # the commit expires them all
            )
        codes = _new_codes(len(people))
        rows = []
        for (member_id, name), code in zip(people, codes, strict=True):
            link = secrets.token_urlsafe(24)
            rows.append(
                {
                    "member_id": member_id,
                    "code_hash": _digest(code),
                    "link_hash": _digest(link),
                    "expires_at": expires,
                    "created_by": actor_id,
                    "created_at": now,
                }
            )
            out.append(Issued(member_id, name, f"{code[:4]}-{code[4:]}", link, expires))
        if rows:
            db.session.execute(insert(Invitation), rows)
        after = {"expires_at": expires.isoformat()}
        audit.record_many(
            ("invitation.issue", "member", i, actor_id, i, None, after) for i, _ in people
        )
    return out


def _new_codes(count: int) -> list[str]:
    """``count`` random codes, different from each other and from every code stored before: a
    hundred thousand codes drawn at once would repeat one about once in 200 batches."""
    codes: set[str] = set()
    while len(codes) < count:
        fresh: set[str] = set()
        while len(codes) + len(fresh) < count:
            # 32 letters: a random byte modulo 32 picks each equally often
            code = "".join(CODE_ALPHABET[b % 32] for b in secrets.token_bytes(CODE_LENGTH))
            if code not in codes:
                fresh.add(code)
        by_hash = {_digest(c): c for c in fresh}
        for chunk in driver.chunks(list(by_hash)):
            for (taken,) in db.session.execute(
                select(Invitation.code_hash).where(Invitation.code_hash.in_(chunk))
            ):
                fresh.discard(by_hash[taken])
        codes |= fresh
    return list(codes)


def _open(now: datetime) -> tuple:
    return (
        Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > now,
    )


def _open_invitations(member_ids: list[int], now: datetime) -> list[Invitation]:
    if not member_ids:
        return []
    return list(
        db.session.execute(
            select(Invitation).where(Invitation.member_id.in_(member_ids), *_open(now))
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


@dataclass
class PendingPage:
    """One page of the members who have not activated, and how many there are in all."""

    rows: list[Pending]
    total: int
    page: int

    @property
    def more(self) -> bool:
        return self.page * PAGE < self.total

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE))


def _pending_rows(unit: Unit):
    """Members on the roster of ``unit``'s subtree today without a password, with their unit,
    by unit and name."""
    today = clock.today()
    return (
        select(Member, Unit)
        .join(Membership, Membership.member_id == Member.id)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(
            *org.belongs(unit, today),
            Member.password_hash.is_(None),
            or_(Member.active_to.is_(None), Member.active_to >= today),
        )
        .order_by(Unit.path, Member.name, Member.id)
    )


def _require_unit(actor: Member, unit: Unit) -> None:
    if not access.leads_unit(actor, unit):
        raise access.Forbidden("只能查看本人所领导单位的党员")


def pending(actor: Member, unit: Unit, *, page: int = 1) -> PendingPage:
    """A page of the members of ``unit``'s subtree (today) who have not activated yet, by unit
    and name: a province's root holds 100,000 of them before the first codes go out."""
    _require_unit(actor, unit)
    page = max(page, 1)
    rows = _pending_rows(unit)
    counted = rows.order_by(None).subquery()
    total = db.session.execute(select(func.count()).select_from(counted)).scalar_one()
    found = db.session.execute(rows.limit(PAGE).offset((page - 1) * PAGE)).all()
    now = datetime.now(UTC)
    expiry = {
        inv.member_id: _aware(inv.expires_at)
        for inv in _open_invitations([m.id for m, _ in found], now)
    }
    return PendingPage([Pending(m, u, expiry.get(m.id)) for m, u in found], total, page)


def pending_all(actor: Member, unit: Unit) -> list[tuple[Member, Unit]]:
    """Every member of ``unit``'s subtree who has not activated, with their unit, for issuing
    codes to all of them (but the actor: nobody issues their own)."""
    _require_unit(actor, unit)
    return [(m, u) for m, u in db.session.execute(_pending_rows(unit).where(Member.id != actor.id))]


def members_by_id(actor: Member, ids: list[int]) -> list[Member]:
    if any(not 0 < i <= 2**31 - 1 for i in ids):
        raise ValidationError({"member_ids": "党员编号无效"})
    members = [
        m
        for chunk in driver.chunks(list(dict.fromkeys(ids)))
        for m in db.session.execute(select(Member).where(Member.id.in_(chunk))).scalars()
    ]
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
