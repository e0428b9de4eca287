"""API for the organisation's privacy settings and a member's own anonymity choice."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from tracker.domain.validation import ValidationError
from tracker.services import org_settings

from .routes import bp


def _json_object() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError({"body": "请求体应为 JSON 对象"})
    return body


@bp.get("/settings")
def get_settings():
    return jsonify(org_settings.values())


@bp.put("/settings")
def put_settings():
    return jsonify(org_settings.save(current_user, _json_object()))


@bp.get("/me/privacy")
def get_privacy():
    return jsonify({"anonymous_on_boards": org_settings.is_anonymous(current_user.id)})


@bp.put("/me/privacy")
def put_privacy():
    body = _json_object()
    unknown = set(body) - {"anonymous_on_boards"}
    if unknown or "anonymous_on_boards" not in body:
        raise ValidationError(
            {k: "未知字段" for k in sorted(unknown)} or {"anonymous_on_boards": "必填"}
        )
    org_settings.set_anonymous(current_user, current_user, body["anonymous_on_boards"])
    return jsonify({"anonymous_on_boards": org_settings.is_anonymous(current_user.id)})
