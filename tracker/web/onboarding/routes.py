"""Account activation for members (no login needed) and the leaders' onboarding page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user

from tracker import security
from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import Member
from tracker.services import access, onboarding, org
from tracker.web import params

bp = Blueprint("onboarding", __name__)


# Members ---------------------------------------------------------------------------------------


@bp.route("/activate", methods=["GET", "POST"])
def activate():
    return _activate(link="")


@bp.route("/activate/<token>", methods=["GET", "POST"])
def activate_link(token: str):
    return _activate(link=token)


def _activate(link: str):
    invitation = onboarding.invitation_for_link(link) if link else None
    if link and invitation is None and request.method == "GET":
        return render_template(
            "error.html",
            code=404,
            title="邀请链接已失效",
            detail="链接已使用或已过期，请向党支部负责人索取新的激活码。",
        ), 404
    member = db.session.get(Member, invitation.member_id) if invitation else None
    errors: dict[str, str] = {}
    status = 200
    form = request.form
    if request.method == "POST":
        try:
            activated = onboarding.activate(
                address=security.client_address(),
                name=form.get("name", ""),
                code=form.get("code", ""),
                link=link,
                login=form.get("login", ""),
                password=form.get("password", ""),
                confirm=form.get("confirm", ""),
            )
        except security.TooManyAttempts:
            errors["form"] = "尝试次数过多，请 15 分钟后再试"
            status = 429
        except onboarding.ActivationError as e:
            errors["form"] = str(e)
            status = 400
        except ValidationError as e:
            errors = e.errors
            status = 422
        else:
            login_user(activated, remember=True)
            flash(f"欢迎，{activated.name}！账号已激活，登录账号为“{activated.login}”")
            return redirect(url_for("pages.report"))
    return render_template(
        "onboarding/activate.html",
        link=link,
        member=member,
        values=form,
        errors=errors,
        min_password=onboarding.MIN_PASSWORD,
    ), status


# Leaders ---------------------------------------------------------------------------------------


def _unit():
    unit = params.parse_unit(request.values.get("unit"), lambda: access.default_unit(current_user))
    if not access.leads_unit(current_user, unit):
        raise access.Forbidden("只能查看本人所领导单位的党员")
    return unit


@bp.get("/onboarding")
@login_required
def pending():
    unit = _unit()
    return render_template(
        "onboarding/pending.html",
        unit=unit,
        trail=org.ancestors(unit),
        rows=onboarding.pending(current_user, unit),
        issued=None,
    )


@bp.post("/onboarding/issue")
@login_required
def issue():
    unit = _unit()
    if request.form.get("all") == "1":
        members = [p.member for p in onboarding.pending(current_user, unit)]
    else:
        ids = [int(v) for v in request.form.getlist("member") if v.isdigit()]
        if not ids:
            abort(400)
        members = onboarding.members_by_id(current_user, ids)
    try:
        issued = onboarding.issue_many(current_user, members)
    except ValidationError as e:
        flash("；".join(e.errors.values()))
        return redirect(url_for("onboarding.pending", unit=unit.id))
    return render_template(
        "onboarding/pending.html",
        unit=unit,
        trail=org.ancestors(unit),
        rows=onboarding.pending(current_user, unit),
        issued=[
            (i, url_for("onboarding.activate_link", token=i.link_token, _external=True))
            for i in issued
        ],
    )
