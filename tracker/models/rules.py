"""Scoring rule versions: data with validity dates, never constants in code."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.domain import rules as domain
from tracker.extensions import db


class RuleVersion(db.Model):
    __tablename__ = "rule_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")

    categories: Mapped[list[RuleCategory]] = relationship(
        back_populates="version", order_by="RuleCategory.position", cascade="all, delete-orphan"
    )

    def to_domain(self) -> domain.RuleVersion:
        return domain.RuleVersion(
            valid_from=self.valid_from,
            name=self.name,
            id=self.id,
            categories=tuple(
                domain.Category(
                    code=c.code,
                    label=c.label,
                    daily_cap=c.daily_cap,
                    weekly_cap=c.weekly_cap,
                    weekdays=c.weekdays,
                    is_quiz=c.is_quiz,
                )
                for c in self.categories
            ),
        )


class RuleCategory(db.Model):
    __tablename__ = "rule_category"
    __table_args__ = (UniqueConstraint("version_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("rule_version.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(60))
    daily_cap: Mapped[int] = mapped_column(Integer)
    weekly_cap: Mapped[int | None] = mapped_column(Integer)
    weekdays: Mapped[int] = mapped_column(Integer, default=domain.ALL_DAYS)
    is_quiz: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    version: Mapped[RuleVersion] = relationship(back_populates="categories")
