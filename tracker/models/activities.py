"""A unit's own study events (集中学习, 党课, 征文 …) with their attendance."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db


class ActivityKind(db.Model):
    """A kind of activity and the points each attendee earns (data, editable by admins)."""

    __tablename__ = "activity_kind"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(40))
    points: Mapped[int] = mapped_column(Integer, default=0)
    # Unit kinds that should hold this activity every month, comma separated ("支部,党小组").
    monthly_for: Mapped[str] = mapped_column(String(120), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class Activity(db.Model):
    __tablename__ = "activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(200))
    day: Mapped[date] = mapped_column(Date, index=True)
    # The kind's points when the activity was recorded: later rule changes do not rewrite it.
    points_each: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    attendance: Mapped[list[Attendance]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="Attendance.member_id"
    )


class Attendance(db.Model):
    """A member who attended; their points are an award (``adjustment``) on the activity's date."""

    __tablename__ = "activity_attendance"

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True, index=True)
    adjustment_id: Mapped[int | None] = mapped_column(ForeignKey("adjustment.id"))

    activity: Mapped[Activity] = relationship(back_populates="attendance")
