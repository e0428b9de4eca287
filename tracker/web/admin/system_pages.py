"""Admin pages for rule versions, period locks, the audit log and imports (admins only)."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker.domain.rules import WEEKDAY_NAMES_ZH
from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import Member, Unit
from tracker.services import access, clock, imports
from tracker.services.admin import audit_log, locks, rules, units, uploads

from . import picker, values
from .api import MAX_UPLOAD, _template_response
from .pages import bp, require_admin

# Rules --------------------------------------------------------------------------------------


def _render_rules(errors=None, form=None, status=200):
    versions = rules.all_versions()
    return render_template(
        "admin/rules.html",
        versions=versions,
        editable={v.id: rules.editable(v) for v in versions},
        today=clock.today(),
        errors=errors or {},
        form=form or {},
    ), status


@bp.get("/rules")
def rules_page():
    require_admin()
    return _render_rules()


@bp.post("/rules")
def rules_start():
    require_admin()
    form, errors = request.form, {}
    day = values.day(form.get("valid_from"), "valid_from", errors)
    if not errors:
        try:
            row = rules.start_version(current_user, day, form.get("name", ""))
        except ValidationError as e:
            errors = e.errors
        else:
            flash(f"已从 {row.valid_from.isoformat()} 起开始新版本，可修改上限与星期")
            return redirect(url_for("admin.rule_page", version_id=row.id))
    return _render_rules(errors, form, 422)


def _render_rule(version_id: int, errors=None, form=None, status=200):
    row = db.session.get(rules.RuleVersion, version_id)
    if row is None:
        abort(404)
    return render_template(
        "admin/rule.html",
        version=row,
        editable=rules.editable(row),
        deletable=rules.deletable(row),
        next_start=rules.next_start(row),
        weekday_names=WEEKDAY_NAMES_ZH,
        errors=errors or {},
        form=form,
    ), status


@bp.get("/rules/<int:version_id>")
def rule_page(version_id: int):
    require_admin()
    return _render_rule(version_id)


@bp.post("/rules/<int:version_id>")
def rule_edit(version_id: int):
    require_admin()
    row = db.session.get(rules.RuleVersion, version_id)
    if row is None:
        abort(404)
    form = request.form
    changes = {
        c.code: {
            "daily_cap": form.get(f"{c.code}.daily_cap", ""),
            "weekly_cap": form.get(f"{c.code}.weekly_cap", ""),
            "weekdays": form.getlist(f"{c.code}.weekdays"),
        }
        for c in row.categories
    }
    try:
        rules.update_categories(current_user, version_id, changes)
    except ValidationError as e:
        db.session.rollback()
        return _render_rule(version_id, e.errors, form, 422)
    flash("规则已保存")
    return redirect(url_for("admin.rule_page", version_id=version_id))


@bp.post("/rules/<int:version_id>/delete")
def rule_delete(version_id: int):
    require_admin()
    try:
        rules.delete_version(current_user, version_id)
    except ValidationError as e:
        db.session.rollback()
        return _render_rule(version_id, e.errors, None, 422)
    flash("已删除该规则版本")
    return redirect(url_for("admin.rules_page"))


# Locks --------------------------------------------------------------------------------------


def _render_locks(errors=None, form=None, status=200):
    return render_template(
        "admin/locks.html",
        locks=locks.all_locks(),
        today=clock.today(),
        errors=errors or {},
        form=form or {},
    ), status


@bp.get("/locks")
def locks_page():
    require_admin()
    return _render_locks()


@bp.post("/locks")
def lock_create():
    require_admin()
    form, errors = request.form, {}
    day = values.day(form.get("date"), "date", errors)
    if not errors:
        try:
            lock = locks.lock_period(
                current_user, form.get("kind", ""), day, form.get("reason", "")
            )
        except ValidationError as e:
            errors = e.errors
        else:
            flash(f"已锁定 {lock.start.isoformat()} 至 {lock.end.isoformat()}")
            return redirect(url_for("admin.locks_page"))
    return _render_locks(errors, form, 422)


@bp.post("/locks/<int:lock_id>/unlock")
def lock_remove(lock_id: int):
    require_admin()
    form = request.form
    try:
        locks.unlock(current_user, lock_id, form.get("reason", ""))
    except ValidationError as e:
        return _render_locks(e.errors, form.to_dict() | {"lock": str(lock_id)}, 422)
    flash("已解锁，解锁理由已记入审计日志")
    return redirect(url_for("admin.locks_page"))


# Audit log ----------------------------------------------------------------------------------


@bp.get("/audit")
def audit_page():
    """Admins see every entry; leaders those about the members and units they lead."""
    from .api import audit_filters

    shown = picker.audit_units(units.tree())
    args, errors = request.args, {}
    if shown.typed_field in args:  # the unit named in the search field, not by id
        unit_id = shown.chosen(args, errors, required=False)
        if not errors:
            args = args.copy()
            args.pop(shown.typed_field)
            args.pop("unit", None)
            if unit_id is not None:
                args["unit"] = str(unit_id)
    try:
        if errors:
            raise ValidationError(errors)
        filters, page = audit_filters(args)
        rows, more = audit_log.search(current_user, filters, page)
    except ValidationError as e:
        filters, page, rows, more, errors = audit_log.Filters(), 1, [], False, e.errors
    return render_template(
        "admin/audit.html",
        rows=rows,
        more=more,
        page=page,
        filters=filters,
        args=args,
        units=shown,
        actors=audit_log.actors(current_user),
        kinds=audit_log.kinds_for(current_user),
        member=_shown_member(filters.member_id),
        unit=db.session.get(Unit, filters.unit_id) if filters.unit_id else None,
        errors=errors,
    ), (422 if errors else 200)


def _shown_member(member_id: int | None) -> Member | None:
    """The member filtered by, named only to a viewer who may see them."""
    member = db.session.get(Member, member_id) if member_id else None
    if member is None or not access.can_manage_member(current_user, member):
        return None
    return member


# Imports ------------------------------------------------------------------------------------


def _render_imports(errors=None, result=None, upload=None, kind="reports", status=200):
    return render_template(
        "admin/imports.html",
        kinds=imports.LABELS,
        kind=kind,
        formats=imports.FORMATS,
        errors=errors or {},
        result=result,
        upload=upload,
    ), status


@bp.get("/imports")
def imports_page():
    require_admin()
    return _render_imports()


@bp.get("/imports/template/<kind>.<fmt>")
def import_template(kind: str, fmt: str):
    require_admin()
    if kind not in imports.KINDS or fmt not in imports.FORMATS:
        abort(404)
    return _template_response(kind, fmt, Response)


@bp.post("/imports/preview")
def import_preview():
    require_admin()
    kind = request.form.get("kind", "")
    if kind not in imports.KINDS:
        return _render_imports({"kind": "请选择导入类型"}, status=422)
    file = request.files.get("file")
    if file is None or not file.filename:
        return _render_imports({"file": "请选择要上传的文件"}, kind=kind, status=422)
    data = file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return _render_imports({"file": "文件不能超过 20 MB"}, kind=kind, status=422)
    try:
        result = imports.preview(kind, file.filename, data, current_user)
    except imports.TableError as e:
        return _render_imports({"file": str(e)}, kind=kind, status=422)
    upload = uploads.save(kind, file.filename, data, current_user.id) if result.ok else None
    return _render_imports(result=result, upload=upload, kind=kind, status=200)


@bp.post("/imports/commit")
def import_commit():
    require_admin()
    upload = uploads.load(request.form.get("upload", ""), current_user.id)
    if upload is None:
        return _render_imports({"file": "预览已过期或不存在，请重新上传"}, status=422)
    try:
        result = imports.commit(upload.kind, upload.filename, upload.data, current_user)
    except imports.ImportRejected as e:
        # Something changed since the preview (another edit, a lock): show what is wrong now.
        return _render_imports({"file": str(e)}, result=e.result, kind=upload.kind, status=422)
    except imports.TableError as e:
        return _render_imports({"file": str(e)}, kind=upload.kind, status=422)
    uploads.discard(upload.id)
    flash(
        f"已导入“{upload.filename}”：{result.rows} 行，"
        + "，".join(f"{k} {v}" for k, v in result.counts.items() if v)
    )
    return redirect(url_for("admin.imports_page"))
