"""Daily reports with their category items and quizzes, awards and deductions, period locks."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db


class DailyReport(db.Model):
    __tablename__ = "daily_report"
    __table_args__ = (UniqueConstraint("member_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    day: Mapped[date] = mapped_column(Date, index=True)
    form: Mapped[str] = mapped_column(String(12))  # items, total, cumulative
    total: Mapped[int] = mapped_column(Integer)
    cumulative: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    evidence_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    evidence_type: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("member.id"))

    items: Mapped[list[ReportItem]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportItem.code"
    )
    quizzes: Mapped[list[QuizResult]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="QuizResult.id"
    )


class ReportItem(db.Model):
    __tablename__ = "report_item"

    report_id: Mapped[int] = mapped_column(
        ForeignKey("daily_report.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    points: Mapped[int] = mapped_column(Integer)

    report: Mapped[DailyReport] = relationship(back_populates="items")


class QuizResult(db.Model):
    __tablename__ = "quiz_result"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("daily_report.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(40))
    questions: Mapped[int] = mapped_column(Integer)
    correct: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[int] = mapped_column(Integer, default=0)

    report: Mapped[DailyReport] = relationship(back_populates="quizzes")


class Adjustment(db.Model):
    """An award (positive) or deduction (negative) given by a leader, counted on its date."""

    __tablename__ = "adjustment"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PeriodLock(db.Model):
    """Nothing dated from ``start`` to ``end`` (inclusive) may change."""

    __tablename__ = "period_lock"

    id: Mapped[int] = mapped_column(primary_key=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
