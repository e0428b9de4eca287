"""JSON API routes: session cookie (with CSRF header on writes) or ``Authorization: Bearer``."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from tracker.domain.validation import ReportInput, ValidationError
from tracker.extensions import csrf
from tracker.models import Member
from tracker.services import access, boards, clock, org, org_settings, reports, rules
from tracker.web import params
from tracker.web.errors import api_login_required, problem

from .openapi import document
from .views import me_dict, rules_dict

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

PUBLIC = {"api.openapi"}


@bp.before_request
def _authenticate():
    if request.endpoint in PUBLIC:
        return None
    return api_login_required()


@bp.errorhandler(ValidationError)
def _invalid(e: ValidationError):
    return problem(422, "Unprocessable Content", e.title, e.errors)


@bp.errorhandler(HTTPException)
def _http(e: HTTPException):
    return problem(e.code or 500, e.name, e.description or "")


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


@bp.get("/me")
def me():
    return jsonify(me_dict(current_user))


@bp.get("/rules")
def get_rules():
    day = params.parse_date(request.args.get("date"))
    version = rules.version_for(day)
    if version is None:
        return problem(404, "Not Found", f"{day.isoformat()} 没有生效的积分规则")
    return jsonify(rules_dict(version, day))


def _target_member() -> Member:
    return params.parse_managed_member(request.args.get("member"), current_user)


@bp.get("/reports/<value>")
def get_report(value: str):
    day = params.parse_date(value)
    member = _target_member()
    report = reports.stored(member.id, day)
    if report is None:
        return problem(404, "Not Found", f"{day.isoformat()} 还没有填报")
    return jsonify(report.as_dict(day) | {"member_id": member.id})


@bp.put("/reports/<value>")
def put_report(value: str):
    day = params.parse_date(value)
    member = _target_member()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return problem(400, "Bad Request", "请求体应为 JSON 对象")
    unknown = set(body) - {"items", "total", "cumulative", "note", "quizzes"}
    if unknown:
        errors = {k: "未知字段" for k in sorted(unknown)}
        raise ValidationError(errors)
    data = ReportInput(
        items=body.get("items"),
        total=body.get("total"),
        cumulative=body.get("cumulative"),
        note=body.get("note", ""),
        quizzes=body.get("quizzes") or [],
    )
    via = "token" if request.headers.get("Authorization", "").startswith("Bearer ") else "web"
    member_id = member.id  # read now: the write's commit expires ``member``
    saved = reports.put(current_user, member, day, data, via=via)
    response = jsonify(saved.report | {"member_id": member_id, "changed": saved.changed})
    response.status_code = 201 if saved.created else 200
    return response


@bp.get("/leaderboards/members")
def member_leaderboard():
    period = params.parse_period(request.args.get("period"), request.args.get("date"))
    unit = params.parse_unit(request.args.get("unit"), lambda: access.default_unit(current_user))
    limit = params.parse_limit(request.args.get("limit"))
    view = boards.member_board(current_user, period, unit, limit=limit)
    return jsonify(
        {
            "period": _period_dict(period),
            "unit": {"id": unit.id, "name": unit.name},
            "full": view.full,
            "roster_size": view.roster_size,
            "daily_target": boards.rankings.period_target(1),
            "rows": [r.as_dict() for r in view.rows],
            "me": view.me.as_dict() if view.me else None,
            "neighbours": [r.as_dict() for r in view.neighbours],
            "label": "排名仅用于激励学习，不作考核依据",
        }
    )


@bp.get("/leaderboards/units")
def unit_leaderboard():
    if not org_settings.value("unit_rankings_enabled"):
        return problem(404, "Not Found", "本组织已关闭单位排名")
    period = params.parse_period(request.args.get("period"), request.args.get("date"))
    parent = params.parse_unit(request.args.get("parent"), org.root_unit, name="parent")
    metric = params.parse_metric(request.args.get("metric"))
    return jsonify(
        {
            "period": _period_dict(period),
            "parent": {"id": parent.id, "name": parent.name},
            "metric": metric,
            "rows": boards.unit_board(current_user, period, parent, metric),
            "label": "排名仅用于激励学习，不作考核依据",
        }
    )


def _period_dict(period) -> dict:
    return {
        "kind": period.kind,
        "key": period.key,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "today": clock.today().isoformat(),
    }
