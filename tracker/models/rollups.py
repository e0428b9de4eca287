"""Period roll-ups, kept up to date in the same transaction as every write of points."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db

# On SQLite the roll-ups are clustered by their primary keys: a row lives in one b-tree, not
# in a rowid table and a key index, so a report's write dirties fewer pages (migration 0008).
CLUSTERED = {"sqlite_with_rowid": False}


class PeriodPoints(db.Model):
    """A member's points and reported days in one period, while belonging to one unit.

    A member who moved mid-period has a row for each unit, so each subtree counts only the
    days the member belonged to it.
    """

    __tablename__ = "period_points"
    __table_args__ = (
        Index("ix_period_points_board", "kind", "period_start", "unit_id", "points"),
        CLUSTERED,
    )

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True, index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    points: Mapped[int] = mapped_column(Integer, default=0)
    reported_days: Mapped[int] = mapped_column(Integer, default=0)


class SubtreePoints(db.Model):
    """A member's points and reported days in one period within one unit's whole subtree.

    One row per ancestor of every unit the member belonged to (the unit itself included), so a
    subtree's board is one index range in (ancestor, kind, period, points desc, member).
    """

    __tablename__ = "subtree_points"
    # On PostgreSQL the key index holds the points too, so that a member's row is read from
    # it alone, as from the board index: otherwise a prepared statement's generic plan took
    # the board index and filtered a whole subtree for one member (migration 0011).
    __table_args__ = (
        PrimaryKeyConstraint(
            "ancestor_id",
            "kind",
            "period_start",
            "member_id",
            postgresql_include=["points", "reported_days"],
        ),
        CLUSTERED,
    )

    ancestor_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True, index=True)
    points: Mapped[int] = mapped_column(Integer, default=0)
    reported_days: Mapped[int] = mapped_column(Integer, default=0)


Index(
    "ix_subtree_points_board",
    SubtreePoints.ancestor_id,
    SubtreePoints.kind,
    SubtreePoints.period_start,
    SubtreePoints.points.desc(),
    SubtreePoints.member_id,
    SubtreePoints.reported_days,  # boards and neighbours are read from the index alone
)


class SubtreeScore(db.Model):
    """How many members of a subtree hold each non-zero score in a period.

    Two widths: exact points (width 1) and bands of ``BAND`` points, so a member's rank is
    one plus the members above, summed over a few bands and a few exact scores.
    """

    __tablename__ = "subtree_score"
    __table_args__ = CLUSTERED

    ancestor_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    width: Mapped[int] = mapped_column(Integer, primary_key=True)
    floor: Mapped[int] = mapped_column(Integer, primary_key=True)
    members: Mapped[int] = mapped_column(Integer, default=0)


class SubtreeTotals(db.Model):
    """A subtree's points, reported member-days and reporting members in one period."""

    __tablename__ = "subtree_totals"
    __table_args__ = CLUSTERED

    ancestor_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    points: Mapped[int] = mapped_column(Integer, default=0)
    reported_days: Mapped[int] = mapped_column(Integer, default=0)
    participants: Mapped[int] = mapped_column(Integer, default=0)


class RosterStats(db.Model):
    """A subtree's roster size and active member-days in a period, as computed from memberships.

    Valid while ``version`` equals ``RosterVersion.version``, which database triggers bump on
    every change of memberships or members' active dates. ``elapsed_end`` is the last day of
    the period counted for active days (the day before the start when none has elapsed).
    """

    __tablename__ = "roster_stats"

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    elapsed_end: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    roster: Mapped[int] = mapped_column(Integer)
    active_days: Mapped[int] = mapped_column(Integer)


class RosterVersion(db.Model):
    """One row, bumped by triggers on ``membership`` and on ``member``'s active dates."""

    __tablename__ = "roster_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
