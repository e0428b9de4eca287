"""Admin pages under /admin: admins see everything, leaders manage members and awards of the
subtrees they lead. Server-rendered; every form carries a CSRF token; confirmations are
in the page (a ``<details>`` step), never a JavaScript dialog."""

from __future__ import annotations

import json

from flask import Blueprint, abort, make_response, render_template, request
from flask_login import current_user, login_required

from tracker.services import access

from .values import MAX_INT

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _require_leader():
    if not access.is_leader(current_user):
        abort(403)
    if any(isinstance(v, int) and v > MAX_INT for v in (request.view_args or {}).values()):
        abort(404)
    return None


def require_admin() -> None:
    if not current_user.is_admin:
        raise access.Forbidden("只有管理员可以打开这个页面")


def no_store(rendered):
    """For pages that show a secret once (a new password or token)."""
    response = make_response(rendered)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_template_filter("tojson_pretty")
def tojson_pretty(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)


@bp.app_template_filter("set_key")
def set_key(args: dict, key: str, value) -> dict:
    return {**args, key: value}


@bp.app_template_filter("reject_key")
def reject_key(args: dict, key: str) -> dict:
    return {k: v for k, v in args.items() if k not in (key, "page")}


@bp.get("")
def index():
    return render_template("admin/index.html")


from . import org_pages, system_pages  # noqa: E402,F401  (routes on this blueprint)
