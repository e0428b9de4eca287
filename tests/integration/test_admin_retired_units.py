"""A retired unit takes nobody on the day it is retired or later: not through the admin pages,
the API, a roster import or a report import."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import update

from tests.integration.helpers import Api, snapshot
from tests.integration.test_admin_org import audit_count, roster
from tests.integration.test_import_reports import csv_bytes, errors_of, xlsx
from tracker.extensions import db
from tracker.models import Unit
from tracker.services import imports, tx
from tracker.services.admin import units

RETIRED = date(2026, 11, 16)


@pytest.fixture
def retired(org):
    """第二支部 retired from 2026-11-16, after 赵三 moved to 第一支部 that day."""
    from tracker.services.admin import members

    members.move(org.admin, org.m3.id, org.b1.id, RETIRED)
    units.retire(org.admin, org.b2.id, RETIRED)
    return org


def test_admin_create_and_move_into_a_retired_unit_are_refused(client, retired):
    org = retired
    api = Api(client, org.admin)
    before, audits = roster(), audit_count()
    for active_from in ("2026-11-20", "2026-11-01"):  # after, and before, the retirement
        r = client.post(
            "/api/v1/admin/members",
            json={"name": "新人", "unit": org.b2.id, "active_from": active_from},
            headers=api.headers,
        )
        assert r.status_code == 422
        assert "第二支部" in r.json["errors"]["unit"] and "2026-11-16" in r.json["errors"]["unit"]
    r = client.post(
        f"/api/v1/admin/members/{org.m1.id}/move",
        json={"unit": org.b2.id, "date": "2026-11-20"},
        headers=api.headers,
    )
    assert r.status_code == 422 and "已撤销（2026-11-16 起）" in r.json["errors"]["unit"]
    assert roster() == before and audit_count() == audits


def test_a_unit_retiring_later_takes_no_open_ended_member(client, org):
    api = Api(client, org.admin)
    client.post(
        f"/api/v1/admin/members/{org.m3.id}/move",
        json={"unit": org.b1.id, "date": "2026-11-20"},
        headers=api.headers,
    )
    units.retire(org.admin, org.b2.id, date(2026, 12, 1))
    before, audits = roster(), audit_count()
    r = client.post(
        "/api/v1/admin/members",
        json={"name": "新人", "unit": org.b2.id, "active_from": "2026-11-23"},
        headers=api.headers,
    )
    assert r.status_code == 422 and "自 2026-12-01 起撤销" in r.json["errors"]["unit"]
    assert roster() == before and audit_count() == audits


def test_leaders_of_another_subtree_are_refused_before_anything_is_said_of_the_unit(
    client, retired
):
    org = retired
    api = Api(client, org.leader)
    before = roster()
    r = client.post(
        "/api/v1/admin/members",
        json={"name": "新人", "unit": org.b2.id, "active_from": "2026-11-20"},
        headers=api.headers,
    )
    assert r.status_code == 403 and roster() == before


def test_roster_import_refuses_a_retired_unit_with_row_column_and_reason(retired):
    org = retired
    data = xlsx(
        [
            ["姓名", "单位", "加入日期", "离开日期"],
            ["钱四", "第一支部", "2026-11-20", ""],
            ["孙五", "第二支部", "2026-11-20", ""],  # after the retirement
            ["周六", "第二支部", "2026-11-01", ""],  # would stay on past it
            ["吴七", "第二支部", "2026-11-01", "2026-11-15"],  # left the day before: fine
            ["郑八", "第二支部", "2026-11-01", "2026-11-16"],  # still there that day
        ]
    )
    errors = errors_of("members", data, org.admin)
    assert errors == [
        (3, "单位", "“第二支部”已撤销（2026-11-16 起），不能再有党员"),
        (4, "单位", "“第二支部”自 2026-11-16 起撤销，此后不能再有党员"),
        (6, "单位", "“第二支部”自 2026-11-16 起撤销，此后不能再有党员"),
    ]
    before, members = snapshot(), roster()
    with pytest.raises(imports.ImportRejected):
        imports.commit("members", "f.xlsx", data, org.admin)
    assert snapshot() == before and roster() == members

    units_file = csv_bytes([["名称", "类型", "上级单位"], ["二支一组", "党小组", "第二支部"]])
    assert errors_of("units", units_file, org.admin, "u.csv") == [
        (2, "上级单位", "“第二支部”已撤销")
    ]


def test_report_import_refuses_rows_that_place_a_member_in_a_retired_unit(retired):
    org = retired
    data = xlsx(
        [
            ["姓名", "单位", "日期", "今日积分"],
            ["赵三", "第二支部", "2026-11-13", 10],  # before the retirement: fine
            ["赵三", "第二支部", "2026-11-17", 10],
            ["赵三", "第一支部", "2026-11-18", 10],  # the unit 赵三 belongs to that day
            ["赵三", "", "2026-11-19", 10],
        ]
    )
    errors = errors_of("reports", data, org.admin)
    assert errors == [(3, "单位", "“第二支部”已撤销（2026-11-16 起），不能再有党员")]
    before = snapshot()
    with pytest.raises(imports.ImportRejected):
        imports.commit("reports", "f.xlsx", data, org.admin)
    assert snapshot() == before


def test_report_import_names_a_membership_left_in_a_retired_unit(org):
    # Rosters loaded before retirements were checked can still hold such a membership.
    with tx.write():
        db.session.execute(update(Unit).where(Unit.id == org.b2.id).values(retired_on=RETIRED))
    data = xlsx([["姓名", "日期", "今日积分"], ["赵三", "2026-11-17", 10]])
    assert errors_of("reports", data, org.admin) == [
        (2, "日期", "赵三在 2026-11-17 所属的“第二支部”已撤销（2026-11-16 起），不能再有党员")
    ]
