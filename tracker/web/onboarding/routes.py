"""Account activation for members (no login needed) and the leaders' onboarding page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user

from tracker import security
from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import Member
from tracker.services import access, clock, exports, onboarding, org
from tracker.web import downloads, params

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
    return _pending_page(_unit(), issued=None)


def _pending_page(unit, issued):
    return render_template(
        "onboarding/pending.html",
        unit=unit,
        trail=org.ancestors(unit),
        children=org.children(unit),
        listing=onboarding.pending(
            current_user, unit, page=params.parse_page(request.values.get("page"))
        ),
        page_size=onboarding.PAGE,
        issued=issued,
    )


@bp.post("/onboarding/issue")
@login_required
def issue():
    unit = _unit()
    every = request.form.get("all") == "1"
    if every:
        rows = onboarding.pending_all(current_user, unit)
        members = [m for m, _ in rows]
        units = {m.id: u.name for m, u in rows}  # read now: the write's commit expires them
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
    links = [
        (i, url_for("onboarding.activate_link", token=i.link_token, _external=True)) for i in issued
    ]
    if every and len(issued) > onboarding.PAGE:  # more than a page shows: a sheet to hand out
        return _codes_sheet(unit, [(i, units[i.member_id], url) for i, url in links])
    return _pending_page(unit, issued=links)


CODE_COLUMNS = [
    exports.Column("姓名", "name", 12),
    exports.Column("单位", "unit", 28),
    exports.Column("激活码", "code", 12),
    exports.Column("有效期至", "expires", 12),
    exports.Column("邀请链接", "link", 60),
]


def _codes_sheet(unit, issued):
    """The codes just issued, one row a member by unit, as a sheet: shown once, like the page."""
    table = exports.Table(
        f"{unit.name} 激活码 {clock.today().isoformat()}",
        CODE_COLUMNS,
        [
            {
                "name": i.name,
                "unit": unit_name,
                "code": i.code,
                "expires": i.expires_at.strftime("%Y-%m-%d"),
                "link": url,
            }
            for i, unit_name, url in issued
        ],
        note="激活码只在此表中出现一次，请逐一转交本人；此前发放的激活码已作废",
        sheet="激活码",
    )
    return downloads.send_table(table, "xlsx")
