"""API for fair-play flags: leaders of the member's subtree and admins only."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from tracker.domain.validation import ValidationError
from tracker.services import access, fairplay
from tracker.web import params

from .routes import bp


@bp.get("/flags")
def list_flags():
    if not access.is_leader(current_user):
        raise access.Forbidden("只有单位负责人可以查看提示")
    unit = params.parse_unit(request.args.get("unit"), lambda: access.default_unit(current_user))
    rows = fairplay.visible(current_user, unit, request.args.get("status", "open"))
    return jsonify(
        {"unit": {"id": unit.id, "name": unit.name}, "rows": [r.as_dict() for r in rows]}
    )


@bp.post("/flags/<int:flag_id>/review")
def review_flag(flag_id: int):
    body = request.get_json(silent=True)
    if body is None:
        body = {}
    if not isinstance(body, dict) or set(body) - {"note"}:
        raise ValidationError({"body": "请求体应为 JSON 对象，只含 note"})
    flag = fairplay.review(current_user, flag_id, body.get("note", ""))
    return jsonify({"id": flag.id, "reviewed": True, "review_note": flag.review_note})
