"""API for onboarding: leaders issue activation codes; members activate (no login needed)."""

from __future__ import annotations

from flask import jsonify, request, url_for
from flask_login import current_user

from tracker import security
from tracker.domain.validation import ValidationError
from tracker.services import access, onboarding
from tracker.web import params
from tracker.web.errors import problem

from .routes import PUBLIC, bp

PUBLIC.add("api.activate")


def _body(allowed: set[str]) -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError({"body": "请求体应为 JSON 对象"})
    unknown = set(body) - allowed
    if unknown:
        raise ValidationError({k: "未知字段" for k in sorted(unknown)})
    return body


@bp.get("/onboarding/pending")
def onboarding_pending():
    unit = params.parse_unit(request.args.get("unit"), lambda: access.default_unit(current_user))
    listing = onboarding.pending(
        current_user, unit, page=params.parse_page(request.args.get("page"))
    )
    return jsonify(
        {
            "unit": {"id": unit.id, "name": unit.name},
            "total": listing.total,
            "page": listing.page,
            "more": listing.more,
            "rows": [
                {
                    "member_id": p.member.id,
                    "name": p.member.name,
                    "unit": p.unit.name,
                    "invitation_expires_at": p.expires_at.isoformat() if p.expires_at else None,
                }
                for p in listing.rows
            ],
        }
    )


@bp.post("/onboarding/invitations")
def onboarding_issue():
    ids = _body({"member_ids"}).get("member_ids")
    if not isinstance(ids, list) or not ids or not all(type(i) is int for i in ids):
        raise ValidationError({"member_ids": "请提供党员编号的列表"})
    issued = onboarding.issue_many(current_user, onboarding.members_by_id(current_user, ids))
    response = jsonify(
        [
            {
                "member_id": i.member_id,
                "name": i.name,
                "code": i.code,
                "link": url_for("onboarding.activate_link", token=i.link_token, _external=True),
                "expires_at": i.expires_at.isoformat(),
            }
            for i in issued
        ]
    )
    response.status_code = 201
    return response


@bp.post("/activate")
def activate():
    body = _body({"name", "code", "link", "login", "password"})
    values = {k: body.get(k, "") for k in ("name", "code", "link", "login", "password")}
    if not all(isinstance(v, str) for v in values.values()):
        raise ValidationError(
            {k: "应为字符串" for k, v in values.items() if not isinstance(v, str)}
        )
    try:
        member = onboarding.activate(
            address=security.client_address(), confirm=values["password"], **values
        )
    except security.TooManyAttempts:
        return problem(429, "Too Many Requests", "尝试次数过多，请 15 分钟后再试")
    except onboarding.ActivationError as e:
        return problem(400, "Activation failed", str(e))
    return jsonify({"id": member.id, "name": member.name, "login": member.login})
