"""Importing daily reports: a dry run, then all or nothing, every bad row named."""

from __future__ import annotations

import io
import random
from datetime import date, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from tests.conftest import TODAY
from tests.integration.helpers import snapshot
from tracker.domain.periods import period_of
from tracker.domain.validation import ReportInput
from tracker.extensions import db
from tracker.models import AuditEntry, DailyReport
from tracker.services import imports, org_settings, rankings, reports, rules, tx
from tracker.services import org as org_service


def xlsx(rows: list[list], title: str | None = None) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    if title:
        sheet.append([title])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8", bom: bool = False) -> bytes:
    text = "\r\n".join(",".join(str(c) for c in row) for row in rows) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def test_ten_thousand_rows_with_one_bad_row_commit_nothing_then_all_after_the_fix(org):
    """The issue's acceptance test: the bad row and column are named; fixed, the boards match."""
    start = date(2025, 1, 1)
    with tx.write():
        extra = [
            org_service.add_member(f"党员{i:03d}", org.b1 if i % 2 else org.b2, start)
            for i in range(95)
        ]
    people = [org.admin, org.leader, org.m1, org.m2, org.m3, *extra]
    rng = random.Random(6)
    days = [TODAY - timedelta(days=d) for d in range(100)]
    header = ["姓名", "单位", "日期", "今日积分", "备注"]
    body = []
    for day in days:
        maximum = rules.version_for(day).day_maximum(day)
        for person in people:
            body.append([person.name, "", day.isoformat(), rng.randint(0, maximum), ""])
    assert len(body) == 10_000
    bad = 4_321
    body[bad][3] = (
        rules.version_for(date.fromisoformat(body[bad][2])).day_maximum(
            date.fromisoformat(body[bad][2])
        )
        + 1
    )
    before = snapshot()

    with pytest.raises(imports.ImportRejected) as rejected:
        imports.commit("reports", "报表.xlsx", xlsx([header, *body]), org.admin)
    errors = rejected.value.result.errors
    assert [(e.row, e.column, e.letter) for e in errors] == [(bad + 2, "今日积分", "D")]
    assert "超过当日上限" in errors[0].reason
    assert snapshot() == before

    body[bad][3] = 1
    result = imports.commit("reports", "报表.xlsx", xlsx([header, *body]), org.admin)
    assert result.committed and result.counts["新增"] == 10_000
    assert db.session.execute(select(func.count()).select_from(DailyReport)).scalar_one() == 10_000

    for kind in ("week", "month", "quarter", "year"):
        period = period_of(kind, TODAY)
        expected = {p.id: 0 for p in people}
        by_name = {p.name: p.id for p in people}
        for name, _, day, total, _ in body:
            if period.contains(date.fromisoformat(day)):
                expected[by_name[name]] += total
        board = rankings.member_board(period, org.root)
        assert {s.member_id: s.points for s in board.standings} == expected, kind


HEADER = ["姓名", "单位", "日期", "今日积分", "备注"]
YESTERDAY = TODAY - timedelta(days=1)


def errors_of(kind: str, data: bytes, actor, filename: str = "f.xlsx"):
    return [
        (e.row, e.column, e.reason) for e in imports.preview(kind, filename, data, actor).errors
    ]


def test_preview_lists_changes_and_writes_nothing(org):
    reports.put(org.admin, org.m1, YESTERDAY, ReportInput(total=10))
    before = snapshot()
    data = xlsx(
        [
            HEADER,
            ["李一", "第一支部", YESTERDAY.isoformat(), 20, ""],
            ["王二", "", YESTERDAY.isoformat(), 15, "补录"],
            ["赵三", "", TODAY.isoformat(), 0, ""],
        ]
    )
    result = imports.preview("reports", "f.xlsx", data, org.admin)
    assert result.ok and not result.committed
    assert [(c.row, c.action) for c in result.changes] == [(2, "替换"), (3, "新增"), (4, "新增")]
    assert "原 10 分" in result.changes[0].text
    assert snapshot() == before


def test_an_import_runs_with_the_cycle_collector_paused_and_resumes_it(org):
    """A 100,000-row import spent a third of its Python time in collections of its own rows."""
    import gc

    seen = []

    def progress(_rows: int) -> None:
        seen.append(gc.isenabled())

    data = xlsx([HEADER, ["李一", "", YESTERDAY.isoformat(), 12, ""]])
    assert gc.isenabled()
    imports.preview("reports", "f.xlsx", data, org.admin, progress=progress)
    imports.commit("reports", "f.xlsx", data, org.admin, progress=progress)
    table = imports.read("reports", "f.xlsx", data)
    imports.run("reports", table, org.admin, commit=False, progress=progress)
    assert seen == [False, False, False]
    assert gc.isenabled()
    assert reports.get(org.m1.id, YESTERDAY).total == 12


def test_replacing_a_day_is_audited_and_an_identical_day_is_left_alone(org):
    reports.put(org.admin, org.m1, YESTERDAY, ReportInput(total=10))
    data = xlsx([HEADER, ["李一", "", YESTERDAY.isoformat(), 12, ""]])
    imports.commit("reports", "f.xlsx", data, org.admin)
    assert reports.get(org.m1.id, YESTERDAY).total == 12
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "report.import")
    ).scalar_one()
    assert entry.before["total"] == 10 and entry.after["total"] == 12
    assert entry.actor_id == org.admin.id and entry.member_id == org.m1.id
    again = imports.commit("reports", "f.xlsx", data, org.admin)
    assert again.counts == {"新增": 0, "替换": 0, "不变": 1}
    count = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "report.import")
    assert db.session.execute(count).scalar_one() == 1


def test_a_replaced_day_keeps_its_report_and_screenshot_and_loses_what_the_file_replaces(org):
    """As a report saved again: the same row, its screenshot kept, its items and quiz
    results replaced by the file's day (which has none), the importer as its last editor."""
    org_settings.save(org.admin, {"evidence_enabled": True})
    day = {
        "items": {"login": 1, "article": 6},
        "quizzes": [{"kind": "每日答题", "questions": 5, "correct": 4, "seconds": 60}],
    }
    png = b"\x89PNG\r\n\x1a\n" + b"\x03" * 64
    reports.put(
        org.m1, org.m1, YESTERDAY, ReportInput(**day), evidence=reports.Evidence("a.png", png)
    )
    reports.put(org.m2, org.m2, YESTERDAY, ReportInput(total=5))  # a later row: a new id shows
    before = reports.get(org.m1.id, YESTERDAY)
    assert before.quizzes and before.evidence_sha256
    imports.commit(
        "reports", "f.xlsx", xlsx([HEADER, ["李一", "", YESTERDAY, 12, "补录"]]), org.admin
    )
    after = reports.get(org.m1.id, YESTERDAY)
    assert after.id == before.id
    assert (after.total, after.form, after.note) == (12, "total", "补录")
    assert after.evidence_sha256 == before.evidence_sha256
    assert after.items == [] and after.quizzes == []
    assert after.updated_by == org.admin.id
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "report.import")
    ).scalar_one()
    assert entry.before["quizzes"] and entry.after["quizzes"] == []


def test_every_kind_of_bad_row_is_named_with_its_column(org):
    from tracker.services.admin import locks

    locks.lock_range(org.admin, date(2026, 11, 2), date(2026, 11, 8), "十一月第一周已通报")
    with tx.write():
        org_service.add_member("李一", org.b2, date(2025, 1, 1))  # a namesake elsewhere
    leaver = org_service.create_member(
        "钱四", org.b1, date(2025, 1, 1), active_to=date(2026, 10, 31)
    )
    assert leaver.id
    rows = [
        HEADER,
        ["无名氏", "", "2026-11-20", 5, ""],  # 2 unknown member
        ["王二", "", "2026-11-20", 5, ""],  # 3
        ["王二", "", "2026-11-20", 6, ""],  # 4 duplicate of row 3
        ["王二", "", "2026-13-01", 5, ""],  # 5 bad date
        ["王二", "", "2026-11-03", 5, ""],  # 6 locked
        ["钱四", "", "2026-11-20", 5, ""],  # 7 inactive
        ["王二", "", "2026-11-21", 999, ""],  # 8 over the day's maximum
        ["王二", "", "2026-11-22", "五", ""],  # 9 not a number
        ["李一", "", "2026-11-20", 5, ""],  # 10 two members of that name
        ["李一", "第二支部", "2026-11-20", 5, ""],  # 11 fine: the unit tells them apart
        ["王二", "第九支部", "2026-11-19", 5, ""],  # 12 unknown unit
        ["王二", "", "2026-11-24", 5, ""],  # 13 future
    ]
    got = errors_of("reports", xlsx(rows), org.admin)
    assert [(r, c) for r, c, _ in got] == [
        (2, "姓名"),
        (4, "日期"),
        (5, "日期"),
        (6, "日期"),
        (7, "日期"),
        (8, "今日积分"),
        (9, "今日积分"),
        (10, "姓名"),
        (12, "单位"),
        (13, "日期"),
    ]
    reasons = dict(((r, c), why) for r, c, why in got)
    assert "没有名为“无名氏”" in reasons[(2, "姓名")]
    assert "与第 3 行重复" in reasons[(4, "日期")]
    assert "不是有效的日期" in reasons[(5, "日期")]
    assert "锁定" in reasons[(6, "日期")]
    assert "在册期间" in reasons[(7, "日期")]
    assert "上限" in reasons[(8, "今日积分")]
    assert "整数" in reasons[(9, "今日积分")]
    assert "2 位名为“李一”" in reasons[(10, "姓名")]
    assert "未来" in reasons[(13, "日期")]


def test_study_report_export_with_title_row_and_category_columns(org):
    """A 学习报表 export: a title line, 序号, 单位/支部, points per category and 今日积分."""
    version = rules.version_for(YESTERDAY)
    labels = [c.label for c in version.categories]
    header = ["序号", "姓名", "单位/支部", "日期", *labels, "今日积分", "总积分"]
    login = {labels.index("登录"): 1, labels.index("我要选读文章"): 12}
    row = [""] * len(labels)
    for i, points in login.items():
        row[i] = points
    data = xlsx(
        [
            header,
            [1, "李一", "第一支部", YESTERDAY, *row, 13, 25000],
            [2, "王二", "第一支部", YESTERDAY, *row, 14, 26000],  # total disagrees
        ],
        title="学习报表（2026年11月22日）",
    )
    result = imports.preview("reports", "报表.xlsx", data, org.admin)
    assert [(e.row, e.column) for e in result.errors] == [(4, "今日积分")]
    assert "不一致" in result.errors[0].reason
    assert result.ignored_columns == []
    ok = xlsx([header, [1, "李一", "第一支部", YESTERDAY, *row, 13, 25000]], title="学习报表")
    imports.commit("reports", "报表.xlsx", ok, org.admin)
    saved = reports.get(org.m1.id, YESTERDAY)
    assert saved.form == "items" and saved.total == 13
    assert {i.code: i.points for i in saved.items} == {"login": 1, "article": 12}


def test_a_category_over_its_weekly_cap_across_the_files_days_is_reported_on_its_column(org):
    version = rules.version_for(TODAY)
    special = version.category("special_quiz")
    assert special.weekly_cap == 10
    header = ["姓名", "日期", special.label]
    monday = TODAY - timedelta(days=7)  # the previous week, Monday and Tuesday
    data = xlsx([header, ["王二", monday, 6], ["王二", monday + timedelta(days=1), 6]])
    got = errors_of("reports", data, org.admin)
    assert [(r, c) for r, c, _ in got] == [(2, special.label), (3, special.label)]
    assert "每周上限" in got[0][2]


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("gb18030", False)]
)
def test_csv_in_utf8_with_or_without_bom_and_in_gb18030(org, encoding, bom):
    data = csv_bytes(
        [HEADER, ["王二", "第一支部", "2026/11/22", 18, "集中学习后补录"]], encoding, bom
    )
    result = imports.commit("reports", "报表.csv", data, org.admin)
    assert result.counts["新增"] == 1
    saved = reports.get(org.m2.id, YESTERDAY)
    assert saved.total == 18 and saved.note == "集中学习后补录"


def test_a_leader_imports_only_for_their_subtree(org):
    data = xlsx(
        [HEADER, ["王二", "", YESTERDAY.isoformat(), 5, ""], ["赵三", "", YESTERDAY, 5, ""]]
    )
    got = errors_of("reports", data, org.leader)
    assert [(r, c) for r, c, _ in got] == [(3, "姓名")]
    assert "不在你管理的单位" in got[0][2]


def test_missing_columns_and_unreadable_files_are_explained(org):
    result = imports.preview("reports", "f.xlsx", xlsx([["姓名", "备注"], ["王二", ""]]), org.admin)
    assert [e.reason for e in result.errors] == ["缺少“日期”列", "缺少“今日积分”列或分项积分的列"]
    with pytest.raises(imports.TableError):
        imports.preview("reports", "f.xlsx", b"PK\x03\x04 not really a workbook", org.admin)
    with pytest.raises(imports.TableError):
        imports.preview("reports", "f.csv", "甲,乙\r\n1,2\r\n".encode(), org.admin)


@pytest.mark.parametrize("kind", imports.KINDS)
@pytest.mark.parametrize("fmt", imports.FORMATS)
def test_templates_read_back_with_the_columns_the_import_needs(org, kind, fmt):
    data = imports.template(kind, fmt)
    table = imports.read(kind, f"t.{fmt}", data)
    assert table.header_row == 1 and len(table.rows) >= 1
    result = imports.preview(kind, f"t.{fmt}", data, org.admin)
    assert not any(e.row == 1 for e in result.errors), result.errors


def test_an_import_keeps_every_roll_up_equal_to_a_rebuild(org):
    """Imports apply their changes in bulk; the result must be what a rebuild computes.

    Reports already stored are replaced (up, down, to zero, from zero), and two members moved
    to other units in the middle of the periods.
    """
    from tracker.services import rollups

    with tx.write():
        org_service.move_member(org.m2, org.g1, TODAY - timedelta(days=10))
        org_service.move_member(org.m3, org.b1, TODAY - timedelta(days=40))
    rng = random.Random(11)
    people = [org.admin, org.leader, org.m1, org.m2, org.m3]
    days = [TODAY - timedelta(days=d) for d in range(0, 60, 3)]
    for day in days[::2]:
        for person in people[1:]:
            reports.put(org.admin, person, day, ReportInput(total=rng.randint(0, 30)))
    body = []
    for day in days:
        for person in people:
            total = rng.choice([0, 0, 5, 17, 30, rng.randint(1, 40)])
            body.append([person.name, "", day.isoformat(), total, ""])
    result = imports.commit("reports", "f.xlsx", xlsx([HEADER, *body]), org.admin)
    assert result.committed and result.counts["替换"] > 10 and result.counts["新增"] > 10

    incremental, subtrees = rollups.stored(), rollups.stored_subtrees()
    rollups.rebuild_all()
    assert rollups.stored() == incremental
    assert rollups.stored_subtrees() == subtrees
    week = period_of("week", TODAY)
    by_name = {p.name: p.id for p in people}
    expected = {p.id: 0 for p in people}
    for name, _, day, total, _ in body:
        if week.contains(date.fromisoformat(day)):
            expected[by_name[name]] += total
    board = rankings.member_board(week, org.root)
    assert {s.member_id: s.points for s in board.standings} == expected


def test_category_points_land_on_their_own_member_and_day(org):
    version = rules.version_for(YESTERDAY)
    labels = [c.label for c in version.categories]
    article = labels.index("我要选读文章")
    header = ["姓名", "日期", *labels]
    day_before = YESTERDAY - timedelta(days=1)
    reports.put(org.admin, org.m2, day_before, ReportInput(total=3))  # replaced below
    body, expected = [], {}
    for n, (person, day) in enumerate(
        [(org.m1, YESTERDAY), (org.m2, day_before), (org.m3, YESTERDAY), (org.m1, day_before)]
    ):
        row = [""] * len(labels)
        row[labels.index("登录")] = 1
        row[article] = 2 + n
        body.append([person.name, day.isoformat(), *row])
        expected[(person.id, day)] = {"login": 1, "article": 2 + n}
    imports.commit("reports", "f.xlsx", xlsx([header, *body]), org.admin)
    for (member_id, day), items in expected.items():
        saved = reports.get(member_id, day)
        assert {i.code: i.points for i in saved.items} == items, (member_id, day)
        assert saved.total == sum(items.values())
