"""Organisation settings stored in the database (SPEC §9) and members' privacy choices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db


class OrgSetting(db.Model):
    """A value an admin changed; keys without a row use the configured default."""

    __tablename__ = "org_setting"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("member.id"))


class PrivacyPrefs(db.Model):
    __tablename__ = "privacy_prefs"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    anonymous_on_boards: Mapped[bool] = mapped_column(Boolean, default=False)
