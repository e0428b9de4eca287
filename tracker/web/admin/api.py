"""Admin JSON API under /api/v1/admin: session cookie (with X-CSRFToken on writes) or Bearer."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from tracker.domain.validation import ValidationError
from tracker.extensions import csrf
from tracker.models import Member
from tracker.services import access, adjustments, imports, org
from tracker.services.admin import audit_log, leaders, locks, members, rules, units
from tracker.services.rules import version_dict
from tracker.web.errors import api_login_required, problem

from . import values

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")
csrf.exempt(bp)

MAX_UPLOAD = 20 * 1024 * 1024


@bp.before_request
def _authenticate():
    refused = api_login_required()
    if refused is not None:
        return refused
    if not access.is_leader(current_user):
        return problem(403, "Forbidden", "只有管理员或单位负责人可以使用管理接口")
    if any(isinstance(v, int) and v > values.MAX_INT for v in (request.view_args or {}).values()):
        return problem(404, "Not Found", "没有这条记录")
    return None


@bp.errorhandler(ValidationError)
def _invalid(e: ValidationError):
    return problem(422, "Unprocessable Content", e.title, e.errors)


@bp.errorhandler(imports.TableError)
def _bad_table(e: imports.TableError):
    return problem(422, "Unprocessable Content", str(e), {"file": str(e)})


@bp.errorhandler(HTTPException)
def _http(e: HTTPException):
    return problem(e.code or 500, e.name, e.description or "")


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError({"body": "请求体应为 JSON 对象"})
    return body


def _checked(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


# Units --------------------------------------------------------------------------------------


@bp.get("/units")
def list_units():
    _admin()
    return jsonify({"units": [units.unit_dict(u) for u in units.tree()]})


@bp.post("/units")
def create_unit():
    body, errors = _body(), {}
    parent = values.integer(body.get("parent"), "parent", errors, required=False)
    _checked(errors)
    unit = units.create(
        current_user, values.text(body.get("name")), values.text(body.get("kind")), parent
    )
    return jsonify(units.unit_dict(unit)), 201


@bp.patch("/units/<int:unit_id>")
def rename_unit(unit_id: int):
    body = _body()
    kind = body.get("kind")
    unit = units.rename(
        current_user,
        unit_id,
        values.text(body.get("name")),
        values.text(kind) if kind is not None else None,
    )
    return jsonify(units.unit_dict(unit))


@bp.post("/units/<int:unit_id>/move")
def move_unit(unit_id: int):
    body, errors = _body(), {}
    parent = values.integer(body.get("parent"), "parent", errors)
    _checked(errors)
    return jsonify(units.unit_dict(units.move(current_user, unit_id, parent)))


@bp.post("/units/<int:unit_id>/retire")
def retire_unit(unit_id: int):
    body, errors = _body(), {}
    day = values.day(body.get("date"), "date", errors)
    _checked(errors)
    return jsonify(units.unit_dict(units.retire(current_user, unit_id, day)))


def _leaders_json(unit, leaders) -> dict:
    return {
        "unit": {"id": unit.id, "name": unit.name},
        "leaders": [{"id": m.id, "name": m.name, "login": m.login} for m in leaders],
    }


@bp.get("/units/<int:unit_id>/leaders")
def unit_leaders(unit_id: int):
    return jsonify(_leaders_json(*leaders.leaders_of(current_user, unit_id)))


@bp.post("/units/<int:unit_id>/leaders")
def appoint_leader(unit_id: int):
    body, errors = _body(), {}
    member_id = values.integer(body.get("member"), "member", errors)
    _checked(errors)
    leaders.appoint(current_user, unit_id, member_id)
    return jsonify(_leaders_json(*leaders.leaders_of(current_user, unit_id))), 201


@bp.post("/units/<int:unit_id>/leaders/remove")
def remove_leader(unit_id: int):
    body, errors = _body(), {}
    member_id = values.integer(body.get("member"), "member", errors)
    _checked(errors)
    leaders.remove(current_user, unit_id, member_id)
    return jsonify(_leaders_json(*leaders.leaders_of(current_user, unit_id)))


def _admin() -> None:
    if not current_user.is_admin:
        raise access.Forbidden("只有管理员可以使用该接口")


# Members ------------------------------------------------------------------------------------


@bp.get("/members")
def list_members():
    errors: dict = {}
    unit_id = values.integer(request.args.get("unit"), "unit", errors, required=False)
    page = values.integer(request.args.get("page"), "page", errors, required=False) or 1
    _checked(errors)
    unit = units.db.session.get(units.Unit, unit_id) if unit_id else None
    rows, more = members.listing(current_user, unit=unit, q=request.args.get("q", ""), page=page)
    return jsonify({"members": [members.member_dict(m, u) for m, u in rows], "more": more})


@bp.post("/members")
def create_member():
    body, errors = _body(), {}
    unit_id = values.integer(body.get("unit"), "unit", errors)
    active_from = values.day(body.get("active_from"), "active_from", errors)
    _checked(errors)
    member = members.create(
        current_user,
        name=values.text(body.get("name")),
        unit_id=unit_id,
        active_from=active_from,
        login=values.text(body.get("login")) or None,
        retired=body.get("retired") is True,
    )
    return jsonify(_member_json(member)), 201


def _member_json(member: Member) -> dict:
    return members.member_dict(member, org.current_unit(member))


@bp.get("/members/<int:member_id>")
def get_member(member_id: int):
    member = members.get_managed(current_user, member_id)
    return jsonify(
        _member_json(member)
        | {
            "memberships": [
                {
                    "unit": {"id": u.id, "name": u.name},
                    "from": m.valid_from.isoformat(),
                    "to": m.valid_to.isoformat() if m.valid_to else None,
                }
                for m, u in members.history(member)
            ],
            "leads": [{"id": u.id, "name": u.name} for u in org.led_units(member)],
        }
    )


@bp.post("/members/<int:member_id>/move")
def move_member(member_id: int):
    body, errors = _body(), {}
    unit_id = values.integer(body.get("unit"), "unit", errors)
    day = values.day(body.get("date"), "date", errors)
    _checked(errors)
    members.move(current_user, member_id, unit_id, day)
    return jsonify(_member_json(members.get_managed(current_user, member_id)))


@bp.post("/members/<int:member_id>/leave")
def leave_member(member_id: int):
    body, errors = _body(), {}
    day = values.day(body.get("date"), "date", errors, required=False)
    _checked(errors)
    members.set_leaving(current_user, member_id, day)
    return jsonify(_member_json(members.get_managed(current_user, member_id)))


@bp.post("/members/<int:member_id>/password")
def reset_password(member_id: int):
    password = members.reset_password(current_user, member_id)
    return _no_store(jsonify({"member_id": member_id, "password": password}))


@bp.post("/members/<int:member_id>/token")
def issue_token(member_id: int):
    token = members.issue_token(current_user, member_id)
    return _no_store(jsonify({"member_id": member_id, "token": token}))


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# Rules --------------------------------------------------------------------------------------


def _version_json(row) -> dict:
    return {"id": row.id, "editable": rules.editable(row)} | version_dict(row.to_domain())


@bp.get("/rules")
def list_rules():
    _admin()
    return jsonify({"versions": [_version_json(v) for v in rules.all_versions()]})


@bp.post("/rules")
def start_rules():
    body, errors = _body(), {}
    day = values.day(body.get("valid_from"), "valid_from", errors)
    _checked(errors)
    row = rules.start_version(current_user, day, values.text(body.get("name")))
    return jsonify(_version_json(row)), 201


@bp.patch("/rules/<int:version_id>")
def edit_rules(version_id: int):
    body = _body()
    changes = body.get("categories")
    if not isinstance(changes, dict) or not all(isinstance(v, dict) for v in changes.values()):
        raise ValidationError({"categories": "应为 {类别代码: {daily_cap, weekly_cap, weekdays}}"})
    row = rules.update_categories(current_user, version_id, changes)
    return jsonify(_version_json(row))


@bp.delete("/rules/<int:version_id>")
def delete_rules(version_id: int):
    rules.delete_version(current_user, version_id)
    return jsonify({"deleted": version_id})


# Locks --------------------------------------------------------------------------------------


@bp.get("/locks")
def list_locks():
    _admin()
    return jsonify({"locks": [locks.lock_dict(lock) for lock in locks.all_locks()]})


@bp.post("/locks")
def create_lock():
    body, errors = _body(), {}
    day = values.day(body.get("date"), "date", errors)
    _checked(errors)
    lock = locks.lock_period(
        current_user, values.text(body.get("kind")), day, values.text(body.get("reason"))
    )
    return jsonify(locks.lock_dict(lock)), 201


@bp.post("/locks/<int:lock_id>/unlock")
def unlock(lock_id: int):
    body = _body()
    locks.unlock(current_user, lock_id, values.text(body.get("reason")))
    return jsonify({"unlocked": lock_id})


# Awards and deductions ----------------------------------------------------------------------


@bp.get("/adjustments")
def list_adjustments():
    from tracker.services.admin import awards

    return jsonify(
        {
            "adjustments": [
                {
                    "id": a.id,
                    "member": {"id": m.id, "name": m.name},
                    "date": a.day.isoformat(),
                    "points": a.points,
                    "reason": a.reason,
                    "given_by": giver,
                }
                for a, m, giver in awards.recent(current_user, limit=100)
            ]
        }
    )


@bp.post("/adjustments")
def give():
    body, errors = _body(), {}
    member_id = values.integer(body.get("member"), "member", errors)
    day = values.day(body.get("date"), "date", errors)
    points = values.integer(body.get("points"), "points", errors)
    _checked(errors)
    member = units.db.session.get(Member, member_id)
    if member is None:
        raise ValidationError({"member": f"没有编号为 {member_id} 的党员"})
    row = adjustments.give(current_user, member, day, points, values.text(body.get("reason")))
    return jsonify(
        {
            "id": row.id,
            "member_id": member.id,
            "date": row.day.isoformat(),
            "points": row.points,
            "reason": row.reason,
        }
    ), 201


# Audit log ----------------------------------------------------------------------------------


@bp.get("/audit")
def audit():
    filters, page = audit_filters(request.args)
    rows, more = audit_log.search(current_user, filters, page)
    return jsonify({"entries": [r.as_dict() for r in rows], "page": page, "more": more})


def audit_filters(args) -> tuple[audit_log.Filters, int]:
    errors: dict = {}
    filters = audit_log.Filters(
        member_id=values.integer(args.get("member"), "member", errors, required=False),
        unit_id=values.integer(args.get("unit"), "unit", errors, required=False),
        actor_id=values.integer(args.get("actor"), "actor", errors, required=False),
        kind=(args.get("kind") or "").strip() or None,
        start=values.day(args.get("start"), "start", errors, required=False),
        end=values.day(args.get("end"), "end", errors, required=False),
    )
    page = values.integer(args.get("page"), "page", errors, required=False) or 1
    _checked(errors)
    return filters, page


# Imports ------------------------------------------------------------------------------------


def _kind(kind: str) -> str:
    _admin()
    if kind not in imports.KINDS:
        raise ValidationError({"kind": f"导入类型应为 {'、'.join(imports.KINDS)} 之一"})
    return kind


def _upload() -> tuple[str, bytes]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError({"file": "请上传文件（表单字段 file）"})
    data = upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise ValidationError({"file": f"文件不能超过 {MAX_UPLOAD // 1024 // 1024} MB"})
    return upload.filename, data


@bp.post("/imports/<kind>/preview")
def import_preview(kind: str):
    kind = _kind(kind)
    filename, data = _upload()
    result = imports.preview(kind, filename, data, current_user)
    return jsonify(result.as_dict() | {"sha256": _sha256(data)})


@bp.post("/imports/<kind>/commit")
def import_commit(kind: str):
    kind = _kind(kind)
    filename, data = _upload()
    expected = request.form.get("sha256")
    if expected and expected != _sha256(data):
        raise ValidationError({"sha256": "文件与预览时的不一致，请重新预览"})
    try:
        result = imports.commit(kind, filename, data, current_user)
    except imports.ImportRejected as e:
        return problem(
            422,
            "Unprocessable Content",
            str(e),
            {"file": str(e)},
            result=e.result.as_dict(),
        )
    return jsonify(result.as_dict()), 201


@bp.get("/imports/<kind>/template")
def import_template(kind: str):
    from flask import Response

    kind = _kind(kind)
    fmt = request.args.get("format", "xlsx")
    if fmt not in imports.FORMATS:
        raise ValidationError({"format": "格式应为 xlsx 或 csv"})
    return _template_response(kind, fmt, Response)


def _template_response(kind: str, fmt: str, response_class):
    from urllib.parse import quote

    mime = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }[fmt]
    name = f"{imports.LABELS[kind]}导入模板.{fmt}"
    response = response_class(imports.template(kind, fmt), mimetype=mime)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{kind}-template.{fmt}\"; filename*=UTF-8''{quote(name)}"
    )
    return response


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
