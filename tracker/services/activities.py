"""A unit's own study events (集中学习, 党课, 征文 …): recorded by leaders with attendance.

Each kind awards points to every attendee by rule (``seeds/activity_kinds.json``, editable by
admins). The points are awards (``adjustment`` rows) on the activity's date, so roll-ups,
rebuilds and rankings count them like any other award.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from tracker.domain.periods import Period
from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import Activity, Adjustment, Attendance, Member, Membership, Unit

from . import access, audit, clock, driver, org, reports, rollups, rosters, tx
from .activity_kinds import Kind, kind, kinds, store_defaults

MAX_TITLE = 200
MAX_NOTE = 1000
MAX_ID = 2**31 - 1  # ids fit a 32-bit column; larger ones cannot exist


# Reading --------------------------------------------------------------------------------------


def get(activity_id: int) -> Activity | None:
    if not 0 < activity_id <= MAX_ID:
        return None
    return db.session.execute(
        select(Activity)
        .options(selectinload(Activity.attendance))
        .where(Activity.id == activity_id)
    ).scalar_one_or_none()


def in_subtree(unit: Unit, start: date, end: date) -> list[Activity]:
    return list(
        db.session.execute(
            select(Activity)
            .options(selectinload(Activity.attendance))
            .join(Unit, Unit.id == Activity.unit_id)
            .where(Unit.path.startswith(unit.path), Activity.day >= start, Activity.day <= end)
            .order_by(Activity.day.desc(), Activity.id.desc())
        ).scalars()
    )


@dataclass
class Attended:
    activity: Activity
    unit_name: str
    label: str
    points: int


def attended(member_id: int, start: date, end: date) -> list[Attended]:
    """The activities a member attended, newest first (their history page)."""
    labels = {k.code: k.label for k in kinds()}
    rows = db.session.execute(
        select(Activity, Unit.name, func.coalesce(Adjustment.points, 0))
        .join(Attendance, Attendance.activity_id == Activity.id)
        .join(Unit, Unit.id == Activity.unit_id)
        .outerjoin(Adjustment, Adjustment.id == Attendance.adjustment_id)
        .where(Attendance.member_id == member_id, Activity.day >= start, Activity.day <= end)
        .order_by(Activity.day.desc(), Activity.id.desc())
    )
    return [Attended(a, name, labels.get(a.kind, a.kind), int(p)) for a, name, p in rows]


def _eligible(unit: Unit, day: date, *columns):
    """Members belonging to the unit's subtree on ``day`` while active: who may attend."""
    return (
        select(*columns)
        .join(Membership, Membership.member_id == Member.id)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(
            *org.belongs(unit, day),
            Member.active_from <= day,
            or_(Member.active_to.is_(None), Member.active_to >= day),
        )
    )


def eligible_members(unit: Unit, day: date) -> list[Member]:
    """Who may attend an activity of ``unit`` on ``day``, by unit and name."""
    query = _eligible(unit, day, Member).order_by(Unit.path, Member.name, Member.id)
    return list(db.session.execute(query).scalars())


def eligible_count(unit: Unit, day: date) -> int:
    query = _eligible(unit, day, Member.id).subquery()
    return db.session.execute(select(func.count()).select_from(query)).scalar_one()


def _eligible_among(unit: Unit, day: date, ids: list[int]) -> set[int]:
    """Which of these members may attend: asked of them alone, a few thousand at a time."""
    found: set[int] = set()
    for chunk in driver.chunks(ids):
        found.update(
            db.session.execute(
                _eligible(unit, day, Member.id).where(Member.id.in_(chunk))
            ).scalars()
        )
    return found


def as_dict(activity: Activity) -> dict:
    k = kind(activity.kind)
    return {
        "id": activity.id,
        "unit_id": activity.unit_id,
        "kind": activity.kind,
        "kind_label": k.label if k else activity.kind,
        "title": activity.title,
        "date": activity.day.isoformat(),
        "points_each": activity.points_each,
        "note": activity.note,
        "attendees": sorted(a.member_id for a in activity.attendance),
    }


# Gaps: who has not held the monthly 集中学习 ----------------------------------------------------


@dataclass
class Gap:
    unit: org.UnitRow
    kind: Kind
    last_held: date | None  # the latest before or in the month, if ever


def monthly_gaps(actor: Member, unit: Unit, month: Period) -> list[Gap]:
    """Units in ``unit``'s subtree that should hold a kind every month and have not in ``month``.

    Read as plain rows with the subtree as a path range: a province's root has about 5,000
    such units."""
    if not access.leads_unit(actor, unit):
        raise access.Forbidden("只能查看本人所领导单位的活动")
    out: list[Gap] = []
    paths = list(rosters.path_range(unit))
    for k in (k for k in kinds() if k.monthly_for):
        of_kind, kind_params = driver.one_of("kind", k.monthly_for)
        candidates = org.unit_rows(
            f"path >= ? AND path < ? AND {of_kind} AND (retired_on IS NULL OR retired_on > ?)",
            [*paths, *kind_params, driver.sql_date(month.start)],
        )
        if not candidates:
            continue
        held = {
            unit_id: driver.as_date(last)
            for unit_id, last in driver.query(
                "SELECT a.unit_id, MAX(a.day) FROM activity a JOIN unit u ON u.id = a.unit_id "
                "WHERE u.path >= ? AND u.path < ? AND a.kind = ? AND a.day <= ? "
                "GROUP BY a.unit_id",
                [*paths, k.code, driver.sql_date(month.end)],
            )
        }
        for u in candidates:
            last = held.get(u.id)
            if last is None or last < month.start:
                out.append(Gap(u, k, last))
    return out


# Writing --------------------------------------------------------------------------------------


def record(
    actor: Member,
    unit: Unit,
    kind_code: str,
    day: date,
    title: str,
    attendee_ids: object,
    note: str = "",
) -> Activity:
    """Record an activity of ``unit`` and award its points to each attendee."""
    if not access.leads_unit(actor, unit):
        raise access.Forbidden("只能为本人所领导的单位记录活动")
    actor_id = actor.id
    with tx.write():
        k = kind(kind_code) if isinstance(kind_code, str) else None
        errors = _check_fields(actor, k, day, title, note)
        ids = _check_attendees(unit, day, attendee_ids, errors)
        if errors:
            raise ValidationError(errors)
        assert k is not None
        store_defaults()
        activity = Activity(
            unit_id=unit.id,
            kind=k.code,
            title=title.strip(),
            day=day,
            points_each=k.points,
            note=(note or "").strip(),
            created_by=actor_id,
        )
        db.session.add(activity)
        db.session.flush()
        for member_id in ids:
            _attend(activity, member_id, k.label, actor_id)
        db.session.flush()
        audit.record(
            "activity.create", "activity", activity.id, actor_id=actor_id, after=as_dict(activity)
        )
    return activity


def update(
    actor: Member,
    activity: Activity,
    *,
    day: date,
    title: str,
    attendee_ids: object,
    note: str = "",
) -> Activity:
    """Change an activity's date, title, note or attendance; points follow the attendance."""
    unit = db.session.get(Unit, activity.unit_id)
    assert unit is not None
    if not access.leads_unit(actor, unit):
        raise access.Forbidden("只能修改本人所领导单位的活动")
    actor_id = actor.id
    with tx.write():
        k = kind(activity.kind) or Kind(activity.kind, activity.kind, activity.points_each)
        errors = _check_fields(actor, k, day, title, note)
        if "date" not in errors and activity.day != day:
            old = _day_error(actor, activity.day)
            if old:
                errors["date"] = f"原日期：{old}"
        ids = _check_attendees(unit, day, attendee_ids, errors)
        if errors:
            raise ValidationError(errors)
        before = as_dict(activity)
        keep = (
            {a.member_id for a in activity.attendance} & set(ids) if day == activity.day else set()
        )
        for attendance in [a for a in activity.attendance if a.member_id not in keep]:
            _leave(activity, attendance, actor_id)
        activity.day, activity.title, activity.note = day, title.strip(), (note or "").strip()
        db.session.flush()
        for member_id in [m for m in ids if m not in keep]:
            _attend(activity, member_id, k.label, actor_id)
        db.session.flush()
        after = as_dict(activity)
        if after != before:
            audit.record(
                "activity.update",
                "activity",
                activity.id,
                actor_id=actor_id,
                before=before,
                after=after,
            )
    return activity


def delete(actor: Member, activity: Activity) -> None:
    """Remove an activity and take back the points it awarded."""
    unit = db.session.get(Unit, activity.unit_id)
    assert unit is not None
    if not access.leads_unit(actor, unit):
        raise access.Forbidden("只能删除本人所领导单位的活动")
    actor_id = actor.id
    with tx.write():
        problem = _day_error(actor, activity.day)
        if problem:
            raise ValidationError({"date": problem})
        before = as_dict(activity)
        for attendance in list(activity.attendance):
            _leave(activity, attendance, actor_id)
        db.session.delete(activity)
        audit.record("activity.delete", "activity", before["id"], actor_id=actor_id, before=before)


def _check_fields(actor: Member, k: Kind | None, day: date, title: object, note: object) -> dict:
    errors: dict[str, str] = {}
    if k is None:
        errors["kind"] = "请选择活动类型：" + "、".join(x.label for x in kinds())
    if not isinstance(title, str) or not title.strip() or len(title.strip()) > MAX_TITLE:
        errors["title"] = f"请填写 1–{MAX_TITLE} 字的活动名称"
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        errors["note"] = f"备注最多 {MAX_NOTE} 字"
    problem = _day_error(actor, day)
    if problem:
        errors["date"] = problem
    return errors


def _day_error(actor: Member, day: date) -> str | None:
    today = clock.today()
    if day > today:
        return "不能记录未来日期的活动"
    earliest = today - timedelta(days=reports.backfill_days(actor))
    if day < earliest:
        return f"只能记录 {earliest.isoformat()} 以来的活动"
    if reports.is_locked(day):
        return f"{day.isoformat()} 所在的时段已锁定"
    return None


def _check_attendees(unit: Unit, day: date, attendee_ids: object, errors: dict) -> list[int]:
    if attendee_ids is None:
        attendee_ids = []
    if not isinstance(attendee_ids, list | tuple) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in attendee_ids
    ):
        errors["attendees"] = "参加人员应为党员编号的列表"
        return []
    ids = list(dict.fromkeys(attendee_ids))
    if "date" in errors or not ids:
        return ids
    eligible = _eligible_among(unit, day, ids)
    outside = [i for i in ids if i not in eligible]
    if outside:
        names = {
            m.id: m.name
            for m in db.session.execute(select(Member).where(Member.id.in_(outside))).scalars()
        }
        listed = "、".join(names.get(i, f"编号 {i}") for i in outside)
        errors["attendees"] = f"{listed} 在 {day.isoformat()} 不属于{unit.name}"
    return ids


def _attend(activity: Activity, member_id: int, label: str, actor_id: int | None) -> None:
    adjustment_id = None
    if activity.points_each:
        unit_id = rollups.unit_on(member_id, activity.day)
        assert unit_id is not None  # checked by _check_attendees
        row = Adjustment(
            member_id=member_id,
            day=activity.day,
            points=activity.points_each,
            reason=f"{label}：{activity.title}"[:200],
            created_by=actor_id,
        )
        db.session.add(row)
        db.session.flush()
        rollups.apply(member_id, unit_id, activity.day, row.points, 0)
        audit.record(
            "adjustment.create",
            "adjustment",
            row.id,
            actor_id=actor_id,
            member_id=member_id,
            after={
                "date": row.day.isoformat(),
                "points": row.points,
                "reason": row.reason,
                "activity_id": activity.id,
            },
        )
        adjustment_id = row.id
    activity.attendance.append(Attendance(member_id=member_id, adjustment_id=adjustment_id))


def _leave(activity: Activity, attendance: Attendance, actor_id: int | None) -> None:
    row = db.session.get(Adjustment, attendance.adjustment_id) if attendance.adjustment_id else None
    activity.attendance.remove(attendance)
    db.session.flush()
    if row is None:
        return
    unit_id = rollups.unit_on(row.member_id, row.day)
    if unit_id is not None:
        rollups.apply(row.member_id, unit_id, row.day, -row.points, 0)
    audit.record(
        "adjustment.delete",
        "adjustment",
        row.id,
        actor_id=actor_id,
        member_id=row.member_id,
        before={
            "date": row.day.isoformat(),
            "points": row.points,
            "reason": row.reason,
            "activity_id": activity.id,
        },
    )
    db.session.delete(row)
