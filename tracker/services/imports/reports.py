"""Importing daily reports, including the layout of a 学习报表 export.

Each row is checked by the same ``validate_report`` as a report typed on the page, with a
``ReportContext`` built from data loaded once for the whole file (rules, locks, memberships,
the weeks' other days). Weekly caps are checked against the week as it will be after the
import: the file's days where it has them, the stored days elsewhere.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import delete, select

from tracker.domain.rules import RuleVersion, version_for
from tracker.domain.validation import (
    ReportContext,
    ReportInput,
    ValidationError,
    ValidReport,
    validate_report,
)
from tracker.domain.validation import parse_int as _parse_int
from tracker.extensions import db
from tracker.models import (
    DailyReport,
    Member,
    Membership,
    PeriodLock,
    QuizResult,
    ReportItem,
)
from tracker.services import audit, clock, driver, rollups, rules, tx
from tracker.services.reports import Stored

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
from .tables import Table, cell_date, cell_number, cell_text, normalise_header

ALIASES = {
    "name": ("姓名", "名字", "党员姓名", "学员姓名"),
    "login": ("账号", "登录名", "用户名"),
    "unit": (
        "单位",
        "支部",
        "单位/支部",
        "所在支部",
        "所在单位",
        "所属单位",
        "所在组织",
        "所属组织",
        "党组织",
        "部门",
    ),
    "date": ("日期", "学习日期", "填报日期"),
    "total": ("今日积分", "当日积分", "今日得分", "当日得分"),
    "note": ("备注",),
}
# Columns of a 学习报表 export that are read by nobody (the platform total is not a day's points).
NOT_READ = {"序号", "排名", "名次", "总积分", "累计积分", "周积分", "月积分"}
HEADER_MARKS = ("姓名", "名字", "党员姓名", "账号")
CHUNK = 500


@dataclass
class _Row:
    number: int
    member_id: int
    day: date
    data: ReportInput
    raw_items: dict[str, int]


@dataclass
class _Ready:
    row: _Row
    valid: ValidReport
    stored: Stored | None
    before: dict | None  # the stored day as the audit log shows it, None if new
    after: dict  # the day as it will be stored

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass
class _MemberInfo:
    id: int
    name: str
    login: str | None
    active_from: date
    active_to: date | None
    spans: list[tuple[date, date | None, int]]  # memberships: from, to, unit

    def unit_on(self, day: date) -> int | None:
        if day < self.active_from or (self.active_to is not None and day > self.active_to):
            return None
        for first, last, unit_id in self.spans:
            if first <= day and (last is None or day <= last):
                return unit_id
        return None

    def current_unit(self, today: date) -> int | None:
        for first, last, unit_id in self.spans:
            if first <= today and (last is None or today <= last):
                return unit_id
        return self.spans[-1][2] if self.spans else None


def category_codes(versions: list[RuleVersion]) -> dict[str, str]:
    """Header text → category code, for every label and code of every rule version."""
    out: dict[str, str] = {}
    for v in versions:
        for c in v.categories:
            out.setdefault(c.code, c.code)
            out.setdefault(normalise_header(c.label), c.code)
    return out


def template(versions: list[RuleVersion], today: date) -> tuple[list[str], list[list]]:
    current = version_for(versions, today)
    labels = [c.label for c in current.categories] if current else []
    headers = ["姓名", "单位", "日期", "今日积分", *labels, "备注"]
    example = [["李一", "第一支部", today.isoformat(), 25, *[""] * len(labels), ""]]
    return headers, example


def preview(
    table: Table,
    actor: Member | None,
    *,
    backfill_days: int | None = None,
    progress: Progress | None = None,
) -> Result:
    result, _ = _plan(table, actor, backfill_days, progress, lock=False)
    return result


def commit(
    table: Table,
    actor: Member | None,
    *,
    source: str = "",
    backfill_days: int | None = None,
    progress: Progress | None = None,
) -> Result:
    """Validate again under the write lock and write every row, or nothing (``ImportRejected``)."""
    actor_id = actor.id if actor else None
    with tx.write():
        result, ready = _plan(table, actor, backfill_days, progress, lock=True)
        if result.errors:
            raise ImportRejected(result)
        _write(ready, actor_id)
        audit.record(
            "import.reports",
            "import",
            source or "reports",
            actor_id=actor_id,
            after={"file": source, "rows": result.rows, "counts": result.counts},
        )
    result.committed = True
    return result


def _plan(
    table: Table,
    actor: Member | None,
    backfill_days: int | None,
    progress: Progress | None,
    *,
    lock: bool,
) -> tuple[Result, list[_Ready]]:
    from tracker.services import reports as report_service

    result = Result(kind="reports", rows=len(table.rows))
    versions = rules.versions()
    codes = category_codes(versions)
    cols = Columns(table, ALIASES)
    item_cols = {code: i for h, i in cols.unused.items() if (code := codes.get(h))}
    result.ignored_columns = [
        h for h, i in cols.unused.items() if i not in item_cols.values() and h not in NOT_READ
    ]
    header_problems = []
    if not (cols.has("name") or cols.has("login")):
        header_problems.append("缺少“姓名”列")
    if not cols.has("date"):
        header_problems.append("缺少“日期”列")
    if not cols.has("total") and not item_cols:
        header_problems.append("缺少“今日积分”列或分项积分的列")
    if header_problems:
        result.errors = [RowError(table.header_row, "", "", p) for p in header_problems]
        return result, []

    today = clock.today()
    if backfill_days is None:
        # The command line has no actor; it may go as far back as an admin.
        backfill_days = (
            report_service.backfill_days(actor)
            if actor
            else current_app.config["BACKFILL_DAYS_ADMIN"]
        )
    allowed = allowed_paths(actor)
    units = UnitIndex()
    members, by_name, by_login = _load_members(table, cols)
    if lock and tx.is_postgres() and members:
        ids = sorted(members)
        for i in range(0, len(ids), CHUNK):
            db.session.execute(
                select(Member.id).where(Member.id.in_(ids[i : i + CHUNK])).with_for_update()
            )

    rows: list[_Row] = []
    seen: dict[tuple[int, date], int] = {}
    for number, cells in table.rows:
        row = _parse_row(number, cells, cols, item_cols, units, members, by_name, by_login)
        if isinstance(row, RowError):
            result.errors.append(row)
            continue
        member = members[row.member_id]
        current = member.current_unit(today)
        if current is None or not within(units.path(current), allowed):
            result.errors.append(cols.error(number, "name", f"“{member.name}”不在你管理的单位"))
            continue
        retired = _retired_unit(number, cells, cols, units, member, row.day)
        if retired is not None:
            result.errors.append(retired)
            continue
        key = (row.member_id, row.day)
        if key in seen:
            result.errors.append(
                cols.error(number, "date", f"与第 {seen[key]} 行重复（同一党员同一天）")
            )
            continue
        seen[key] = number
        rows.append(row)

    stored = _load_stored(rows)
    locks = list(db.session.execute(select(PeriodLock.start, PeriodLock.end)))
    # Weekly caps are on categories: only rows with category points read the week's others.
    final = _final_items(rows, stored) if any(r.data.items for r in rows) else {}
    ready: list[_Ready] = []
    in_force = {day: version_for(versions, day) for day in {r.day for r in rows}}
    for n, row in enumerate(sorted(rows, key=lambda r: r.number), start=1):
        member = members[row.member_id]
        ctx = ReportContext(
            day=row.day,
            today=today,
            rules=in_force[row.day],
            backfill_days=backfill_days,
            locked=any(start <= row.day <= end for start, end in locks),
            active=member.unit_on(row.day) is not None,
            week_items=_week_items(final, row.member_id, row.day) if row.data.items else {},
        )
        try:
            valid = validate_report(row.data, ctx, from_form=True)
        except ValidationError as e:
            result.errors.extend(_errors(row.number, e, cols, item_cols))
        else:
            old = stored.get((row.member_id, row.day))
            before = old.as_dict(row.day) if old else None
            after = Stored.saving(valid, old, None).as_dict(row.day)
            item = _Ready(row, valid, old, before, after)
            ready.append(item)
            result.changes.append(_change(item, member.name))
        if progress and n % 1000 == 0:
            progress(1000)
    if progress:
        progress(len(rows) % 1000)
    result.errors.sort(key=lambda e: (e.row, e.letter))
    return result, ready


def _parse_row(number, cells, cols, item_cols, units, members, by_name, by_login):
    name = cell_text(cols.get(cells, "name"))
    login = cell_text(cols.get(cells, "login"))
    unit_text = cell_text(cols.get(cells, "unit"))
    raw_day = cols.get(cells, "date")
    day = cell_date(raw_day)
    if day is None:
        text = cell_text(raw_day)
        reason = "日期不能为空" if not text else f"“{text}”不是有效的日期（如 2026-11-23）"
        return cols.error(number, "date", reason)

    if login:
        member_id = by_login.get(login)
        if member_id is None:
            return cols.error(number, "login", f"没有账号为“{login}”的党员")
        if name and members[member_id].name != name:
            return cols.error(
                number, "name", f"账号“{login}”是“{members[member_id].name}”，不是“{name}”"
            )
    else:
        if not name:
            return cols.error(number, "name", "姓名不能为空")
        candidates = by_name.get(name, [])
        if not candidates:
            return cols.error(number, "name", f"没有名为“{name}”的党员")
        if unit_text:
            unit_id, why = units.find(unit_text)
            if unit_id is None:
                return cols.error(number, "unit", why)
            path = units.path(unit_id)
            candidates = [
                m
                for m in candidates
                if any(units.path(u).startswith(path) for _, _, u in members[m].spans)
            ]
            if not candidates:
                return cols.error(number, "unit", f"“{name}”不在“{unit_text}”")
        if len(candidates) > 1:
            on_day = [m for m in candidates if members[m].unit_on(day) is not None]
            if len(on_day) != 1:
                hint = "单位" if not unit_text else "账号"
                return cols.error(
                    number, "name", f"有 {len(candidates)} 位名为“{name}”的党员，请用“{hint}”列区分"
                )
            candidates = on_day
        member_id = candidates[0]

    items = {code: cell_number(cells[i]) for code, i in item_cols.items()}
    data = ReportInput(
        items=items if any(cell_text(v) for v in items.values()) else None,
        total=cell_number(cols.get(cells, "total")) if cols.has("total") else None,
        note=cell_text(cols.get(cells, "note")),
    )
    if isinstance(data.total, str) and not data.total:
        data.total = None
    raw_items = {}
    for code, value in items.items():
        n = _parse_int(value, allow_text=True)
        if n and n > 0:
            raw_items[code] = n
    return _Row(number, member_id, day, data, raw_items)


def _retired_unit(
    number: int, cells, cols: Columns, units: UnitIndex, member: _MemberInfo, day: date
) -> RowError | None:
    """A row may not place a member in a unit retired on its date: neither the unit the row
    names nor the unit the member belongs to that day."""
    unit_text = cell_text(cols.get(cells, "unit"))
    named = units.find(unit_text)[0] if unit_text else None
    if named is not None and (why := units.retired_conflict(named, day, day)):
        return cols.error(number, "unit", why)
    belongs = member.unit_on(day)
    if belongs is not None and (why := units.retired_conflict(belongs, day, day)):
        where = "unit" if cols.has("unit") else "date"
        return cols.error(number, where, f"{member.name}在 {day.isoformat()} 所属的{why}")
    return None


def _load_members(table: Table, cols: Columns):
    names = {cell_text(cols.get(c, "name")) for _, c in table.rows} - {""}
    logins = {cell_text(cols.get(c, "login")) for _, c in table.rows} - {""}
    members: dict[int, _MemberInfo] = {}
    for values, column in ((sorted(names), Member.name), (sorted(logins), Member.login)):
        for i in range(0, len(values), CHUNK):
            for m in db.session.execute(
                select(
                    Member.id, Member.name, Member.login, Member.active_from, Member.active_to
                ).where(column.in_(values[i : i + CHUNK]))
            ):
                members[m.id] = _MemberInfo(m.id, m.name, m.login, m.active_from, m.active_to, [])
    ids = sorted(members)
    for i in range(0, len(ids), CHUNK):
        for member_id, unit_id, first, last in db.session.execute(
            select(
                Membership.member_id, Membership.unit_id, Membership.valid_from, Membership.valid_to
            )
            .where(Membership.member_id.in_(ids[i : i + CHUNK]))
            .order_by(Membership.valid_from)
        ):
            members[member_id].spans.append((first, last, unit_id))
    by_name: dict[str, list[int]] = defaultdict(list)
    by_login: dict[str, int] = {}
    for m in members.values():
        if m.name in names:
            by_name[m.name].append(m.id)
        if m.login:
            by_login[m.login] = m.id
    return members, by_name, by_login


def _load_stored(rows: list[_Row]) -> dict[tuple[int, date], Stored]:
    """The stored reports of the file's members in the weeks the file touches."""
    if not rows:
        return {}
    first = min(r.day for r in rows)
    last = max(r.day for r in rows)
    first -= timedelta(days=first.weekday())
    last += timedelta(days=6 - last.weekday())
    ids = sorted({r.member_id for r in rows})
    out: dict[tuple[int, date], Stored] = {}
    by_id: dict[int, Stored] = {}
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        window = (
            DailyReport.member_id.in_(chunk),
            DailyReport.day >= first,
            DailyReport.day <= last,
        )
        for r in db.session.execute(
            select(
                DailyReport.id,
                DailyReport.member_id,
                DailyReport.day,
                DailyReport.form,
                DailyReport.total,
                DailyReport.cumulative,
                DailyReport.note,
                DailyReport.evidence_sha256,
                DailyReport.evidence_type,
            ).where(*window)
        ):
            s = Stored(
                r.id,
                r.form,
                r.total,
                r.cumulative,
                r.note,
                r.evidence_sha256,
                r.evidence_type,
                {},
                [],
            )
            out[(r.member_id, r.day)] = s
            by_id[r.id] = s
        for report_id, code, points in db.session.execute(
            select(ReportItem.report_id, ReportItem.code, ReportItem.points)
            .join(DailyReport, DailyReport.id == ReportItem.report_id)
            .where(*window)
        ):
            by_id[report_id].items[code] = points
        for q in db.session.execute(
            select(QuizResult)
            .join(DailyReport, DailyReport.id == QuizResult.report_id)
            .where(*window)
            .order_by(QuizResult.id)
        ).scalars():
            by_id[q.report_id].quizzes.append(
                {
                    "kind": q.kind,
                    "questions": q.questions,
                    "correct": q.correct,
                    "seconds": q.seconds,
                }
            )
    return out


def _final_items(rows: list[_Row], stored: dict) -> dict[tuple[int, date], dict[str, int]]:
    """Each member's week (Monday) → day → items, as the week will be after the import."""
    weeks: dict[tuple[int, date], dict[date, dict[str, int]]] = defaultdict(dict)
    for (member_id, day), s in stored.items():
        weeks[(member_id, day - timedelta(days=day.weekday()))][day] = s.items
    for r in rows:
        weeks[(r.member_id, r.day - timedelta(days=r.day.weekday()))][r.day] = r.raw_items
    return weeks


def _week_items(weeks, member_id: int, day: date) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for other, items in weeks.get((member_id, day - timedelta(days=day.weekday())), {}).items():
        if other != day:
            for code, points in items.items():
                out[code] += points
    return out


def _errors(number: int, e: ValidationError, cols: Columns, item_cols: dict[str, int]):
    for key, message in e.errors.items():
        if key.startswith("items."):
            target = item_cols.get(key[6:])
        elif key == "items":
            target = cols.index.get("total", next(iter(item_cols.values()), None))
        else:
            target = cols.index.get(key)
        yield cols.error(number, target, message)


def _change(r: _Ready, name: str) -> Change:
    text = f"{name} {r.after['date']} {r.valid.total} 分"
    if r.stored is None:
        return Change(r.row.number, "新增", text)
    if not r.changed:
        return Change(r.row.number, "不变", text)
    return Change(r.row.number, "替换", f"{text}（原 {r.stored.total} 分）")


def _write(ready: list[_Ready], actor_id: int | None) -> None:
    changed = [r for r in ready if r.changed]
    if not changed:
        return
    added = [r for r in changed if r.stored is None]
    replaced = [r for r in changed if r.stored is not None]
    # A replaced day keeps its row and id, as a report saved again does (``reports._save``):
    # its items and quiz results are replaced, its screenshot stays.
    old_ids = [r.stored.id for r in replaced]
    for i in range(0, len(old_ids), CHUNK):
        chunk = old_ids[i : i + CHUNK]
        db.session.execute(delete(ReportItem).where(ReportItem.report_id.in_(chunk)))
        db.session.execute(delete(QuizResult).where(QuizResult.report_id.in_(chunk)))
    driver.execute_many(
        "UPDATE daily_report SET form = ?, total = ?, cumulative = ?, note = ?, updated_by = ?, "
        "updated_at = CURRENT_TIMESTAMP WHERE id = ?",
        (
            (r.valid.form, r.valid.total, r.valid.cumulative, r.valid.note, actor_id, r.stored.id)
            for r in replaced
        ),
    )
    # Inserts on the driver (SQLAlchemy building a parameter set for every row cost more
    # than the inserts), then one lookup of the new ids per chunk of members: an
    # insert with RETURNING in parameter order runs row by row on SQLite.
    as_date = {}
    for r in added:
        if r.row.day not in as_date:
            as_date[r.row.day] = driver.sql_date(r.row.day)
    driver.insert_many(
        "daily_report",
        ("member_id", "day", "form", "total", "cumulative", "note", "updated_by"),
        (
            (
                r.row.member_id,
                as_date[r.row.day],
                r.valid.form,
                r.valid.total,
                r.valid.cumulative,
                r.valid.note,
                actor_id,
            )
            for r in added
        ),
    )
    new_ids = iter(_report_ids([(r.row.member_id, r.row.day) for r in added]) if added else [])
    ids = [r.stored.id if r.stored is not None else next(new_ids) for r in changed]
    driver.insert_many(
        "report_item",
        ("report_id", "code", "points"),
        (
            (report_id, code, points)
            for report_id, r in zip(ids, changed, strict=True)
            for code, points in sorted(r.valid.items.items())
        ),
    )
    # One audit entry per day changed, written in bulk like the reports themselves.
    audit.record_many(
        (
            "report.import",
            "daily_report",
            f"{r.row.member_id}:{r.row.day.isoformat()}",
            actor_id,
            r.row.member_id,
            r.before,
            r.after,
        )
        for r in changed
    )
    rollups.apply_many(
        (
            r.row.member_id,
            r.row.day,
            r.valid.total - (r.stored.total if r.stored else 0),
            int(r.valid.total > 0) - int(r.stored is not None and r.stored.total > 0),
        )
        for r in changed
    )


def _report_ids(keys: list[tuple[int, date]]) -> list[int]:
    """The ids of the reports of these (member, day) keys, in the same order."""
    first, last = min(d for _, d in keys), max(d for _, d in keys)
    members = sorted({m for m, _ in keys})
    found: dict[tuple[int, date], int] = {}
    for i in range(0, len(members), CHUNK):
        rows = db.session.execute(
            select(DailyReport.member_id, DailyReport.day, DailyReport.id).where(
                DailyReport.member_id.in_(members[i : i + CHUNK]),
                DailyReport.day.between(first, last),
            )
        )
        found.update({(m, d): report_id for m, d, report_id in rows})
    return [found[key] for key in keys]
