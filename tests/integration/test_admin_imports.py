"""Imports from the command line, the upload page and the API: preview, then all or nothing."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from tests.conftest import PASSWORD, TODAY, csrf_token, login
from tests.integration.helpers import Api, snapshot
from tracker.extensions import db
from tracker.models import DailyReport, Member, Unit
from tracker.services import org as org_service
from tracker.services import tx


def csv_file(tmp_path, name: str, rows: list[list]) -> str:
    path = tmp_path / name
    path.write_text("\r\n".join(",".join(str(c) for c in r) for r in rows) + "\r\n", "utf-8")
    return str(path)


def xlsx_bytes(rows: list[list]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def count(model) -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


# Command line -------------------------------------------------------------------------------


def test_cli_dry_run_prints_changes_and_writes_nothing(app, org, tmp_path):
    path = csv_file(
        tmp_path,
        "units.csv",
        [
            ["名称", "类型", "上级单位"],
            ["第三支部", "支部", "机关党委"],
            ["三组", "党小组", "第三支部"],
        ],
    )
    before = count(Unit)
    result = app.test_cli_runner().invoke(args=["import", "units", path])
    assert result.exit_code == 0, result.output
    assert "第 2 行 新增：委员会党组/机关党委/第三支部（支部）" in result.output
    assert "第 3 行 新增" in result.output and "--commit" in result.output
    assert count(Unit) == before


def test_cli_rejects_every_bad_row_with_row_column_and_reason_and_exits_non_zero(
    app, org, tmp_path
):
    path = csv_file(
        tmp_path,
        "members.csv",
        [
            ["姓名", "单位", "账号", "加入日期"],
            ["钱四", "第一支部", "qian", "2026-11-01"],
            ["孙五", "不存在的支部", "", "2026-11-01"],
            ["周六", "第二支部", "m1", "2026-02-30"],
        ],
    )
    before = count(Member)
    for args in (["import", "members", path], ["import", "members", path, "--commit"]):
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 1, result.output
        assert "第 3 行 B 列（单位）：没有名为“不存在的支部”的单位" in result.output
        assert "第 4 行 C 列（账号）：账号“m1”已被使用" in result.output
        assert "第 4 行 D 列（加入日期）" in result.output
        assert "3 处错误" in result.output
        assert count(Member) == before


def test_cli_commit_writes_all_rows_with_a_progress_bar_on_long_files(app, org, tmp_path):
    rows = [["姓名", "单位", "日期", "今日积分"]]
    start = TODAY - timedelta(days=400)
    for i in range(1200):
        who = (org.m1, org.m2, org.m3)[i % 3]
        rows.append([who.name, "", (start + timedelta(days=i // 3)).isoformat(), 10])
    path = csv_file(tmp_path, "reports.csv", rows)
    result = app.test_cli_runner().invoke(
        args=["import", "reports", path, "--commit", "--backfill-days", "400"]
    )
    assert result.exit_code == 0, result.output
    assert "importing 1200 rows" in result.output and "已导入：1200 行，新增 1200" in result.output
    assert count(DailyReport) == 1200


def test_cli_unreadable_file_fails_with_a_message(app, org, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    result = app.test_cli_runner().invoke(args=["import", "reports", str(path)])
    assert result.exit_code == 1 and "文件是空的" in result.output


# Web upload ---------------------------------------------------------------------------------


def upload(client, kind: str, name: str, data: bytes):
    return client.post(
        "/admin/imports/preview",
        data={
            "kind": kind,
            "file": (io.BytesIO(data), name),
            "csrf_token": csrf_token(client, "/admin/imports"),
        },
        content_type="multipart/form-data",
    )


def test_web_preview_then_commit_writes_exactly_the_previewed_file(client, org):
    login(client, "admin")
    data = xlsx_bytes(
        [
            ["姓名", "单位", "日期", "今日积分"],
            ["李一", "", TODAY.isoformat(), 21],
            ["王二", "", TODAY.isoformat(), 9],
        ]
    )
    before = snapshot()
    page = upload(client, "reports", "报表.xlsx", data)
    assert page.status_code == 200 and "确认导入" in page.text and "新增 2" in page.text
    assert snapshot() == before
    upload_id = re.search(r'name="upload" value="([^"]+)"', page.text).group(1)

    # Another admin cannot commit it.
    with tx.write():
        org_service.add_member(
            "另一管理员",
            org.party,
            date(2025, 1, 1),
            login="admin2",
            password=PASSWORD,
            is_admin=True,
        )
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    login(client, "admin2")
    r = client.post(
        "/admin/imports/commit", data={"upload": upload_id, "csrf_token": csrf_token(client)}
    )
    assert r.status_code == 422 and "重新上传" in r.text and snapshot()[:4] == before[:4]
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    login(client, "admin")

    r = client.post(
        "/admin/imports/commit", data={"upload": upload_id, "csrf_token": csrf_token(client)}
    )
    assert r.status_code == 302
    db.session.expire_all()
    totals = dict(db.session.execute(select(DailyReport.member_id, DailyReport.total)).all())
    assert totals == {org.m1.id: 21, org.m2.id: 9}
    # The staged file is gone: committing twice is not possible.
    r = client.post(
        "/admin/imports/commit", data={"upload": upload_id, "csrf_token": csrf_token(client)}
    )
    assert r.status_code == 422 and "重新上传" in r.text


def test_web_preview_lists_bad_rows_and_offers_no_commit(client, org):
    login(client, "admin")
    data = "姓名,单位,日期,今日积分\r\n李一,,2026-11-22,999\r\n无名氏,,2026-11-22,5\r\n".encode(
        "gb18030"
    )
    before = snapshot()
    page = upload(client, "reports", "报表.csv", data)
    assert page.status_code == 200
    assert "2 处错误，未写入任何数据" in page.text and "/admin/imports/commit" not in page.text
    assert "D（今日积分）" in page.text and "A（姓名）" in page.text
    assert snapshot() == before


def test_web_upload_errors_and_templates(client, org):
    login(client, "admin")
    r = upload(client, "reports", "x.xlsx", b"not a spreadsheet")
    assert r.status_code == 422 and "无法读取该 Excel 文件" in r.text
    for kind in ("units", "members", "reports"):
        csv = client.get(f"/admin/imports/template/{kind}.csv")
        assert csv.status_code == 200 and csv.data.startswith(b"\xef\xbb\xbf")
        xlsx = client.get(f"/admin/imports/template/{kind}.xlsx")
        book = load_workbook(io.BytesIO(xlsx.data), read_only=True)
        header = next(book.worksheets[0].iter_rows(values_only=True))
        book.close()
        assert header[0] in ("名称", "姓名")
    login(client, "leader")
    assert client.get("/admin/imports").status_code == 403
    assert client.get("/admin/imports/template/units.csv").status_code == 403


# API ----------------------------------------------------------------------------------------


def test_api_preview_and_commit_with_the_previewed_hash(client, org):
    api = Api(client, org.admin)
    data = xlsx_bytes([["名称", "类型", "上级单位"], ["第三支部", "支部", "机关党委"]])

    def post(path, body=b"", **form):
        return client.post(
            f"/api/v1/admin/imports/units/{path}",
            data={"file": (io.BytesIO(body or data), "units.xlsx"), **form},
            headers=api.headers,
            content_type="multipart/form-data",
        )

    before = count(Unit)
    preview = post("preview")
    assert preview.status_code == 200 and preview.json["counts"]["新增"] == 1
    assert count(Unit) == before
    wrong = post("commit", sha256="0" * 64)
    assert wrong.status_code == 422 and "sha256" in wrong.json["errors"]
    assert count(Unit) == before
    done = post("commit", sha256=preview.json["sha256"])
    assert done.status_code == 201 and done.json["committed"]
    assert count(Unit) == before + 1
    again = post("commit")
    assert again.status_code == 422 and again.json["result"]["errors"][0]["column"] == "名称"
    assert count(Unit) == before + 1

    leader = Api(client, org.leader)
    r = client.post(
        "/api/v1/admin/imports/units/preview",
        data={"file": (io.BytesIO(data), "units.xlsx")},
        headers=leader.headers,
        content_type="multipart/form-data",
    )
    assert r.status_code == 403
