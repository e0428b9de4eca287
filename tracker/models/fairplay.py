"""Fair-play flags: soft signals for leaders, never blocking a report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db


class FairPlayFlag(db.Model):
    __tablename__ = "fair_play_flag"
    # One flag per member, kind and occasion, so scanning again adds nothing.
    __table_args__ = (UniqueConstraint("member_id", "kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(120))
    day: Mapped[date] = mapped_column(Date, index=True)
    detail: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    review_note: Mapped[str] = mapped_column(String(200), default="")


class TokenWrite(db.Model):
    """A report written with an account's API token, kept a day to spot bursts."""

    __tablename__ = "token_write"
    __table_args__ = (Index("ix_token_write_actor_at", "actor_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
