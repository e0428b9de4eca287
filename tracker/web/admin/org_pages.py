"""Admin pages for the unit tree, members, and awards and deductions."""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import Member, Unit
from tracker.services import adjustments, clock, org
from tracker.services.admin import awards, leaders, members, units

from . import picker, values
from .pages import bp, no_store, require_admin

# Units --------------------------------------------------------------------------------------


@bp.get("/units/lookup")
def unit_lookup():
    """Units whose name or trail holds ``q``, as a unit field offers them (JSON)."""
    scope = request.args.get("scope", "placeable")
    q = values.text(request.args.get("q"))
    tree = units.tree() if q.strip() else []  # nothing typed: nothing to offer
    if scope == "placeable":
        found = picker.placeable(tree)
    elif scope == "live":
        require_admin()
        outside = values.integer(request.args.get("outside"), "outside", {}, required=False)
        found = picker.parents(tree, db.session.get(Unit, outside) if outside else None)
    elif scope == "audit":
        found = picker.audit_units(tree)
    elif scope == "every":
        require_admin()
        found = picker.channel_units(tree)
    else:
        abort(404)
    shown = found.matching(q)[: picker.SHOWN]
    return jsonify(units=[{"id": u.id, "name": u.name, "label": found.trail(u)} for u in shown])


SHOWN_LEVELS = 2  # levels below the unit browsed that a large tree shows at once
FOUND_SHOWN = 100  # units a search of a large tree lists


def _render_units(errors=None, form=None, status=200):
    tree = units.tree()  # a province has 5,000 units: read once for the list and the field
    parents = picker.parents(tree)
    shown, browse = tree, None
    q = " ".join(values.text(request.args.get("q")).split())
    if len(tree) >= current_app.config["UNIT_PICKER_FROM"] or q:
        browse = _browse(tree, q)
        shown = browse["rows"]
    return render_template(
        "admin/units.html",
        tree=shown,
        browse=browse,
        parents=parents,
        errors=errors or {},
        form=form or {},
    ), status


def _browse(tree: list[org.UnitRow], q: str) -> dict:
    """A large tree a part at a time: a unit and two levels below it (the top when none is
    asked for), or the units whose name or trail holds ``q``, closest first; each row with
    how many units are below it, for those whose sub-units are not shown."""
    unit_id = values.integer(request.args.get("unit"), "unit", {}, required=False)
    base = next((u for u in tree if u.id == unit_id), None)
    below: dict[int, int] = {}
    for u in tree:
        if u.parent_id is not None:
            below[u.parent_id] = below.get(u.parent_id, 0) + 1
    every = picker.picker("unit", tree, tree, "")  # retired units too, as the tree shows them
    if q:
        found = every.matching(q)
        rows = found[:FOUND_SHOWN]
        deepest = -1  # every row's sub-units are behind its link
        more = len(found) - len(rows)
    else:
        top = base.depth if base else 0
        deepest = top + SHOWN_LEVELS
        rows = [
            u
            for u in tree
            if (base is None or u.path.startswith(base.path)) and top <= u.depth <= deepest
        ]
        more = 0
    return {
        "rows": rows,
        "base": base,
        "trail": [u for u in tree if base and base.path.startswith(u.path) and u.id != base.id],
        "q": q,
        "more": more,
        "folded": {u.id: below[u.id] for u in rows if u.depth >= deepest and u.id in below},
        "label": every.trail,
    }


@bp.get("/units")
def units_page():
    require_admin()
    return _render_units()


@bp.post("/units")
def unit_create():
    require_admin()
    form, errors = request.form, {}
    parent = picker.parents(units.tree()).chosen(form, errors, required=False)
    if not errors:
        try:
            unit = units.create(current_user, form.get("name", ""), form.get("kind", ""), parent)
        except ValidationError as e:
            errors = e.errors
        else:
            flash(f"已添加单位“{unit.name}”")
            return redirect(url_for("admin.units_page"))
    return _render_units(errors, form, 422)


def _unit_or_404(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    return unit


def _render_unit(unit: Unit, errors=None, form=None, status=200):
    return render_template(
        "admin/unit.html",
        unit=unit,
        leaders=org.unit_leaders(unit),
        trail=org.ancestors(unit),
        parents=picker.parents(units.tree(), outside=unit),
        today=clock.today(),
        errors=errors or {},
        form=form or {},
    ), status


@bp.get("/units/<int:unit_id>")
def unit_page(unit_id: int):
    require_admin()
    return _render_unit(_unit_or_404(unit_id))


@bp.post("/units/<int:unit_id>/<action>")
def unit_change(unit_id: int, action: str):
    require_admin()
    unit = _unit_or_404(unit_id)
    form, errors = request.form, {}
    try:
        if action == "rename":
            units.rename(current_user, unit.id, form.get("name", ""), form.get("kind", ""))
            message = "已保存名称与类型"
        elif action == "move":
            parent = picker.parents(units.tree(), outside=unit).chosen(form, errors)
            if errors:
                raise ValidationError(errors)
            units.move(current_user, unit.id, parent)
            message = "已移动单位"
        elif action == "retire":
            day = values.day(form.get("date"), "date", errors)
            if errors:
                raise ValidationError(errors)
            units.retire(current_user, unit.id, day)
            message = f"已撤销该单位（{day.isoformat()} 起）"
        else:
            abort(404)
    except ValidationError as e:
        db.session.rollback()
        return _render_unit(
            _unit_or_404(unit_id), e.errors, form.to_dict() | {"action": action}, 422
        )
    flash(message)
    return redirect(url_for("admin.unit_page", unit_id=unit.id))


# Members ------------------------------------------------------------------------------------


def _render_members(errors=None, form=None, status=200):
    page = values.integer(request.args.get("page"), "page", {}, required=False) or 1
    unit_id = values.integer(request.args.get("unit"), "unit", {}, required=False)
    unit = db.session.get(Unit, unit_id) if unit_id else None
    q = request.args.get("q", "").strip()
    rows, more = members.listing(current_user, unit=unit, q=q, page=page)
    return render_template(
        "admin/members.html",
        rows=rows,
        more=more,
        page=page,
        q=q,
        unit=unit,
        placeable=picker.placeable(),
        today=clock.today(),
        errors=errors or {},
        form=form or {},
    ), status


@bp.get("/members")
def members_page():
    return _render_members()


@bp.post("/members")
def member_create():
    form, errors = request.form, {}
    unit_id = picker.placeable().chosen(form, errors)
    active_from = values.day(form.get("active_from"), "active_from", errors)
    if not errors:
        try:
            member = members.create(
                current_user,
                name=form.get("name", ""),
                unit_id=unit_id,
                active_from=active_from,
                login=form.get("login") or None,
                retired=form.get("retired") == "1",
            )
        except ValidationError as e:
            errors = e.errors
        else:
            flash(f"已添加党员“{member.name}”，本人用邀请激活账号后即可登录")
            return redirect(url_for("admin.member_page", member_id=member.id))
    return _render_members(errors, form, 422)


def _managed_or_404(member_id: int) -> Member:
    if db.session.get(Member, member_id) is None:
        abort(404)
    return members.get_managed(current_user, member_id)


def _render_member(member: Member, errors=None, form=None, secret=None, status=200):
    return render_template(
        "admin/member.html",
        member=member,
        unit=org.current_unit(member),
        leads=org.led_units(member),
        history=members.history(member),
        placeable=picker.placeable(),
        today=clock.today(),
        errors=errors or {},
        form=form or {},
        secret=secret,
    ), status


@bp.get("/members/<int:member_id>")
def member_page(member_id: int):
    return _render_member(_managed_or_404(member_id))


@bp.post("/members/<int:member_id>/<action>")
def member_change(member_id: int, action: str):
    member = _managed_or_404(member_id)
    form, errors = request.form, {}
    try:
        if action == "move":
            unit_id = picker.placeable().chosen(form, errors)
            day = values.day(form.get("date"), "date", errors)
            if errors:
                raise ValidationError(errors)
            members.move(current_user, member.id, unit_id, day)
            message = f"已调动（{day.isoformat()} 起）"
        elif action == "leave":
            day = values.day(form.get("active_to"), "active_to", errors, required=False)
            if errors:
                raise ValidationError(errors)
            members.set_leaving(current_user, member.id, day)
            message = f"最后在册日期为 {day.isoformat()}" if day else "已恢复在册"
        elif action == "password":
            password = members.reset_password(current_user, member.id)
            secret = {"label": "新的临时密码", "value": password}
            return no_store(_render_member(_managed_or_404(member_id), secret=secret))
        elif action == "token":
            token = members.issue_token(current_user, member.id)
            secret = {"label": "新的 API 令牌", "value": token}
            return no_store(_render_member(_managed_or_404(member_id), secret=secret))
        elif action in ("lead", "unlead"):
            if action == "lead":
                unit_id = picker.placeable().chosen(form, errors)
            else:  # a unit the member leads, named by id in the page's own form
                unit_id = values.integer(form.get("unit"), "unit", errors)
            if errors:
                raise ValidationError(errors)
            if action == "lead":
                leaders.appoint(current_user, unit_id, member.id)
                message = "已任命为负责人"
            else:
                leaders.remove(current_user, unit_id, member.id)
                message = "已免去负责人职务"
        elif action == "award":
            return _award(member, form, back=url_for("admin.member_page", member_id=member.id))
        else:
            abort(404)
    except ValidationError as e:
        db.session.rollback()
        return _render_member(
            _managed_or_404(member_id), e.errors, form.to_dict() | {"action": action}, None, 422
        )
    flash(message)
    return redirect(url_for("admin.member_page", member_id=member.id))


# Awards and deductions ----------------------------------------------------------------------


def _render_awards(errors=None, form=None, status=200):
    q = request.args.get("q", "").strip()
    choices, _ = members.listing(current_user, q=q)
    return render_template(
        "admin/awards.html",
        recent=awards.recent(current_user),
        choices=choices,
        q=q,
        today=clock.today(),
        errors=errors or {},
        form=form or {},
    ), status


@bp.get("/awards")
def awards_page():
    return _render_awards()


@bp.post("/awards")
def award_create():
    form, errors = request.form, {}
    member_id = values.integer(form.get("member"), "member", errors)
    member = db.session.get(Member, member_id) if member_id else None
    if member is None and "member" not in errors:
        errors["member"] = "请选择党员"
    if errors:
        return _render_awards(errors, form, 422)
    try:
        return _award(member, form, back=url_for("admin.awards_page"))
    except ValidationError as e:
        db.session.rollback()
        return _render_awards(e.errors, form, 422)


def _award(member: Member, form, back: str):
    errors: dict = {}
    day = values.day(form.get("date"), "date", errors)
    points = values.integer(form.get("points"), "points", errors)
    if errors:
        raise ValidationError(errors)
    row = adjustments.give(current_user, member, day, points, form.get("reason", ""))
    verb = "奖励" if row.points > 0 else "扣减"
    flash(f"已为{member.name}{verb} {abs(row.points)} 分（{row.day.isoformat()}）")
    return redirect(back)
