"""Leaders' pages for their units' activities and the monthly 集中学习 check."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from tracker.domain.periods import period_of
from tracker.domain.units import path_ids
from tracker.domain.validation import ValidationError
from tracker.models import Activity, Unit
from tracker.services import access, activities, activity_kinds, clock, org, rankings
from tracker.web import params

bp = Blueprint("activities", __name__, url_prefix="/activities")


@bp.before_request
@login_required
def _require_leader():
    if not access.is_leader(current_user):
        raise access.Forbidden("只有单位负责人可以管理活动")
    return None


def _unit(value: str | None) -> Unit:
    unit = params.parse_unit(value, lambda: access.default_unit(current_user))
    if not access.leads_unit(current_user, unit):
        raise access.Forbidden("只能查看本人所领导单位的活动")
    return unit


@bp.get("")
def index():
    unit = _unit(request.args.get("unit"))
    today = clock.today()
    start = today - timedelta(days=89)
    rows = activities.in_subtree(unit, start, today)
    units = org.rows_by_id(a.unit_id for a in rows)  # the units the rows name
    return render_template(
        "activities/index.html",
        unit=unit,
        trail=org.ancestors(unit),
        rows=rows,
        units=units,
        labels={k.code: k.label for k in activity_kinds.kinds()},
        start=start,
    )


def _form_values(form) -> dict:
    return {
        "kind": form.get("kind", ""),
        "date": form.get("date", ""),
        "title": form.get("title", ""),
        "note": form.get("note", ""),
        "attendees": [int(v) for v in form.getlist("attendee") if v.isdigit()],
    }


def _parse_day(value: str, errors: dict) -> date | None:
    try:
        return params.parse_date(value or None)
    except params.BadParam as e:
        errors["date"] = e.message
        return None


@bp.route("/new", methods=["GET", "POST"])
def new():
    unit = _unit(request.values.get("unit"))
    errors: dict[str, str] = {}
    values = {"date": clock.today().isoformat(), "attendees": [], "kind": "central_study"}
    if request.method == "POST":
        values = _form_values(request.form)
        day = _parse_day(values["date"], errors)
        if day is not None:
            try:
                activity = activities.record(
                    current_user,
                    unit,
                    values["kind"],
                    day,
                    values["title"],
                    values["attendees"],
                    values["note"],
                )
            except ValidationError as e:
                errors = e.errors
            else:
                flash(f"已记录活动“{activity.title}”，{len(values['attendees'])} 人参加")
                return redirect(url_for("activities.index", unit=unit.id))
    return _form(unit, None, values, errors)


@bp.route("/<int:activity_id>", methods=["GET", "POST"])
def edit(activity_id: int):
    activity = activities.get(activity_id)
    if activity is None:
        abort(404)
    unit = _unit(str(activity.unit_id))
    errors: dict[str, str] = {}
    values = {
        "kind": activity.kind,
        "date": activity.day.isoformat(),
        "title": activity.title,
        "note": activity.note,
        "attendees": [a.member_id for a in activity.attendance],
    }
    if request.method == "POST":
        try:
            if request.form.get("action") == "delete":
                activities.delete(current_user, activity)
                flash("活动已删除，相应积分已收回")
                return redirect(url_for("activities.index", unit=unit.id))
            values = _form_values(request.form) | {"kind": activity.kind}
            day = _parse_day(values["date"], errors)
            if day is not None:
                activities.update(
                    current_user,
                    activity,
                    day=day,
                    title=values["title"],
                    attendee_ids=values["attendees"],
                    note=values["note"],
                )
                flash("活动已保存")
                return redirect(url_for("activities.index", unit=unit.id))
        except ValidationError as e:
            errors = e.errors
    return _form(unit, activity, values, errors)


PICKER_ROWS = 500  # members listed to tick; a larger roster records its activities below


def _form(unit: Unit, activity: Activity | None, values: dict, errors: dict):
    try:
        day = date.fromisoformat(values["date"])
    except ValueError:
        day = clock.today()
    roster = activities.eligible_count(unit, day)
    if roster <= PICKER_ROWS:
        members = activities.eligible_members(unit, day)
    else:  # only those already ticked, so that saving keeps them
        chosen = rankings.member_names(values["attendees"])
        members = [chosen[i] for i in values["attendees"] if i in chosen]
    return render_template(
        "activities/form.html",
        unit=unit,
        activity=activity,
        kinds=activity_kinds.kinds(),
        members=members,
        roster=roster,
        listed_all=roster <= PICKER_ROWS,
        children=org.children(unit),
        values=values,
        errors=errors,
    ), (422 if errors else 200)


GAPS_LISTED = 100  # past this many, the page counts the gaps under each sub-unit instead


@bp.get("/gaps")
def gaps():
    unit = _unit(request.args.get("unit"))
    month = period_of("month", params.parse_date(request.args.get("date")))
    found = activities.monthly_gaps(current_user, unit, month)
    many = len(found) > GAPS_LISTED
    return render_template(
        "activities/gaps.html",
        unit=unit,
        trail=org.ancestors(unit),
        month=month,
        gaps=[g for g in found if g.unit.id == unit.id] if many else found,
        by_child=_gaps_by_child(unit, found) if many else None,
        total=len(found),
        previous_date=month.previous().start.isoformat(),
        next_date=month.next().start.isoformat(),
    )


def _gaps_by_child(unit: Unit, found: list) -> list[tuple[org.UnitRow, int]]:
    """How many units under each of ``unit``'s sub-units have a gap (a province's 4,000
    branches are no list to read): the sub-units with any, in the tree's order."""
    counts: dict[int, int] = {}
    for g in found:
        ids = path_ids(g.unit.path)
        if len(ids) > unit.depth + 1:
            child = ids[unit.depth + 1]
            counts[child] = counts.get(child, 0) + 1
    return [(c, counts[c.id]) for c in org.child_rows(unit.id) if c.id in counts]
