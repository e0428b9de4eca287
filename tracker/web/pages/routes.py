"""Mobile-first Chinese pages: today's report, my history, leaderboards."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from tracker.domain.periods import KINDS, LABELS_ZH, period_of
from tracker.domain.ranking import METRIC_LABELS_ZH, METRICS
from tracker.domain.validation import ReportInput, ValidationError
from tracker.models import Member
from tracker.services import access, activities, boards, clock, org, org_settings, reports, rules
from tracker.services.reports import Evidence
from tracker.web import params

bp = Blueprint("pages", __name__)

WEEKDAYS_ZH = "一二三四五六日"


@bp.app_template_filter("short_day")
def short_day(day, today=None) -> str:
    """``11-22 周日``, with the year when it is not this year's."""
    this_year = (today or clock.today()).year
    text = day.strftime("%m-%d") if day.year == this_year else day.isoformat()
    return f"{text} 周{WEEKDAYS_ZH[day.weekday()]}"


@bp.before_request
@login_required
def _require_login():
    return None


@bp.get("/")
def index():
    return redirect(url_for("pages.report"))


def _member_from_args() -> Member:
    return params.parse_managed_member(request.args.get("member"), current_user)


@bp.route("/report", methods=["GET", "POST"])
def report():
    today = clock.today()
    day = params.parse_date(request.values.get("date"))
    member = _member_from_args()
    version = rules.version_for(day)
    errors: dict[str, str] = {}
    values: dict = {}
    status = 200
    if request.method == "POST":
        form = request.form
        mode = form.get("mode", "total")
        values = form.to_dict()
        data = ReportInput(note=form.get("note", ""))
        if mode == "items" and version is not None:
            data.items = {c.code: form.get(f"item_{c.code}", "") for c in version.categories}
            data.total = form.get("items_total") or None
        elif mode == "cumulative":
            data.cumulative = form.get("cumulative", "")
            data.total = form.get("cum_total") or None
        else:
            data.total = form.get("total", "")
        upload = request.files.get("evidence")
        evidence = (
            Evidence(upload.filename or "", upload.read()) if upload and upload.filename else None
        )
        try:
            changed = reports.put(
                current_user, member, day, data, evidence=evidence, from_form=True
            ).changed
        except ValidationError as e:
            errors = e.errors
            status = 422
        else:
            flash(f"已保存 {day.isoformat()} 的学习积分" if changed else "内容没有变化")
            return redirect(
                url_for("pages.report", date=day.isoformat(), member=request.args.get("member"))
            )
    existing = reports.get(member.id, day)
    window = reports.backfill_days(current_user)
    earliest = today - timedelta(days=window)
    locked = reports.is_locked(day)
    previous = reports.previous_cumulative_report(member.id, day)
    return render_template(
        "report.html",
        member=member,
        day=day,
        today=today,
        earliest=earliest,
        editable=earliest <= day <= today and not locked,
        version=version,
        categories=version.categories if version else (),
        day_max=version.day_maximum(day) if version else 0,
        existing=existing,
        existing_items={i.code: i.points for i in existing.items} if existing else {},
        errors=errors,
        values=values,
        mode=values.get("mode") or (existing.form if existing else "total"),
        target=current_app.config["DAILY_TARGET"],
        evidence_enabled=org_settings.value("evidence_enabled"),
        locked=locked,
        previous_cumulative=previous,
        # The newest few unreported days within the window, as quick links.
        recent_missing=reports.unreported_days(
            member.id, max(earliest, today - timedelta(days=13)), today
        )[::-1][:7],
    ), status


def _saved_message(member: Member, day, changed: bool) -> str:
    if not changed:
        return "内容没有变化"
    saved = reports.get(member.id, day)
    target = current_app.config["DAILY_TARGET"]
    points = saved.total if saved else 0
    if points >= target:
        return f"已保存 {short_day(day)}：{points} 分，达到每日目标 {target} 分，真棒！"
    return f"已保存 {short_day(day)}：{points} 分"


@bp.app_context_processor
def _roles() -> dict:
    user = current_user
    return {"is_leader": bool(user and user.is_authenticated and access.is_leader(user))}


@bp.get("/dashboard")
def dashboard():
    """A leader's view of one unit: this week, today's reports, sub-units."""
    unit = params.parse_unit(request.args.get("unit"), lambda: access.default_unit(current_user))
    if not access.leads_unit(current_user, unit):
        raise access.Forbidden("只有本单位的负责人可以查看看板")
    today = clock.today()
    summary = boards.unit_summary(current_user, unit, today)
    return render_template(
        "dashboard.html",
        unit=unit,
        trail=org.ancestors(unit),
        summary=summary,
        subunits=boards.unit_board(current_user, period_of("week", today), unit, "avg")
        if org.children(unit)
        else [],
        today=today,
        target=current_app.config["DAILY_TARGET"],
    )


@bp.get("/history")
def history():
    member = _member_from_args()
    today = clock.today()
    rows = reports.history(member.id, today - timedelta(days=89), today)
    return render_template(
        "history.html",
        member=member,
        rows=rows,
        attended=activities.attended(member.id, today - timedelta(days=89), today),
        target=current_app.config["DAILY_TARGET"],
    )


def _period_context():
    period = params.parse_period(request.args.get("period"), request.args.get("date"))
    return {
        "period": period,
        "kinds": [(k, LABELS_ZH[k]) for k in KINDS],
        "previous_date": period.previous().start.isoformat(),
        "next_date": period.next().start.isoformat(),
        "is_current": period.contains(clock.today()),
        "period_label": period.label_zh,
        "today": clock.today(),
    }


@bp.get("/boards/members")
def member_board():
    ctx = _period_context()
    unit = params.parse_unit(request.args.get("unit"), lambda: access.default_unit(current_user))
    view = boards.member_board(current_user, ctx["period"], unit, limit=20)
    return render_template(
        "board_members.html",
        view=view,
        unit=unit,
        trail=org.ancestors(unit),
        subunits=org.children(unit),
        **ctx,
    )


@bp.get("/boards/units")
def unit_board():
    if not org_settings.value("unit_rankings_enabled"):
        return render_template(
            "error.html",
            code=404,
            title="单位排名已关闭",
            detail="本组织只记录个人学习，不排名单位。",
        ), 404
    ctx = _period_context()
    parent = params.parse_unit(request.args.get("parent"), org.root_unit, name="parent")
    if not request.args.get("parent"):
        parent = org.first_branching(parent)  # open where there is something to compare
    metric = params.parse_metric(request.args.get("metric"))
    rows = boards.unit_board(current_user, ctx["period"], parent, metric)
    return render_template(
        "board_units.html",
        rows=rows,
        parent=parent,
        trail=org.ancestors(parent),
        metric=metric,
        metrics=[(m, METRIC_LABELS_ZH[m]) for m in METRICS],
        leads=access.leads_unit(current_user, parent),
        **ctx,
    )
