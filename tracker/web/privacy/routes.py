"""Privacy pages: a member's own choice to appear anonymously, the organisation's settings."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from tracker.domain.validation import ValidationError
from tracker.services import access, org_settings

bp = Blueprint("privacy", __name__)


@bp.app_context_processor
def _settings() -> dict:
    return {"org_setting": org_settings.value}


@bp.before_request
@login_required
def _require_login():
    return None


@bp.route("/settings/privacy", methods=["GET", "POST"])
def member_privacy():
    if request.method == "POST":
        org_settings.set_anonymous(current_user, current_user, request.form.get("anonymous") == "1")
        flash("隐私设置已保存")
        return redirect(url_for("privacy.member_privacy"))
    return render_template(
        "privacy/member.html",
        anonymous=org_settings.is_anonymous(current_user.id),
        anonymous_name=org_settings.ANONYMOUS_NAME,
    )


@bp.route("/settings/organisation", methods=["GET", "POST"])
def organisation():
    if not current_user.is_admin:
        raise access.Forbidden("只有管理员可以修改组织设置")
    errors: dict[str, str] = {}
    if request.method == "POST":
        changes = {key: request.form.get(key) == "1" for key in org_settings.SETTINGS}
        try:
            org_settings.save(current_user, changes)
        except ValidationError as e:
            errors = e.errors
        else:
            flash("组织设置已保存")
            return redirect(url_for("privacy.organisation"))
    return render_template(
        "privacy/organisation.html",
        settings=org_settings.SETTINGS.values(),
        values=org_settings.values(),
        errors=errors,
    ), (422 if errors else 200)
