"""The organisation: a unit tree of any depth, members, dated memberships, leader roles."""

from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db


class Unit(db.Model):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # 党组, 党委, 支部, 党小组 …
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    # Materialised path of ids, "/1/4/9/": a subtree is every unit whose path starts with it.
    path: Mapped[str] = mapped_column(String(400), index=True, default="")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Retired units keep their history; from this date on nobody belongs to them.
    retired_on: Mapped[date | None] = mapped_column(Date)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(
        back_populates="parent", order_by="Unit.position, Unit.id"
    )

    def __repr__(self) -> str:
        return f"<Unit {self.id} {self.name}>"


class Member(UserMixin, db.Model):
    __tablename__ = "member"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    login: Mapped[str | None] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active_from: Mapped[date] = mapped_column(Date)
    active_to: Mapped[date | None] = mapped_column(Date)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)  # 离退休党员
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    # Members whose active span has ended, in id order: a board that looks for members without
    # points in all members' id order passes over those gone before its period from this small
    # index, instead of asking about each (migration 0012).
    __table_args__ = (
        Index(
            "ix_member_ended",
            "id",
            "active_to",
            sqlite_where=text("active_to IS NOT NULL"),
            postgresql_where=text("active_to IS NOT NULL"),
        ),
    )

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="member", order_by="Membership.valid_from"
    )
    leader_roles: Mapped[list[LeaderRole]] = relationship(back_populates="member")

    def is_active_on(self, day: date) -> bool:
        return self.active_from <= day and (self.active_to is None or day <= self.active_to)

    def __repr__(self) -> str:
        return f"<Member {self.id} {self.name}>"


class Membership(db.Model):
    """A member belongs to one unit from ``valid_from`` to ``valid_to`` (inclusive, open if None)."""

    __tablename__ = "membership"
    # A subtree's roster is its units' memberships, and a board reads its members' spans and
    # units by member: each index holds what its reads need, so they never visit the table.
    __table_args__ = (
        Index("ix_membership_unit_span", "unit_id", "member_id", "valid_from", "valid_to"),
        Index("ix_membership_member_span", "member_id", "unit_id", "valid_from", "valid_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    member: Mapped[Member] = relationship(back_populates="memberships")
    unit: Mapped[Unit] = relationship()


class LeaderRole(db.Model):
    """A member who leads a unit's subtree (支部书记, 学习管理员)."""

    __tablename__ = "leader_role"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)

    member: Mapped[Member] = relationship(back_populates="leader_roles")
    unit: Mapped[Unit] = relationship()
