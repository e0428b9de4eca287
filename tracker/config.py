"""Settings, read from the environment once, with safe defaults.

This is the only module that reads ``os.environ``.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value is None or value == "" else int(value)


class Config:
    """Production-leaning defaults; every value can be overridden by ``TRACKER_*`` variables."""

    def __init__(self, instance_path: str) -> None:
        instance = Path(instance_path)
        self.SECRET_KEY = os.environ.get("TRACKER_SECRET_KEY") or _instance_secret(instance)
        self.SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or (
            f"sqlite:///{instance / 'tracker.sqlite'}"
        )
        self.SQLALCHEMY_ENGINE_OPTIONS: dict = {}
        # SQLite: how often a thread of each process copies the write-ahead log back into the
        # database (a checkpoint); 0 leaves it to the writers, every thousand pages.
        self.SQLITE_CHECKPOINT_SECONDS = float(
            os.environ.get("TRACKER_SQLITE_CHECKPOINT_SECONDS", "0.2")
        )
        # Organisation settings (SPEC §1, §2, §9).
        self.TIMEZONE = os.environ.get("TRACKER_TIMEZONE", "Asia/Shanghai")
        self.DAILY_TARGET = _int("TRACKER_DAILY_TARGET", 30)
        self.BACKFILL_DAYS_MEMBER = _int("TRACKER_BACKFILL_DAYS_MEMBER", 1)
        self.BACKFILL_DAYS_LEADER = _int("TRACKER_BACKFILL_DAYS_LEADER", 31)
        self.BACKFILL_DAYS_ADMIN = _int("TRACKER_BACKFILL_DAYS_ADMIN", 366)
        self.EVIDENCE_ENABLED = _bool("TRACKER_EVIDENCE_ENABLED", False)
        self.EVIDENCE_MAX_BYTES = _int("TRACKER_EVIDENCE_MAX_BYTES", 5 * 1024 * 1024)
        self.UNIT_RANKINGS_ENABLED = _bool("TRACKER_UNIT_RANKINGS_ENABLED", True)
        self.SHOW_BELOW_TARGET_TO_MEMBERS = _bool("TRACKER_SHOW_BELOW_TARGET_TO_MEMBERS", False)
        # Forms offering this many units or more name one in a search field, not a list.
        self.UNIT_PICKER_FROM = _int("TRACKER_UNIT_PICKER_FROM", 200)
        # Reminders and the scheduler (SPEC §4, §5, §9).
        self.QUIET_HOURS = os.environ.get("TRACKER_QUIET_HOURS", "21:30-08:00")  # "" = none
        self.REMINDERS_ON_WEEKENDS = _bool("TRACKER_REMINDERS_ON_WEEKENDS", False)
        self.WEEKLY_BULLETIN_ENABLED = _bool("TRACKER_WEEKLY_BULLETIN_ENABLED", True)
        self.NUDGE_TIME = os.environ.get("TRACKER_NUDGE_TIME", "20:00")
        # Cron fields "minute hour day month day_of_week" in TIMEZONE, one per job.
        self.SCHEDULE_DAILY = os.environ.get("TRACKER_SCHEDULE_DAILY", "*/15 8-21 * * *")
        self.SCHEDULE_WEEKLY = os.environ.get("TRACKER_SCHEDULE_WEEKLY", "30 8 * * mon")
        self.SCHEDULE_EXPORT = os.environ.get("TRACKER_SCHEDULE_EXPORT", "0 7 * * mon")
        self.SCHEDULE_QUARTERLY = os.environ.get(
            "TRACKER_SCHEDULE_QUARTERLY", "0 9 1-7 1,4,7,10 mon-fri"
        )
        self.SCHEDULE_ROLLUP_CHECK = os.environ.get("TRACKER_SCHEDULE_ROLLUP_CHECK", "30 2 * * *")
        self.SCHEDULER_MISFIRE_GRACE_SECONDS = _int("TRACKER_SCHEDULER_MISFIRE_GRACE", 3600)
        self.JOB_LEASE_SECONDS = _int("TRACKER_JOB_LEASE_SECONDS", 300)
        self.DELIVERY_MAX_ATTEMPTS = _int("TRACKER_DELIVERY_MAX_ATTEMPTS", 5)
        self.DELIVERY_BACKOFF_SECONDS = float(os.environ.get("TRACKER_DELIVERY_BACKOFF", "2"))
        self.DELIVERY_TIMEOUT_SECONDS = float(os.environ.get("TRACKER_DELIVERY_TIMEOUT", "10"))
        self.ROBOT_RATE_LIMIT = _int("TRACKER_ROBOT_RATE_LIMIT", 20)  # per robot per window
        self.ROBOT_RATE_WINDOW_SECONDS = _int("TRACKER_ROBOT_RATE_WINDOW", 60)
        self.SMTP_HOST = os.environ.get("TRACKER_SMTP_HOST", "localhost")
        self.SMTP_PORT = _int("TRACKER_SMTP_PORT", 25)
        self.SMTP_USER = os.environ.get("TRACKER_SMTP_USER", "")
        self.SMTP_PASSWORD = os.environ.get("TRACKER_SMTP_PASSWORD", "")
        self.SMTP_STARTTLS = _bool("TRACKER_SMTP_STARTTLS", False)
        self.SMTP_FROM = os.environ.get("TRACKER_SMTP_FROM", "xuexi@localhost")
        # A fixed "today" (ISO date) for demos and tests; empty means the real date in TIMEZONE.
        self.FIXED_TODAY = os.environ.get("TRACKER_FIXED_TODAY", "")
        # werkzeug's method string; tests use a cheap one, production keeps scrypt.
        self.PASSWORD_HASH_METHOD = os.environ.get("TRACKER_PASSWORD_HASH_METHOD", "scrypt")
        # Login throttling: failures allowed per login name and address in the window.
        self.LOGIN_MAX_FAILURES = _int("TRACKER_LOGIN_MAX_FAILURES", 10)
        self.LOGIN_FAILURE_WINDOW_MINUTES = _int("TRACKER_LOGIN_FAILURE_WINDOW_MINUTES", 15)
        # Onboarding: how long an activation code or invitation link stays valid.
        self.ACTIVATION_CODE_DAYS = _int("TRACKER_ACTIVATION_CODE_DAYS", 14)
        # Cookies and headers.
        secure = _bool("TRACKER_SECURE_COOKIES", False)
        self.SESSION_COOKIE_SECURE = secure
        self.REMEMBER_COOKIE_SECURE = secure
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_DURATION = timedelta(days=_int("TRACKER_REMEMBER_DAYS", 90))
        self.MAX_CONTENT_LENGTH = self.EVIDENCE_MAX_BYTES + 512 * 1024
        self.WTF_CSRF_TIME_LIMIT = None
        self.JSON_AS_ASCII = False

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}


def _instance_secret(instance: Path) -> str:
    """A random key kept in the instance folder, so no secret is ever in the repository."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def test_database_url() -> str | None:
    """The PostgreSQL server the test suite also runs against, when set."""
    return os.environ.get("TRACKER_TEST_DATABASE_URL") or None
