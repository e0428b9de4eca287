"""The quarterly review of a unit: 一考核、一排名、一通报、一讲评、一兑现.

Assess (targets met), rank (sub-units and members), announce (the report, with a public
version that never lists members below target), comment (the leader's 讲评, audited) and
reward (兑现: awards recorded through ``adjustments.give``, at most once per member).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import or_, select

from tracker.domain.periods import Period, parse_period_key, period_of
from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import Adjustment, Member, Membership, QuarterlyReview, ReviewAward, Unit

from . import access, adjustments, audit, boards, clock, org, rankings, tx

MAX_COMMENT = 2000
TOP_MEMBERS = 10
LISTED = boards.LEADER_ROWS  # members (and awards or deductions) a review lists at most


@dataclass
class AdjustmentRow:
    day: date
    name: str
    points: int
    reason: str


@dataclass
class Review:
    unit: Unit
    quarter: Period
    leader: bool  # the leader's version: who is below target, and the 兑现 form
    units: list[dict]
    members: list[boards.MemberRow]  # the leader's version: the first ``LISTED`` of ``roster``
    roster: int
    members_met: int
    units_met: int | None
    adjustments: list[AdjustmentRow]  # the first ``LISTED`` of ``adjustments_total``
    adjustments_total: int
    comment: str
    comment_by: str | None
    comment_at: datetime | None
    awards: dict[int, int] = field(default_factory=dict)  # member id → points already given
    awarded: list[tuple[str, int]] = field(default_factory=list)  # (name, points) for the report
    below: int = 0  # members below target: told only in the leader's version


def parse_quarter(key: str) -> Period:
    try:
        period = parse_period_key(key)
    except ValueError:
        period = None
    if period is None or period.kind != "quarter":
        raise ValidationError({"quarter": f"“{key}”不是季度（应为 2026-Q4 这样的写法）"})
    return period


def trend_weeks(quarter: Period) -> int:
    """How many ISO weeks touch the quarter: the length of the review's trend."""
    first = period_of("week", quarter.start)
    last = period_of("week", quarter.end)
    return (last.start - first.start).days // 7 + 1


def _require_leader(viewer, unit: Unit) -> None:
    if not access.leads_unit(viewer, unit):
        raise access.Forbidden("季度讲评只对本单位的书记和管理员开放")


def build(viewer, unit: Unit, quarter: Period, *, public: bool = False) -> Review:
    """The review as ``viewer`` (a leader of ``unit``) sees it; ``public`` drops the laggards."""
    _require_leader(viewer, unit)
    # A province's root has 100,000 members: the review lists the first few hundred (a PDF
    # of thousands of pages helps nobody; the ranking export holds every one), read from the
    # roll-ups like a leader's board, and counts who met the target without ranking them.
    view = boards.member_board(viewer, quarter, unit)
    leader = view.full and not public
    units = boards.unit_board(viewer, quarter, unit, "avg") if org.children(unit) else []
    met = rankings.met_target(quarter, unit, clock.today())
    if met is None:  # the quarter has not begun: everyone ranked
        whole = boards.member_board(viewer, quarter, unit, every_row=True)
        met = sum(1 for r in whole.rows if r.below_target is False)
    members = view.rows[:LISTED] if leader else view.rows[:TOP_MEMBERS]
    if not leader:
        members = [r for r in members if r.below_target is False]
    record = _record(unit, quarter)
    awards = _awards(record)
    given = _adjustments(unit, quarter)  # awards and deductions
    names = rankings.member_names(list(awards))
    return Review(
        unit=unit,
        quarter=quarter,
        leader=leader,
        units=units if leader else [dict(u, below_target=None) for u in units],
        members=members,
        roster=view.roster_size,
        members_met=met,
        units_met=(sum(1 for u in units if u["below_target"] is False) if units else None),
        adjustments=given[:LISTED],
        adjustments_total=len(given),
        comment=record.comment if record else "",
        comment_by=_name(record.updated_by) if record else None,
        comment_at=record.updated_at if record else None,
        awards=awards,
        awarded=[(names[m].name, p) for m, p in awards.items()],
        below=view.roster_size - met if leader else 0,
    )


def _record(unit: Unit, quarter: Period) -> QuarterlyReview | None:
    return db.session.execute(
        select(QuarterlyReview).where(
            QuarterlyReview.unit_id == unit.id, QuarterlyReview.quarter == quarter.key
        )
    ).scalar_one_or_none()


def _name(member_id: int | None) -> str | None:
    member = db.session.get(Member, member_id) if member_id else None
    return member.name if member else None


def _awards(record: QuarterlyReview | None) -> dict[int, int]:
    if record is None:
        return {}
    rows = db.session.execute(
        select(ReviewAward.member_id, ReviewAward.points).where(ReviewAward.review_id == record.id)
    )
    return {m: p for m, p in rows}


def _adjustments(unit: Unit, quarter: Period) -> list[AdjustmentRow]:
    """Awards and deductions dated in the quarter for members while they belonged to the subtree."""
    rows = db.session.execute(
        select(Adjustment.day, Member.name, Adjustment.points, Adjustment.reason)
        .join(Member, Member.id == Adjustment.member_id)
        .join(Membership, Membership.member_id == Adjustment.member_id)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(
            Unit.path.startswith(unit.path),
            Adjustment.day >= quarter.start,
            Adjustment.day <= quarter.end,
            Membership.valid_from <= Adjustment.day,
            or_(Membership.valid_to.is_(None), Membership.valid_to >= Adjustment.day),
        )
        .order_by(Adjustment.day, Adjustment.id)
    )
    return [AdjustmentRow(*r) for r in rows]


def save_comment(actor: Member, unit: Unit, quarter: Period, comment: str) -> QuarterlyReview:
    """Store the leader's 讲评 for the quarter (replacing the previous one), in the audit log."""
    _require_leader(actor, unit)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError({"comment": f"讲评最多 {MAX_COMMENT} 字"})
    with tx.write():
        record = _record(unit, quarter)
        before = record.comment if record else None
        if record is None:
            record = QuarterlyReview(unit_id=unit.id, quarter=quarter.key, comment="")
            db.session.add(record)
        record.comment = comment
        record.updated_by = actor.id
        record.updated_at = datetime.now(UTC)
        db.session.flush()
        audit.record(
            "review.comment",
            "quarterly_review",
            record.id,
            actor_id=actor.id,
            before=None if before is None else {"comment": before},
            after={"unit_id": unit.id, "quarter": quarter.key, "comment": comment},
        )
    return record


def redeem(
    actor: Member, unit: Unit, quarter: Period, awards: dict[int, int], reason: str = ""
) -> list[Adjustment]:
    """兑现: give each member their award once, through ``adjustments.give``, dated today.

    Everything is checked before the first award is given; a member already rewarded for this
    review is an error, so running the step twice never pays twice.
    """
    _require_leader(actor, unit)
    if quarter.start > clock.today():
        raise ValidationError({"quarter": "季度尚未开始，不能兑现"})
    board = rankings.member_board(quarter, unit)
    roster = {s.member_id for s in board.standings}
    record = _record(unit, quarter)
    given = _awards(record)
    errors: dict[str, str] = {}
    if not awards:
        errors["awards"] = "请至少填写一名党员的奖励积分"
    for member_id, points in awards.items():
        key = f"awards.{member_id}"
        if member_id == actor.id and not actor.is_admin:
            errors[key] = "不能给自己兑现奖励"
        elif member_id not in roster:
            errors[key] = "不是本单位本季度的在册党员"
        elif member_id in given:
            errors[key] = f"本季度已兑现 {given[member_id]} 分"
        elif isinstance(points, bool) or not isinstance(points, int) or not 0 < points <= 1000:
            errors[key] = "奖励积分应为 1–1000 的整数"
    if errors:
        raise ValidationError(errors, "兑现的内容有误")
    if record is None:
        record = save_comment(actor, unit, quarter, "")
    text = f"{quarter.key} 季度兑现" + (f"：{reason.strip()}" if reason.strip() else "")
    out = []
    for member_id, points in awards.items():
        member = db.session.get(Member, member_id)
        adjustment = adjustments.give(actor, member, clock.today(), points, text[:200])
        with tx.write():
            db.session.add(
                ReviewAward(
                    review_id=record.id,
                    member_id=member_id,
                    adjustment_id=adjustment.id,
                    points=points,
                )
            )
            audit.record(
                "review.redeem",
                "quarterly_review",
                record.id,
                actor_id=actor.id,
                member_id=member_id,
                after={"quarter": quarter.key, "points": points, "adjustment": adjustment.id},
            )
        out.append(adjustment)
    return out
