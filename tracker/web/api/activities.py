"""API for activities: leaders record them, members read the ones they attended."""

from __future__ import annotations

from datetime import timedelta

from flask import jsonify, request
from flask_login import current_user

from tracker.domain.periods import period_of
from tracker.domain.validation import ValidationError
from tracker.services import access, activities, activity_kinds, clock, org
from tracker.web import params

from .routes import bp

FIELDS = {"unit_id", "kind", "date", "title", "attendees", "note"}


def _body(allowed: set[str]) -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError({"body": "请求体应为 JSON 对象"})
    unknown = set(body) - allowed
    if unknown:
        raise ValidationError({k: "未知字段" for k in sorted(unknown)})
    return body


def _date(value: object):
    if not isinstance(value, str) or not value:
        raise ValidationError({"date": "请填写日期（YYYY-MM-DD）"})
    try:
        return params.parse_date(value)
    except params.BadParam as e:
        raise ValidationError({"date": e.message}) from None


def _led_unit(value: str | None):
    unit = params.parse_unit(value, lambda: access.default_unit(current_user))
    if not access.leads_unit(current_user, unit):
        raise access.Forbidden("只能查看本人所领导单位的活动")
    return unit


def _activity(activity_id: int):
    activity = activities.get(activity_id)
    if activity is None:
        raise params.BadParam("id", f"没有编号为 {activity_id} 的活动")
    unit = org.get_unit(activity.unit_id)
    if unit is None or not access.leads_unit(current_user, unit):
        raise access.Forbidden("只能查看本人所领导单位的活动")
    return activity


@bp.get("/activity-kinds")
def list_activity_kinds():
    return jsonify(
        [
            {"code": k.code, "label": k.label, "points": k.points, "monthly_for": k.monthly_for}
            for k in activity_kinds.kinds()
        ]
    )


@bp.put("/activity-kinds/<code>")
def put_activity_kind(code: str):
    body = _body({"points"})
    k = activity_kinds.set_kind_points(current_user, code, body.get("points"))
    return jsonify({"code": k.code, "label": k.label, "points": k.points})


@bp.get("/activities")
def list_activities():
    unit = _led_unit(request.args.get("unit"))
    end = params.parse_date(request.args.get("to"), "to")
    start = params.parse_date(request.args.get("from") or (end - timedelta(days=89)).isoformat())
    rows = activities.in_subtree(unit, start, end)
    return jsonify(
        {"unit": {"id": unit.id, "name": unit.name}, "rows": [activities.as_dict(a) for a in rows]}
    )


@bp.post("/activities")
def create_activity():
    body = _body(FIELDS)
    unit_id = body.get("unit_id")
    valid = type(unit_id) is int and 0 < unit_id <= activities.MAX_ID
    unit = org.get_unit(unit_id) if valid else None
    if unit is None:
        raise ValidationError({"unit_id": "请指定存在的单位编号"})
    activity = activities.record(
        current_user,
        unit,
        body.get("kind"),
        _date(body.get("date")),
        body.get("title"),
        body.get("attendees"),
        body.get("note", ""),
    )
    response = jsonify(activities.as_dict(activity))
    response.status_code = 201
    return response


@bp.get("/activities/<int:activity_id>")
def get_activity(activity_id: int):
    return jsonify(activities.as_dict(_activity(activity_id)))


@bp.put("/activities/<int:activity_id>")
def put_activity(activity_id: int):
    activity = _activity(activity_id)
    body = _body(FIELDS - {"unit_id", "kind"})
    activities.update(
        current_user,
        activity,
        day=_date(body.get("date", activity.day.isoformat())),
        title=body.get("title", activity.title),
        attendee_ids=body.get("attendees", [a.member_id for a in activity.attendance]),
        note=body.get("note", activity.note),
    )
    return jsonify(activities.as_dict(activity))


@bp.delete("/activities/<int:activity_id>")
def delete_activity(activity_id: int):
    activities.delete(current_user, _activity(activity_id))
    return "", 204


@bp.get("/activities/gaps")
def activity_gaps():
    unit = _led_unit(request.args.get("unit"))
    month = period_of("month", params.parse_date(request.args.get("date")))
    gaps = activities.monthly_gaps(current_user, unit, month)
    return jsonify(
        {
            "unit": {"id": unit.id, "name": unit.name},
            "month": month.key,
            "rows": [
                {
                    "unit_id": g.unit.id,
                    "name": g.unit.name,
                    "kind": g.unit.kind,
                    "activity": g.kind.code,
                    "activity_label": g.kind.label,
                    "last_held": g.last_held.isoformat() if g.last_held else None,
                }
                for g in gaps
            ],
        }
    )


@bp.get("/me/activities")
def my_activities():
    today = clock.today()
    rows = activities.attended(current_user.id, today - timedelta(days=365), today)
    return jsonify(
        [
            {
                "id": r.activity.id,
                "date": r.activity.day.isoformat(),
                "kind": r.activity.kind,
                "kind_label": r.label,
                "title": r.activity.title,
                "unit": r.unit_name,
                "points": r.points,
            }
            for r in rows
        ]
    )
