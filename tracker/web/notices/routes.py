"""The in-app inbox and reminder settings for members; templates, channels and the delivery log
for admins."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from tracker.reminders import channels, delivery, policy, templates
from tracker.services.admin import units
from tracker.services.reminders import inbox, settings
from tracker.web import params
from tracker.web.admin import picker

bp = Blueprint("notices", __name__)

STATUS_LABELS = {
    "pending": "待发送",
    "sending": "发送中",
    "sent": "已送达",
    "failed": "失败",
    "unknown": "状态不明",
}
REMINDER_LABELS = {k: d.label for k, d in templates.DEFAULTS.items()}


@bp.app_context_processor
def _unread():
    def notice_unread_count() -> int:
        if not current_user.is_authenticated:
            return 0
        return inbox.unread_count(current_user.id)

    return {"notice_unread_count": notice_unread_count}


@bp.before_request
@login_required
def _require_login():
    if request.path.startswith("/admin/") and not current_user.is_admin:
        abort(403)
    return None


# Members ------------------------------------------------------------------------------------


@bp.get("/notices")
def inbox_page():
    return render_template(
        "notices/inbox.html",
        notices=inbox.notices(current_user.id),
        unread=inbox.unread_count(current_user.id),
    )


@bp.post("/notices/read")
def mark_read():
    value = request.form.get("notice")
    inbox.mark_read(current_user.id, params.as_id(value))
    return redirect(url_for("notices.inbox_page"))


def _date(name: str) -> date | None:
    value = request.form.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise settings.SettingsError("日期格式应为 YYYY-MM-DD") from e


@bp.route("/notices/settings", methods=["GET", "POST"])
def prefs():
    error = ""
    if request.method == "POST":
        try:
            settings.save_prefs(
                current_user,
                current_user,
                opt_out=request.form.get("opt_out") == "1",
                nudge_time=request.form.get("nudge_time", "").strip() or None,
                channel=request.form.get("channel", "inapp"),
                email=request.form.get("email"),
                leave_from=_date("leave_from"),
                leave_to=_date("leave_to"),
            )
        except settings.SettingsError as e:
            error = str(e)
        else:
            flash("提醒设置已保存")
            return redirect(url_for("notices.prefs"))
    from flask import current_app

    quiet = policy.QuietHours.parse(current_app.config["QUIET_HOURS"])
    return render_template(
        "notices/prefs.html",
        prefs=settings.prefs_of(current_user),
        values=request.form if request.method == "POST" else None,
        error=error,
        quiet=quiet.label(),
        default_time=current_app.config["NUDGE_TIME"],
    ), (400 if error else 200)


# Admins -------------------------------------------------------------------------------------


@bp.get("/admin/reminders")
def admin_index():
    tree = units.tree()
    return render_template(
        "notices/admin_index.html",
        templates=[settings.template(k) for k in templates.DEFAULTS],
        channels=settings.channels_list(),
        units={u.id: u for u in tree},
        unit_field=picker.channel_units(tree),
        kind_labels=channels.KIND_LABELS,
    )


@bp.route("/admin/reminders/templates/<key>", methods=["GET", "POST"])
def admin_template(key: str):
    if key not in templates.DEFAULTS:
        abort(404)
    current = settings.template(key)
    title, body = current.title, current.body
    preview = error = None
    if request.method == "POST":
        action = request.form.get("action", "preview")
        title = request.form.get("title", "")
        body = request.form.get("body", "")
        if action == "reset":
            settings.reset_template(current_user, key)
            flash("已恢复默认模板")
            return redirect(url_for("notices.admin_template", key=key))
        try:
            if action == "save":
                settings.save_template(current_user, key, title, body)
                flash("模板已保存")
                return redirect(url_for("notices.admin_template", key=key))
            preview = templates.check(title, body, key)
        except (settings.SettingsError, templates.TemplateProblem) as e:
            error = str(e)
    else:
        try:
            preview = templates.check(title, body, key)
        except templates.TemplateProblem as e:
            error = str(e)
    return render_template(
        "notices/admin_template.html",
        t=current,
        title=title,
        body=body,
        preview=preview,
        error=error,
        sample=templates.DEFAULTS[key].sample,
    ), (400 if error and request.method == "POST" else 200)


@bp.route("/admin/reminders/channels", methods=["POST"])
@bp.route("/admin/reminders/channels/<int:channel_id>", methods=["GET", "POST"])
def admin_channel(channel_id: int | None = None):
    from tracker.extensions import db
    from tracker.models.reminders import ReminderChannel

    row = db.session.get(ReminderChannel, channel_id) if channel_id else None
    if channel_id and row is None:
        abort(404)
    error = ""
    field = picker.channel_units(units.tree())
    if request.method == "POST":
        errors: dict = {}
        unit_id = field.chosen(request.form, errors, required=False)  # none: everyone
        try:
            if errors:
                raise settings.SettingsError(errors[field.field])
            settings.save_channel(
                current_user,
                channel_id=channel_id,
                unit_id=unit_id,
                kind=request.form.get("kind", ""),
                name=request.form.get("name", ""),
                url=request.form.get("url", ""),
                secret=request.form.get("secret") or None,
                address=request.form.get("address", ""),
                enabled=request.form.get("enabled") == "1",
            )
        except settings.SettingsError as e:
            error = str(e)
        else:
            flash("渠道已保存")
            return redirect(url_for("notices.admin_index"))
    return render_template(
        "notices/admin_channel.html",
        channel=row,
        form=request.form if request.method == "POST" else None,
        error=error,
        unit_field=field,
        kinds=[k for k in channels.KINDS if k != "inapp"],
        kind_labels=channels.KIND_LABELS,
    ), (400 if error else 200)


@bp.get("/admin/reminders/log")
def admin_log():
    status = request.args.get("status") or None
    reminder = request.args.get("reminder") or None
    return render_template(
        "notices/admin_log.html",
        rows=inbox.delivery_log(status=status, reminder=reminder),
        status=status,
        reminder=reminder,
        status_labels=STATUS_LABELS,
        reminder_labels=REMINDER_LABELS,
        kind_labels=channels.KIND_LABELS,
    )


@bp.get("/admin/reminders/log/<int:delivery_id>")
def admin_delivery(delivery_id: int):
    from tracker.extensions import db
    from tracker.models.reminders import Delivery

    d = db.session.get(Delivery, delivery_id)
    if d is None:
        abort(404)
    return render_template(
        "notices/admin_delivery.html",
        d=d,
        attempts=inbox.attempts(d.id),
        status_labels=STATUS_LABELS,
        kind_labels=channels.KIND_LABELS,
    )


@bp.post("/admin/reminders/log/<int:delivery_id>/resend")
def admin_resend(delivery_id: int):
    try:
        delivery.send_again(delivery_id, current_user.id)
    except ValueError as e:
        flash(str(e))
    else:
        flash("已重新排入发送队列，下次运行该提醒时发送")
    return redirect(url_for("notices.admin_delivery", delivery_id=delivery_id))
