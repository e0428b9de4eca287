"""Importing the organisation: units (a tree, parents before children) and the member roster.

Members are created without passwords: they activate their own accounts later (SPEC §1).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, or_, select

from tracker.extensions import db
from tracker.models import Member, Membership, Unit
from tracker.services import audit, clock, org, tx

from .common import (
    Change,
    Columns,
    ImportRejected,
    Progress,
    Result,
    RowError,
    UnitIndex,
    allowed_paths,
    within,
)
from .reports import ALIASES as REPORT_ALIASES
from .tables import Table, cell_date, cell_text

UNIT_ALIASES = {
    "name": ("名称", "单位名称", "组织名称", "单位"),
    "kind": ("类型", "类别", "组织类型"),
    "parent": ("上级", "上级单位", "上级组织"),
}
UNIT_MARKS = ("名称", "单位名称", "组织名称", "单位")
MEMBER_ALIASES = {
    "name": REPORT_ALIASES["name"],
    "unit": REPORT_ALIASES["unit"],
    "login": REPORT_ALIASES["login"],
    "active_from": ("加入日期", "在册日期", "起始日期", "入册日期"),
    "active_to": ("离开日期", "离册日期", "截止日期"),
    "retired": ("离退休", "是否离退休", "离退休党员"),
}
MEMBER_MARKS = ("姓名", "名字", "党员姓名")
YES = {"是", "y", "yes", "true", "1", "离退休", "√"}
NO = {"", "否", "n", "no", "false", "0", "在职"}
MAX_NAME = {"unit": 120, "kind": 20, "member": 60, "login": 60}


def unit_template() -> tuple[list[str], list[list]]:
    return ["名称", "类型", "上级单位"], [
        ["委员会党组", "党组", ""],
        ["机关党委", "党委", "委员会党组"],
        ["第一支部", "支部", "委员会党组/机关党委"],
    ]


def member_template(today: date) -> tuple[list[str], list[list]]:
    return ["姓名", "单位", "账号", "加入日期", "离开日期", "离退休"], [
        ["李一", "机关党委/第一支部", "liyi", today.isoformat(), "", "否"],
    ]


# Units -------------------------------------------------------------------------------------


@dataclass
class _NewUnit:
    number: int
    key: int  # a negative stand-in id until the unit is written
    name: str
    kind: str
    parent: int | None  # a real id, or the stand-in of a unit earlier in the file


def preview_units(table: Table, actor: Member | None, progress: Progress | None = None) -> Result:
    return _plan_units(table, actor)[0]


def commit_units(
    table: Table, actor: Member | None, *, source: str = "", progress: Progress | None = None
) -> Result:
    actor_id = actor.id if actor else None
    with tx.write():
        result, planned = _plan_units(table, actor)
        if result.errors:
            raise ImportRejected(result)
        made: dict[int, Unit] = {}
        for n, row in enumerate(planned, start=1):
            parent = None
            if row.parent is not None:
                parent = made[row.parent] if row.parent < 0 else db.session.get(Unit, row.parent)
            made[row.key] = org.add_unit(row.name, row.kind, parent, actor_id=actor_id)
            if progress and n % 100 == 0:
                progress(100)
        audit.record(
            "import.units",
            "import",
            source or "units",
            actor_id=actor_id,
            after={"file": source, "rows": result.rows, "counts": result.counts},
        )
    result.committed = True
    return result


def _plan_units(table: Table, actor: Member | None) -> tuple[Result, list[_NewUnit]]:
    result = Result(kind="units", rows=len(table.rows))
    cols = Columns(table, UNIT_ALIASES)
    result.ignored_columns = list(cols.unused)
    missing = [h for k, h in (("name", "名称"), ("kind", "类型")) if not cols.has(k)]
    if missing:
        result.errors = [RowError(table.header_row, "", "", f"缺少“{h}”列") for h in missing]
        return result, []
    allowed = allowed_paths(actor)
    units = UnitIndex()
    children: dict[int | None, dict[str, int]] = defaultdict(dict)
    for unit_id, (name, parent, _) in units.units.items():
        children[parent][name] = unit_id
    planned: list[_NewUnit] = []
    first_row: dict[int, int] = {}
    for number, cells in table.rows:
        name = cell_text(cols.get(cells, "name"))
        kind = cell_text(cols.get(cells, "kind"))
        parent_text = cell_text(cols.get(cells, "parent"))
        errors = []
        if not name or len(name) > MAX_NAME["unit"]:
            errors.append(cols.error(number, "name", f"名称应为 1–{MAX_NAME['unit']} 字"))
        if not kind or len(kind) > MAX_NAME["kind"]:
            errors.append(cols.error(number, "kind", f"类型应为 1–{MAX_NAME['kind']} 字，如 支部"))
        parent: int | None = None
        if parent_text:
            parent, why = units.find(parent_text)
            if parent is None:
                errors.append(cols.error(number, "parent", why))
            elif not within(units.path(parent), allowed):
                errors.append(cols.error(number, "parent", f"“{parent_text}”不在你管理的单位"))
            elif parent in units.retired:
                errors.append(cols.error(number, "parent", f"“{parent_text}”已撤销"))
        elif allowed is not None or units.units:
            errors.append(cols.error(number, "parent", "请填写上级单位（只能有一个顶级单位）"))
        if not errors and name in children[parent]:
            existing = children[parent][name]
            where = f"与第 {first_row[existing]} 行重复" if existing < 0 else "已有同名单位"
            errors.append(cols.error(number, "name", f"“{name}”{where}"))
        if errors:
            result.errors.extend(errors)
            continue
        key = -(len(planned) + 1)
        path = f"{units.path(parent) if parent is not None else '/'}{key}/"
        units.add(key, name, parent, path)
        children[parent][name] = key
        first_row[key] = number
        planned.append(_NewUnit(number, key, name, kind, parent))
        result.changes.append(Change(number, "新增", f"{units.label(key)}（{kind}）"))
    return result, planned


# Members -----------------------------------------------------------------------------------


@dataclass
class _NewMember:
    number: int
    name: str
    unit_id: int
    login: str | None
    active_from: date
    active_to: date | None
    retired: bool


def preview_members(table: Table, actor: Member | None, progress: Progress | None = None) -> Result:
    return _plan_members(table, actor)[0]


def commit_members(
    table: Table, actor: Member | None, *, source: str = "", progress: Progress | None = None
) -> Result:
    actor_id = actor.id if actor else None
    with tx.write():
        result, planned = _plan_members(table, actor)
        if result.errors:
            raise ImportRejected(result)
        ids = (
            db.session.execute(
                insert(Member).returning(Member.id, sort_by_parameter_order=True),
                [
                    {
                        "name": m.name,
                        "login": m.login,
                        "is_admin": False,
                        "active_from": m.active_from,
                        "active_to": m.active_to,
                        "retired": m.retired,
                    }
                    for m in planned
                ],
            )
            .scalars()
            .all()
            if planned
            else []
        )
        if planned:
            db.session.execute(
                insert(Membership),
                [
                    {"member_id": i, "unit_id": m.unit_id, "valid_from": m.active_from}
                    for i, m in zip(ids, planned, strict=True)
                ],
            )
        for i, m in zip(ids, planned, strict=True):
            audit.record(
                "member.create",
                "member",
                i,
                actor_id=actor_id,
                member_id=i,
                after={
                    "name": m.name,
                    "unit_id": m.unit_id,
                    "login": m.login,
                    "active_from": m.active_from.isoformat(),
                    "active_to": m.active_to.isoformat() if m.active_to else None,
                    "retired": m.retired,
                },
            )
        audit.record(
            "import.members",
            "import",
            source or "members",
            actor_id=actor_id,
            after={"file": source, "rows": result.rows, "counts": result.counts},
        )
        if progress:
            progress(len(planned))
    result.committed = True
    return result


def _plan_members(table: Table, actor: Member | None) -> tuple[Result, list[_NewMember]]:
    result = Result(kind="members", rows=len(table.rows))
    cols = Columns(table, MEMBER_ALIASES)
    result.ignored_columns = list(cols.unused)
    missing = [h for k, h in (("name", "姓名"), ("unit", "单位")) if not cols.has(k)]
    if missing:
        result.errors = [RowError(table.header_row, "", "", f"缺少“{h}”列") for h in missing]
        return result, []
    today = clock.today()
    allowed = allowed_paths(actor)
    units = UnitIndex()
    names = sorted({cell_text(cols.get(c, "name")) for _, c in table.rows} - {""})
    logins = sorted({cell_text(cols.get(c, "login")) for _, c in table.rows} - {""})
    taken_logins = _existing(Member.login, logins)
    in_unit = _names_in_units(names, today)
    planned: list[_NewMember] = []
    seen_names: dict[tuple[str, int], int] = {}
    seen_logins: dict[str, int] = {}
    for number, cells in table.rows:
        errors: list[RowError] = []
        name = cell_text(cols.get(cells, "name"))
        if not name or len(name) > MAX_NAME["member"]:
            errors.append(cols.error(number, "name", f"姓名应为 1–{MAX_NAME['member']} 字"))
        unit_text = cell_text(cols.get(cells, "unit"))
        unit_id, why = units.find(unit_text)
        if unit_id is None:
            errors.append(cols.error(number, "unit", why))
        elif not within(units.path(unit_id), allowed):
            errors.append(cols.error(number, "unit", f"“{unit_text}”不在你管理的单位"))
        active_from = _date(cols, cells, number, "active_from", today, errors)
        active_to = _date(cols, cells, number, "active_to", None, errors)
        if active_from and active_to and active_to < active_from:
            errors.append(cols.error(number, "active_to", "离开日期不能早于加入日期"))
        elif unit_id is not None and active_from and within(units.path(unit_id), allowed):
            # The membership runs from joining to leaving, or on if no leaving date is given.
            why = units.retired_conflict(unit_id, active_from, active_to)
            if why:
                errors.append(cols.error(number, "unit", why))
        login = cell_text(cols.get(cells, "login")) or None
        if login is not None:
            if len(login) > MAX_NAME["login"] or any(ch.isspace() for ch in login):
                errors.append(cols.error(number, "login", "账号最多 60 字，且不能有空格"))
            elif login in taken_logins:
                errors.append(cols.error(number, "login", f"账号“{login}”已被使用"))
            elif login in seen_logins:
                errors.append(cols.error(number, "login", f"账号与第 {seen_logins[login]} 行重复"))
        retired_text = cell_text(cols.get(cells, "retired")).lower()
        if retired_text not in YES | NO:
            errors.append(cols.error(number, "retired", "离退休应填“是”或“否”"))
        if not errors and unit_id is not None:
            if (name, unit_id) in in_unit:
                errors.append(cols.error(number, "name", f"“{unit_text}”已有名为“{name}”的党员"))
            elif (name, unit_id) in seen_names:
                errors.append(
                    cols.error(number, "name", f"与第 {seen_names[(name, unit_id)]} 行重复")
                )
        if errors:
            result.errors.extend(errors)
            continue
        assert unit_id is not None and active_from is not None
        seen_names[(name, unit_id)] = number
        if login:
            seen_logins[login] = number
        planned.append(
            _NewMember(number, name, unit_id, login, active_from, active_to, retired_text in YES)
        )
        result.changes.append(
            Change(number, "新增", f"{name} → {units.label(unit_id)}，{active_from.isoformat()} 起")
        )
    return result, planned


def _date(cols: Columns, cells, number: int, key: str, default, errors: list) -> date | None:
    raw = cols.get(cells, key)
    if not cell_text(raw):
        return default
    day = cell_date(raw)
    if day is None:
        errors.append(cols.error(number, key, f"“{cell_text(raw)}”不是有效的日期（如 2026-11-23）"))
    return day


def _existing(column, values: list[str]) -> set[str]:
    out: set[str] = set()
    for i in range(0, len(values), 500):
        out.update(
            db.session.execute(select(column).where(column.in_(values[i : i + 500]))).scalars()
        )
    return out


def _names_in_units(names: list[str], today: date) -> set[tuple[str, int]]:
    """(name, unit) of the members who belong to that unit today or later."""
    out: set[tuple[str, int]] = set()
    for i in range(0, len(names), 500):
        rows = db.session.execute(
            select(Member.name, Membership.unit_id)
            .join(Membership, Membership.member_id == Member.id)
            .where(
                Member.name.in_(names[i : i + 500]),
                or_(Membership.valid_to.is_(None), Membership.valid_to >= today),
            )
        )
        out.update((name, unit_id) for name, unit_id in rows)
    return out
