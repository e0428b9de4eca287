"""Reminders: member preferences, channels, templates, deliveries, in-app notices, job claims."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db


class ReminderPrefs(db.Model):
    """A member's choices (SPEC §9): opt out of nudges, a time, a channel, days on leave."""

    __tablename__ = "reminder_prefs"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    nudge_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    nudge_time: Mapped[str | None] = mapped_column(String(5))  # "HH:MM"; None = the default
    channel: Mapped[str] = mapped_column(String(10), default="inapp")  # inapp, email
    email: Mapped[str | None] = mapped_column(String(200))
    leave_from: Mapped[date | None] = mapped_column(Date)
    leave_to: Mapped[date | None] = mapped_column(Date)


class ReminderChannel(db.Model):
    """A group channel of a unit (or of the whole organisation when ``unit_id`` is None)."""

    __tablename__ = "reminder_channel"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # wecom, dingtalk, feishu, email
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(500), default="")  # webhook address
    secret: Mapped[str] = mapped_column(String(200), default="")  # signing secret
    address: Mapped[str] = mapped_column(String(200), default="")  # e-mail address
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class ReminderTemplate(db.Model):
    """An admin's version of a message template; the built-in text applies until there is one."""

    __tablename__ = "reminder_template"

    key: Mapped[str] = mapped_column(String(20), primary_key=True)  # daily, weekly, quarterly
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("member.id"))


class Delivery(db.Model):
    """One message to one recipient, written (pending) before it is sent.

    Unique per (reminder, period, recipient): planning the same run twice adds nothing.
    Status: pending → sending → sent | failed (retried) | unknown (cut off mid-send, not
    resent: at most once).
    """

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("reminder", "period", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(20), index=True)
    recipient: Mapped[str] = mapped_column(String(40))  # member:12, channel:3
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"), index=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("reminder_channel.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # inapp, email, wecom, dingtalk, feishu
    address: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    attachment: Mapped[str | None] = mapped_column(String(400))  # a file in the instance folder
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeliveryAttempt(db.Model):
    """Each try to send, written before the network call; robot rate limits count these rows."""

    __tablename__ = "delivery_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id"), index=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("reminder_channel.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    outcome: Mapped[str] = mapped_column(String(10), default="sending")
    detail: Mapped[str] = mapped_column(String(500), default="")


class Notice(db.Model):
    """An in-app notice, written in the same transaction that marks its delivery sent."""

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("delivery.id"), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class JobClaim(db.Model):
    """A scheduled job's claim on one period: at most one live run, and a record of the last."""

    __tablename__ = "job_claim"

    job: Mapped[str] = mapped_column(String(20), primary_key=True)
    period: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))  # running, done
    owner: Mapped[str] = mapped_column(String(120))  # host:pid:token
    lease_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[str] = mapped_column(String(500), default="")
