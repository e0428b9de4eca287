"""Ranking exports: XLSX opens with openpyxl and holds the API's numbers; CSV has a BOM."""

from __future__ import annotations

import csv
import io
import os

import pytest
from openpyxl import load_workbook

from tests.charts.conftest import put_week
from tests.conftest import login
from tests.integration.helpers import Api
from tracker.services import exports


def sheet(body: bytes):
    wb = load_workbook(io.BytesIO(body))
    ws = wb.active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header = rows[0]
    data = []
    for r in rows[1:]:
        if all(v is None for v in r):  # a blank row, then the motto
            break
        data.append(dict(zip(header, r, strict=True)))
    return ws, header, data


def test_member_export_holds_the_same_numbers_as_the_api(client, org):
    put_week(org)
    api = Api(client, org.admin)
    board = api.get("/leaderboards/members", unit=org.party.id, period="2026-W47", limit=500)
    r = api.get("/exports/members.xlsx", unit=org.party.id, period="2026-W47")
    assert r.status_code == 200
    assert r.headers["Content-Disposition"].startswith("attachment")
    ws, header, rows = sheet(r.data)
    assert header[:5] == ["排名", "姓名", "支部", "积分", "日均分"]
    assert "达标" in header and "活跃天数" in header
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["C"].width > ws.column_dimensions["A"].width
    assert ws["A1"].font.b and ws["A1"].fill.fgColor.rgb.endswith("C0392B")
    formats = {c.title: c.number_format for c in exports.MEMBER_COLUMNS}
    for i, title in enumerate(header, start=1):  # every row's cell, not only the first's
        assert {ws.cell(row=r, column=i).number_format for r in range(2, len(rows) + 2)} == {
            formats[title]
        }
    assert ws.auto_filter.ref == f"A1:{ws.cell(row=1, column=len(header)).column_letter}" + str(
        len(rows) + 1
    )
    assert ws.cell(row=len(rows) + 3, column=1).value.endswith("排名仅用于激励学习，不作考核依据")
    api_rows = board.get_json()["rows"]
    assert [(x["排名"], x["姓名"], x["积分"]) for x in rows] == [
        (a["rank"], a["name"], a["points"]) for a in api_rows
    ]
    li = next(x for x in rows if x["姓名"] == "李一")
    assert li["日均分"] == 40 and li["活跃天数"] == 7 and li["达标"] == "是"
    assert next(x for x in rows if x["姓名"] == "王二")["达标"] == "否"


def test_unit_export_holds_the_same_numbers_as_the_api(client, org):
    put_week(org)
    api = Api(client, org.admin)
    board = api.get("/leaderboards/units", parent=org.party.id, period="2026-W47")
    r = api.get("/exports/units.xlsx", parent=org.party.id, period="2026-W47")
    _, header, rows = sheet(r.data)
    for title in ("成员数", "参学人数", "参与率", "人均积分", "总积分", "排名", "变化"):
        assert title in header
    expected = [
        (
            u["rank"],
            u["name"],
            u["roster"],
            u["participants"],
            u["participation"],
            u["avg"],
            u["points"],
            u["change"],
        )
        for u in board.get_json()["rows"]
    ]
    got = [
        (
            x["排名"],
            x["单位"],
            x["成员数"],
            x["参学人数"],
            x["参与率"],
            x["人均积分"],
            x["总积分"],
            x["变化"],
        )
        for x in rows
    ]
    assert got == expected


def test_csv_has_a_bom_so_excel_reads_chinese(client, org):
    put_week(org)
    login(client, "admin")
    r = client.get(
        "/exports/members.csv", query_string={"unit": org.party.id, "period": "2026-W47"}
    )
    assert r.status_code == 200 and r.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["排名", "姓名", "支部", "积分"]
    assert rows[1][1] == "李一" and rows[1][3] == "280"
    assert rows[-1] == ["排名仅用于激励学习，不作考核依据"]


@pytest.mark.parametrize("who", ["m1", "m3"])
def test_a_members_export_names_nobody_below_target(client, org, who):
    put_week(org)
    api = Api(client, getattr(org, who))
    r = api.get("/exports/members.xlsx", unit=org.party.id, period="2026-W47")
    _, header, rows = sheet(r.data)
    assert "达标" not in header
    names = {x["姓名"] for x in rows}
    assert "王二" not in names and "张书记" not in names
    assert {"李一", "赵三"} <= names


def test_rankings_and_pdfs_are_written_in_a_child_process(client, org, monkeypatch):
    """A whole organisation's ranking and a PDF's subset font take memory a worker would keep;
    they are made in a forked child, whose errors still answer as they would in-process."""
    from tracker import serving

    pids = []
    real = serving.in_child

    def watched(work):
        pids.append(real(os.getpid))
        return real(work)

    monkeypatch.setattr(serving, "in_child", watched)
    put_week(org)
    api = Api(client, org.admin)
    assert api.get("/exports/members.xlsx", unit=org.party.id, period="2026-W47").status_code == 200
    assert api.get("/exports/units.csv", parent=org.party.id, period="2026-W47").status_code == 200
    pdf = api.get("/reviews/quarterly.pdf", unit=org.b1.id, quarter="2026-Q4")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    chart = api.get("/charts/units.pdf", parent=org.party.id, period="2026-W47")
    assert chart.status_code == 200 and chart.data.startswith(b"%PDF")
    refused = Api(client, org.m1).get("/reviews/quarterly.pdf", unit=org.b1.id, quarter="2026-Q4")
    assert refused.status_code == 403  # raised in the child, answered by the worker
    assert len(pids) == 5 and os.getpid() not in pids
