"""Charts (PNG/SVG/PDF with ETag and 304), ranking exports (XLSX/CSV) and the quarterly review.

Every download answers at two addresses, ``/charts/…`` for pages (session cookie) and
``/api/v1/charts/…`` for API clients (session or Bearer token), with the boards' access rules:
anyone logged in sees what the boards would show them; leader versions only for leaders of
that subtree.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from tracker import charts, serving
from tracker.charts import data as chart_data
from tracker.domain.validation import ValidationError
from tracker.models import Member
from tracker.services import access, clock, exports, org, org_settings, review
from tracker.web import downloads, params
from tracker.web.errors import problem

bp = Blueprint("charts", __name__)

CHART_ROUTES = ("/charts", "/api/v1/charts")
EXPORT_ROUTES = ("/exports", "/api/v1/exports")


def _api() -> bool:
    return request.path.startswith("/api/")


@bp.before_request
def _authenticate():
    if current_user.is_authenticated:
        return None
    if _api():
        return problem(401, "Unauthorized", "请登录，或在 Authorization 头中提供 Bearer 令牌")
    return current_app.login_manager.unauthorized()


def _error(status: int, title: str, detail: str, errors: dict | None = None):
    if _api():
        return problem(status, title, detail, errors)
    return render_template("error.html", code=status, title=title, detail=detail), status


@bp.errorhandler(ValidationError)
def _invalid(e: ValidationError):
    return _error(422, e.title, "；".join(e.errors.values()), e.errors)


def _format(fmt: str, allowed) -> str:
    if fmt not in allowed:
        raise params.BadParam("format", f"格式应为 {'、'.join(allowed)} 之一")
    return fmt


def _viewer(unit):
    """Who the chart is drawn for: ``audience=public`` for the shareable version."""
    audience = request.args.get("audience", "")
    if audience == "public":
        return chart_data.PUBLIC
    if audience == "leader" and not access.leads_unit(current_user, unit):
        raise access.Forbidden("领导版只对本单位的书记和管理员开放")
    if audience not in ("", "leader"):
        raise params.BadParam("audience", "audience 应为 leader 或 public")
    return current_user


def _unit_rankings_enabled() -> None:
    if not org_settings.value("unit_rankings_enabled"):
        abort(404, description="本组织已关闭单位排名")


def _send_chart(chart, fmt: str, name: str) -> Response:
    """Answer 304 when the client has this chart's data already; otherwise draw it."""
    etag = f"{chart_data.fingerprint(chart)[:40]}-{fmt}-v{chart_data.VERSION}"
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        if fmt == "pdf":  # fontTools subsets the CJK font: memory a worker would keep
            data = serving.in_child(partial(charts.render, chart, fmt))
        else:
            data = charts.render(chart, fmt)
        response = Response(data, mimetype=charts.FORMATS[fmt])
        response.headers["Content-Disposition"] = downloads.disposition(
            f"{name}.{fmt}", attachment=bool(request.args.get("download"))
        )
        serving.collect_when_sent(response)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.update(("Cookie", "Authorization"))
    return response


def _routes(prefixes, rule: str, **kwargs):
    def decorate(view):
        for prefix in prefixes:
            bp.add_url_rule(f"{prefix}{rule}", view_func=view, **kwargs)
        return view

    return decorate


@_routes(CHART_ROUTES, "/units.<fmt>")
def unit_chart(fmt: str):
    _unit_rankings_enabled()
    fmt = _format(fmt, charts.FORMATS)
    period = params.parse_period(request.args.get("period"), request.args.get("date"))
    parent = params.parse_unit(request.args.get("parent"), org.root_unit, name="parent")
    metric = params.parse_metric(request.args.get("metric"))
    chart = charts.unit_chart(_viewer(parent), period, parent, metric)
    return _send_chart(chart, fmt, f"单位学习报表-{parent.name}-{period.key}")


@_routes(CHART_ROUTES, "/members.<fmt>")
def member_chart(fmt: str):
    fmt = _format(fmt, charts.FORMATS)
    period = params.parse_period(request.args.get("period"), request.args.get("date"))
    unit = params.parse_unit(request.args.get("unit"), lambda: access.default_unit(current_user))
    limit = params.parse_limit(request.args.get("limit"), default=10, maximum=50)
    chart = charts.member_chart(_viewer(unit), period, unit, limit)
    return _send_chart(chart, fmt, f"个人学习榜-{unit.name}-{period.key}")


@_routes(CHART_ROUTES, "/trend.<fmt>")
def trend_chart(fmt: str):
    fmt = _format(fmt, charts.FORMATS)
    day = params.parse_date(request.args.get("date"))
    weeks = params.parse_limit(request.args.get("weeks"), default=12, maximum=53)
    value = request.args.get("member")
    if value:
        member_id = params.as_id(value)
        member = org.db.session.get(Member, member_id) if member_id is not None else None
        if member is None:
            raise params.BadParam("member", f"没有编号为“{value}”的党员")
        access.require_manage_member(current_user, member)
        chart = charts.member_trend(member, day, weeks)
        return _send_chart(chart, fmt, f"学习趋势-{member.name}")
    unit = params.parse_unit(request.args.get("unit"), lambda: access.default_unit(current_user))
    chart = charts.unit_trend(unit, day, weeks)
    return _send_chart(chart, fmt, f"学习趋势-{unit.name}")


@_routes(EXPORT_ROUTES, "/members.<fmt>")
def export_members(fmt: str):
    fmt = _format(fmt, exports.FORMATS)
    period = params.parse_period(request.args.get("period"), request.args.get("date"))
    unit = params.parse_unit(request.args.get("unit"), lambda: access.default_unit(current_user))
    viewer = current_user._get_current_object()
    return downloads.send_ranking(partial(exports.member_table, viewer, period, unit), fmt)


@_routes(EXPORT_ROUTES, "/units.<fmt>")
def export_units(fmt: str):
    _unit_rankings_enabled()
    fmt = _format(fmt, exports.FORMATS)
    period = params.parse_period(request.args.get("period"), request.args.get("date"))
    parent = params.parse_unit(request.args.get("parent"), org.root_unit, name="parent")
    metric = params.parse_metric(request.args.get("metric"))
    viewer = current_user._get_current_object()
    return downloads.send_ranking(partial(exports.unit_table, viewer, period, parent, metric), fmt)


def _review_args():
    unit = params.parse_unit(request.values.get("unit"), lambda: access.default_unit(current_user))
    key = request.values.get("quarter") or clock.today().isoformat()
    try:
        quarter = review.parse_quarter(key) if "Q" in key else None
    except ValidationError as e:
        raise params.BadParam("quarter", e.errors["quarter"]) from None
    if quarter is None:
        quarter = params.parse_period("quarter", key)
    return unit, quarter


def _stamp() -> str:
    now = datetime.now(ZoneInfo(current_app.config["TIMEZONE"]))
    return f"生成于 {now:%Y-%m-%d %H:%M}"


@bp.get("/review/quarterly")
def quarterly_review():
    unit, quarter = _review_args()
    public = request.args.get("audience") == "public"
    r = review.build(current_user, unit, quarter, public=public)
    return render_template(
        "charts/review.html",
        review=r,
        unit=unit,
        quarter=quarter,
        previous=quarter.previous().key,
        following=quarter.next().key,
        public=public,
        trend_weeks=review.trend_weeks(quarter),
        suggested=[m for m in r.members if m.member_id and m.member_id not in r.awards][:3],
        stamp=_stamp(),
    )


@bp.get("/review/quarterly.pdf")
@bp.get("/api/v1/reviews/quarterly.pdf")
def quarterly_review_pdf():
    unit, quarter = _review_args()
    viewer, public, stamp = (
        current_user._get_current_object(),
        request.args.get("audience") == "public",
        _stamp(),
    )

    def pdf() -> bytes:
        # In a child process: the whole roster ranked and the CJK font subset take memory
        # that a worker would keep (serving.in_child). matplotlib's PDF backend and the
        # review's layout (about 10 MB) are loaded there too, not in the worker.
        from tracker.charts import review_pdf

        r = review.build(viewer, unit, quarter, public=public)
        trend = charts.unit_trend(unit, quarter.end, review.trend_weeks(quarter))
        return review_pdf.render_review(r, trend, stamp)

    response = serving.collect_when_sent(
        Response(serving.in_child(pdf), mimetype="application/pdf")
    )
    name = f"{unit.name}-{quarter.key}-季度学习讲评.pdf"
    response.headers["Content-Disposition"] = downloads.disposition(name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/review/quarterly/comment")
@login_required
def quarterly_comment():
    unit, quarter = _review_args()
    review.save_comment(current_user, unit, quarter, request.form.get("comment", ""))
    flash("讲评已保存")
    return redirect(url_for("charts.quarterly_review", unit=unit.id, quarter=quarter.key))


@bp.post("/review/quarterly/redeem")
@login_required
def quarterly_redeem():
    unit, quarter = _review_args()
    awards: dict[int, int] = {}
    errors: dict[str, str] = {}
    for key, value in request.form.items():
        if key.startswith("award_") and value.strip():
            member_id = key.removeprefix("award_")
            if not member_id.isdigit() or not value.strip().isdigit():
                errors[f"awards.{member_id}"] = "奖励积分应为正整数"
            else:
                awards[int(member_id)] = int(value)
    if errors:
        raise ValidationError(errors, "兑现的内容有误")
    given = review.redeem(current_user, unit, quarter, awards, request.form.get("reason", ""))
    flash(f"已兑现 {len(given)} 名党员的奖励积分")
    return redirect(url_for("charts.quarterly_review", unit=unit.id, quarter=quarter.key))
