"""Self-reports through the API: every validation rule gives a clear error and changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import TODAY
from tests.integration.helpers import Api, snapshot
from tracker.extensions import db
from tracker.models import AuditEntry, PeriodLock
from tracker.services import org as org_service

YESTERDAY = TODAY - timedelta(days=1)  # TODAY is Monday 2026-11-23


@pytest.fixture
def api(org, client):
    return Api(client, org.m1)


def rejected(response, status: int = 422) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"]
    return body.get("errors", {})


def test_quick_total_is_stored_and_read_back(api):
    r = api.put(f"/reports/{TODAY}", {"total": 35, "note": "早上学习"})
    assert r.status_code == 201
    assert r.get_json()["total"] == 35 and r.get_json()["form"] == "total"
    got = api.get(f"/reports/{TODAY}").get_json()
    assert got["total"] == 35 and got["note"] == "早上学习" and got["items"] == {}


def test_items_give_the_total_and_a_matching_typed_total_is_accepted(api):
    r = api.put(f"/reports/{TODAY}", {"items": {"article": 12, "login": 1}, "total": 13})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["total"] == 13
    assert r.get_json()["items"] == {"article": 12, "login": 1}


def test_resubmitting_a_day_replaces_it_and_is_audited_once_per_change(api):
    api.put(f"/reports/{TODAY}", {"items": {"article": 12}})
    r = api.put(f"/reports/{TODAY}", {"total": 20})
    assert r.status_code == 200 and r.get_json()["changed"] is True
    stored = api.get(f"/reports/{TODAY}").get_json()
    assert stored == {k: v for k, v in r.get_json().items() if k != "changed"}
    assert stored["total"] == 20 and stored["items"] == {}
    same = api.put(f"/reports/{TODAY}", {"total": 20})
    assert same.status_code == 200 and same.get_json()["changed"] is False
    entries = (
        db.session.execute(select(AuditEntry).where(AuditEntry.action == "report.put"))
        .scalars()
        .all()
    )
    assert len(entries) == 2
    assert entries[1].before["total"] == 12 and entries[1].after["total"] == 20
    assert entries[1].before["items"] == {"article": 12} and entries[1].after["items"] == {}


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"items": {"article": 13}}, "items.article", "上限 12"),
        ({"items": {"article": -1}}, "items.article", "负数"),
        ({"items": {"article": 2.5}}, "items.article", "整数"),
        ({"items": {"article": "3"}}, "items.article", "整数"),
        ({"items": {"article": True}}, "items.article", "整数"),
        ({"items": {"nonsense": 1}}, "items.nonsense", "没有类别"),
        # 2026-11-23 is a Monday: 挑战答题 counts only on Tue/Fri/Sun under the 2023 rules.
        ({"items": {"challenge": 5}}, "items.challenge", "周二"),
        ({"items": {"article": 12}, "total": 11}, "total", "不一致"),
        ({"total": 55}, "total", "上限 54"),
        ({"total": -3}, "total", "负数"),
        ({"total": "12"}, "total", "整数"),
        ({"cumulative": 1000}, "total", "第一次填写总积分"),
        ({"items": {"login": 1}, "cumulative": 100}, "cumulative", "不能再填总积分"),
        ({}, "items", "请填写"),
        # Numbers no cap limits are bounded before they could overflow a column.
        ({"cumulative": 10**12, "total": 5}, "cumulative", "不合理"),
        ({"items": {"article": 10**12}}, "items.article", "上限 12"),
        (
            {
                "total": 5,
                "quizzes": [{"kind": "挑战答题", "questions": 9, "correct": 9, "seconds": 10**12}],
            },
            "quizzes[0].seconds",
            "最多",
        ),
        ({"total": 10, "note": "长" * 501}, "note", "500"),
        (
            {"total": 10, "quizzes": [{"kind": "每日答题", "questions": 5, "correct": 6}]},
            "quizzes[0].correct",
            "多于题数",
        ),
        (
            {"total": 10, "quizzes": [{"kind": "", "questions": 5, "correct": 5}]},
            "quizzes[0].kind",
            "答题类型",
        ),
        (
            {"total": 10, "quizzes": [{"kind": "挑战答题", "questions": 0, "correct": 0}]},
            "quizzes[0].questions",
            "至少为 1",
        ),
        ({"total": 10, "bonus": 5}, "bonus", "未知字段"),
    ],
)
def test_invalid_report_is_rejected_with_a_field_message_and_nothing_changes(
    api, body, field, words
):
    api.put(f"/reports/{YESTERDAY}", {"total": 30})
    before = snapshot()
    errors = rejected(api.put(f"/reports/{TODAY}", body))
    assert field in errors, errors
    assert words in errors[field], errors[field]
    assert snapshot() == before


def test_weekly_cap_counts_the_other_days_of_the_iso_week(api, ctx):
    # 2026-11-18 (Wed) and 2026-11-19 (Thu) share the ISO week 2026-W47; sport has 2 a week.
    ctx.config["FIXED_TODAY"] = "2026-11-19"
    assert api.put("/reports/2026-11-18", {"items": {"sport": 2}}).status_code == 201
    before = snapshot()
    errors = rejected(api.put("/reports/2026-11-19", {"items": {"sport": 1}}))
    assert "每周上限 2" in errors["items.sport"]
    assert snapshot() == before
    # Re-submitting the same day does not count against itself.
    assert api.put("/reports/2026-11-18", {"items": {"sport": 2, "login": 1}}).status_code == 200


def test_a_date_before_and_after_a_rule_change_validates_differently(org, api, ctx):
    ctx.config["FIXED_TODAY"] = "2023-01-03"
    ctx.config["BACKFILL_DAYS_MEMBER"] = 10
    org_service.set_active_dates(org.m1, date(2022, 1, 1), None)
    # 视听学习 (video) was capped at 6 before 2023 and at 12 after.
    errors = rejected(api.put("/reports/2022-12-30", {"items": {"video": 12}}))
    assert "上限 6" in errors["items.video"]
    assert api.put("/reports/2023-01-03", {"items": {"video": 12}}).status_code == 201
    # 强国运动 (sport) did not exist before 2023.
    assert (
        "没有类别"
        in rejected(api.put("/reports/2022-12-30", {"items": {"sport": 1}}))["items.sport"]
    )
    rules_2022 = api.get("/rules", date="2022-12-30").get_json()
    rules_2023 = api.get("/rules", date="2023-01-03").get_json()
    assert rules_2022["valid_from"] == "2022-06-01" and rules_2023["valid_from"] == "2023-01-01"
    assert rules_2022["day_maximum"] != rules_2023["day_maximum"]


def test_future_date_is_rejected(api):
    before = snapshot()
    errors = rejected(api.put(f"/reports/{TODAY + timedelta(days=1)}", {"total": 10}))
    assert "未来" in errors["date"]
    assert snapshot() == before


def test_member_backfill_window_is_today_and_yesterday_but_leaders_go_further(org, client, api):
    assert api.put(f"/reports/{YESTERDAY}", {"total": 10}).status_code == 201
    before = snapshot()
    errors = rejected(api.put(f"/reports/{TODAY - timedelta(days=2)}", {"total": 10}))
    assert "只能补填" in errors["date"]
    assert snapshot() == before
    leader = Api(client, org.leader)
    r = leader.put(f"/reports/{TODAY - timedelta(days=20)}", {"total": 10}, member=org.m1.id)
    assert r.status_code == 201 and r.get_json()["member_id"] == org.m1.id


def test_nothing_changes_in_a_locked_period(org, api):
    api.put(f"/reports/{YESTERDAY}", {"total": 10})
    db.session.add(
        PeriodLock(start=YESTERDAY - timedelta(days=6), end=YESTERDAY, reason="周报已发")
    )
    db.session.commit()
    before = snapshot()
    errors = rejected(api.put(f"/reports/{YESTERDAY}", {"total": 30}))
    assert "锁定" in errors["date"]
    assert snapshot() == before
    assert api.put(f"/reports/{TODAY}", {"total": 30}).status_code == 201


def test_a_day_outside_the_members_active_dates_is_rejected(org, api):
    org_service.set_active_dates(org.m1, TODAY, None)
    before = snapshot()
    errors = rejected(api.put(f"/reports/{YESTERDAY}", {"total": 10}))
    assert "在册" in errors["date"]
    assert snapshot() == before


def test_cumulative_form_derives_the_day_from_the_last_platform_total(api):
    first = api.put(f"/reports/{YESTERDAY}", {"cumulative": 15000, "total": 30})
    assert first.status_code == 201 and first.get_json()["total"] == 30
    r = api.put(f"/reports/{TODAY}", {"cumulative": 15042})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["total"] == 42 and r.get_json()["form"] == "cumulative"
    before = snapshot()
    errors = rejected(api.put(f"/reports/{TODAY}", {"cumulative": 14000}))
    assert "小于此前" in errors["cumulative"]
    errors = rejected(api.put(f"/reports/{TODAY}", {"cumulative": 15100}))
    assert "上限" in errors["cumulative"]
    errors = rejected(api.put(f"/reports/{TODAY}", {"cumulative": 15042, "total": 40}))
    assert "不一致" in errors["total"]
    # Yesterday cannot be raised above a later platform total.
    errors = rejected(api.put(f"/reports/{YESTERDAY}", {"cumulative": 15050, "total": 30}))
    assert "之后一天" in errors["cumulative"]
    assert snapshot() == before


def test_quizzes_are_stored_with_the_report_and_replaced_with_it(api):
    quiz = {"kind": "挑战答题", "questions": 30, "correct": 30, "seconds": 600}
    api.put(f"/reports/{TODAY}", {"total": 20, "quizzes": [quiz]})
    assert api.get(f"/reports/{TODAY}").get_json()["quizzes"] == [quiz]
    api.put(f"/reports/{TODAY}", {"total": 20})
    assert api.get(f"/reports/{TODAY}").get_json()["quizzes"] == []


def test_bad_json_and_bad_dates_get_problem_details(api):
    errors = rejected(api.get("/reports/2026-13-01"), 400)
    assert "date" in errors
    r = api.client.put(
        f"/api/v1/reports/{TODAY}",
        data="not json",
        headers=api.headers | {"Content-Type": "application/json"},
    )
    rejected(r, 400)
    assert rejected(api.get(f"/reports/{YESTERDAY}"), 404) == {}


def test_api_needs_authentication_and_session_writes_need_a_csrf_header(org, client):
    r = client.get("/api/v1/me")
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer wrong"})
    assert bad.status_code == 401
    from tests.conftest import csrf_token, login

    login(client, "m1")
    assert client.get("/api/v1/me").get_json()["name"] == "李一"
    assert client.put(f"/api/v1/reports/{TODAY}", json={"total": 5}).status_code == 400
    token = csrf_token(client)
    r = client.put(f"/api/v1/reports/{TODAY}", json={"total": 5}, headers={"X-CSRFToken": token})
    assert r.status_code == 201


def test_openapi_document_describes_the_routes(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in [
        "/me",
        "/rules",
        "/reports/{date}",
        "/leaderboards/members",
        "/leaderboards/units",
    ]:
        assert path in doc["paths"]


def test_dates_far_outside_the_products_range_get_a_clear_error(api, client):
    errors = rejected(api.get("/leaderboards/members", date="0001-01-01"), 400)
    assert "2000-01-01" in errors["date"]
    assert "period" in rejected(api.get("/leaderboards/units", period="0001-W01"), 400)
    assert "date" in rejected(api.get("/reports/9999-12-31"), 400)


def test_ids_too_large_or_not_ascii_digits_are_a_clear_error_not_a_crash(api, client):
    for value in ("99999999999999999999", "2147483648", "²", "١٢"):
        assert "unit" in rejected(api.get("/leaderboards/members", unit=value), 400)
        assert "parent" in rejected(api.get("/leaderboards/units", parent=value), 400)
        assert "member" in rejected(api.get("/reports/2026-11-20", member=value), 400)
    assert "limit" in rejected(api.get("/leaderboards/members", limit="²"), 400)
