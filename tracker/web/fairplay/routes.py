"""Leaders' page of fair-play flags in their subtree, and marking a flag reviewed."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from tracker.domain.validation import ValidationError
from tracker.services import access, fairplay, org
from tracker.web import params

bp = Blueprint("fairplay", __name__, url_prefix="/flags")

STATUS_LABELS = {"open": "待核实", "reviewed": "已核实", "all": "全部"}


@bp.before_request
@login_required
def _require_leader():
    if not access.is_leader(current_user):
        raise access.Forbidden("只有单位负责人可以查看提示")
    return None


@bp.get("")
def index():
    unit = params.parse_unit(request.args.get("unit"), lambda: access.default_unit(current_user))
    status = request.args.get("status", "open")
    if status not in STATUS_LABELS:
        raise params.BadParam("status", "状态只能是 open、reviewed 或 all")
    return render_template(
        "fairplay/index.html",
        unit=unit,
        trail=org.ancestors(unit),
        rows=fairplay.visible(current_user, unit, status),
        status=status,
        statuses=STATUS_LABELS,
    )


@bp.post("/<int:flag_id>/review")
def review(flag_id: int):
    try:
        fairplay.review(current_user, flag_id, request.form.get("note", ""))
    except ValidationError as e:
        flash("；".join(e.errors.values()))
    else:
        flash("已标记为核实")
    return redirect(url_for("fairplay.index", unit=request.form.get("unit") or None))
