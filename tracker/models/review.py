"""The quarterly review (每季一考核、一排名、一通报、一讲评、一兑现): the leader's 讲评 and the
awards given in its 兑现 step."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db


class QuarterlyReview(db.Model):
    __tablename__ = "quarterly_review"
    __table_args__ = (UniqueConstraint("unit_id", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    quarter: Mapped[str] = mapped_column(String(7))  # "2026-Q4"
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReviewAward(db.Model):
    """One member's award in a review's 兑现, pointing at the adjustment that carries the points."""

    __tablename__ = "review_award"
    __table_args__ = (UniqueConstraint("review_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("quarterly_review.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    adjustment_id: Mapped[int] = mapped_column(ForeignKey("adjustment.id"), unique=True)
    points: Mapped[int] = mapped_column(Integer)
