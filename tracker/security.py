"""Authentication (sessions and API tokens), login throttling and security headers."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, g, request
from sqlalchemy import bindparam, delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db, login_manager
from .models import LoginFailure, Member


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    # "basic": a phone changing networks keeps its login ("strong" would drop it on every
    # change of address, which on mobile means logging in again and again).
    login_manager.session_protection = "basic"

    @app.before_request
    def _forget_cached_user() -> None:
        # Flask-Login caches the user on ``g``; requests served inside one outer app context
        # (tests, scripts) share ``g``, so each request resolves its own credentials afresh.
        g.pop("_login_user", None)
        # A request that names a token is that token's, even if it also carries a session cookie:
        # the CSRF check is skipped for such requests, so the session must not be what counts.
        header = request.headers.get("Authorization")
        if header is not None:
            token = header[7:].strip() if header.startswith("Bearer ") else ""
            g._login_user = member_for_token(token) or login_manager.anonymous_user()

    @app.after_request
    def _headers(response):
        h = response.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'",
        )
        if current_app.config.get("SESSION_COOKIE_SECURE"):
            h.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


@login_manager.user_loader
def _load_user(user_id: str) -> Member | None:
    return db.session.get(Member, int(user_id)) if user_id.isdigit() else None


@login_manager.request_loader
def _load_from_token(req) -> Member | None:
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return member_for_token(header[7:].strip())


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Built once: every API request asks, and building the statement cost as much as running it.
_BY_TOKEN = select(Member).where(Member.token_hash == bindparam("token_hash"))


def member_for_token(token: str) -> Member | None:
    if not token:
        return None
    return db.session.execute(_BY_TOKEN, {"token_hash": hash_token(token)}).scalar_one_or_none()


def issue_token(member: Member, actor_id: int | None = None) -> str:
    """A new API token (the old one stops working); only its hash is stored, so it is shown once.

    ``actor_id`` None is the command line.
    """
    from .services import audit, tx

    token = secrets.token_urlsafe(32)
    with tx.write():
        member = db.session.get(Member, member.id)
        before = {"has_token": bool(member.token_hash)}
        member.token_hash = hash_token(token)
        audit.record(
            "member.token",
            "member",
            member.id,
            actor_id=actor_id,
            member_id=member.id,
            before=before,
            after={"has_token": True},
        )
    return token


def authenticate(login: str, password: str, address: str) -> Member | None:
    """Check a password, counting failures per login name and address (SPEC §8 rate limiting)."""
    from .services import tx

    cfg = current_app.config
    since = datetime.now(UTC) - timedelta(minutes=cfg["LOGIN_FAILURE_WINDOW_MINUTES"])
    failures = db.session.execute(
        select(func.count())
        .select_from(LoginFailure)
        .where(
            LoginFailure.login == login, LoginFailure.address == address, LoginFailure.at >= since
        )
    ).scalar_one()
    if failures >= cfg["LOGIN_MAX_FAILURES"]:
        raise TooManyAttempts()
    member = db.session.execute(select(Member).where(Member.login == login)).scalar_one_or_none()
    if member and member.password_hash and check_password_hash(member.password_hash, password):
        with tx.write():
            db.session.execute(
                delete(LoginFailure).where(
                    LoginFailure.login == login, LoginFailure.address == address
                )
            )
        return db.session.get(Member, member.id)
    with tx.write():
        db.session.add(LoginFailure(login=login[:60], address=address[:64], at=datetime.now(UTC)))
    return None


class TooManyAttempts(Exception):
    pass


def client_address() -> str:
    return request.remote_addr or "-"
