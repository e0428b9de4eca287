"""Activities: leaders record their units' study events; attendees earn points by rule."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import TODAY, csrf_token, login
from tests.integration.helpers import Api, snapshot
from tracker.domain.periods import period_of
from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import Activity, Adjustment, AuditEntry
from tracker.services import access, activities, rankings, rollups
from tracker.services.admin import locks

DAY = TODAY - timedelta(days=2)


def _points(member_id: int, period: str = "week", day: date = DAY) -> int:
    board = rankings.member_board(period_of(period, day), _root())
    return next(s.points for s in board.standings if s.member_id == member_id)


def _root():
    from tracker.services import org

    return org.root_unit()


def _post(client, member, path, body):
    api = Api(client, member)
    return api.client.post(f"/api/v1{path}", json=body, headers=api.headers)


def test_attendees_earn_the_kinds_points_in_rankings_and_history(org, client):
    activity = activities.record(
        org.leader, org.b1, "central_study", DAY, "学习二十届四中全会精神", [org.m1.id, org.m2.id]
    )
    assert activity.points_each == 5
    assert _points(org.m1.id) == 5 and _points(org.m2.id) == 5 and _points(org.m3.id) == 0
    # The roll-ups equal a rebuild from the daily rows and awards.
    before = rollups.stored()
    rollups.rebuild_all()
    assert rollups.stored() == before
    # Members see it in their history; others do not.
    mine = Api(client, org.m1).get("/me/activities").json
    assert mine[0]["points"] == 5 and mine[0]["kind_label"] == "集中学习"
    assert Api(client, org.m3).get("/me/activities").json == []
    login(client, "m1")
    page = client.get("/history").get_data(as_text=True)
    assert "集中学习：学习二十届四中全会精神" in page
    # Audited: the activity and each attendee's award.
    actions = db.session.execute(
        select(AuditEntry.action, AuditEntry.member_id).order_by(AuditEntry.id)
    ).all()
    assert ("activity.create", None) in actions
    assert ("adjustment.create", org.m1.id) in actions and (
        "adjustment.create",
        org.m2.id,
    ) in actions


def test_editing_attendance_moves_points_and_deleting_takes_them_back(org, client):
    activity = activities.record(org.leader, org.b1, "party_lecture", DAY, "党课", [org.m1.id])
    r = Api(client, org.leader).put(
        f"/activities/{activity.id}",
        {"attendees": [org.m2.id], "date": (DAY - timedelta(days=1)).isoformat()},
    )
    assert r.status_code == 200, r.json
    assert r.json["attendees"] == [org.m2.id]
    assert _points(org.m1.id) == 0 and _points(org.m2.id) == 5
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "activity.update")
    ).scalar_one()
    assert entry.before["attendees"] == [org.m1.id] and entry.after["attendees"] == [org.m2.id]
    api = Api(client, org.leader)
    assert (
        api.client.delete(f"/api/v1/activities/{activity.id}", headers=api.headers).status_code
        == 204
    )
    assert _points(org.m2.id) == 0
    assert db.session.execute(select(func.count()).select_from(Adjustment)).scalar_one() == 0
    assert db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "activity.delete")
    ).scalar_one()


def test_points_follow_the_rule_and_admins_change_it_for_future_activities(org, client):
    api = Api(client, org.admin)
    r = api.client.put("/api/v1/activity-kinds/essay", json={"points": 8}, headers=api.headers)
    assert r.status_code == 200 and r.json["points"] == 8
    api = Api(client, org.leader)
    r = api.client.put("/api/v1/activity-kinds/essay", json={"points": 80}, headers=api.headers)
    assert r.status_code == 403
    activity = activities.record(
        org.leader, org.b1, "essay", DAY, "征文《我的学习》发表", [org.m1.id]
    )
    assert activity.points_each == 8 and _points(org.m1.id) == 8
    assert db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "activity_kind.update")
    ).scalar_one().after == {"points": 8}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "party", "title": "x"}, "kind"),
        ({"title": ""}, "title"),
        ({"date": (TODAY + timedelta(days=1)).isoformat()}, "date"),
        ({"date": "2026-13-01"}, "date"),
        ({"date": (TODAY - timedelta(days=400)).isoformat()}, "date"),
        ({"attendees": "all"}, "attendees"),
        ({"attendees": [999]}, "attendees"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_activities_are_rejected_with_the_field_and_nothing_changes(org, client, body, field):
    base = {"unit_id": org.b1.id, "kind": "central_study", "date": DAY.isoformat(), "title": "学习"}
    api = Api(client, org.leader)
    before = snapshot()
    r = api.client.post("/api/v1/activities", json=base | body, headers=api.headers)
    assert r.status_code == 422 and field in r.json["errors"], r.json
    assert snapshot() == before
    assert db.session.execute(select(func.count()).select_from(Activity)).scalar_one() == 0


def test_attendees_must_belong_to_the_unit_on_that_day(org, client):
    api = Api(client, org.leader)
    before = snapshot()
    r = api.client.post(
        "/api/v1/activities",
        headers=api.headers,
        json={
            "unit_id": org.b1.id,
            "kind": "central_study",
            "date": DAY.isoformat(),
            "title": "学习",
            "attendees": [org.m1.id, org.m3.id],
        },
    )
    assert r.status_code == 422 and "赵三" in r.json["errors"]["attendees"]
    assert snapshot() == before


def test_locked_days_take_no_activities(org):
    locks.lock_period(org.admin, "week", DAY, "已通报")
    with pytest.raises(ValidationError) as e:
        activities.record(org.leader, org.b1, "central_study", DAY, "学习", [org.m1.id])
    assert "锁定" in e.value.errors["date"]


def test_a_leader_cannot_touch_another_subtree_and_members_cannot_record(org, client):
    with pytest.raises(access.Forbidden):
        activities.record(org.leader, org.b2, "central_study", DAY, "学习", [org.m3.id])
    other = activities.record(org.admin, org.b2, "central_study", DAY, "学习", [org.m3.id])
    leader = Api(client, org.leader)
    assert leader.get(f"/activities/{other.id}").status_code == 403
    assert leader.put(f"/activities/{other.id}", {"attendees": []}).status_code == 403
    assert leader.get("/activities", unit=org.b2.id).status_code == 403
    assert leader.get("/activities/gaps", unit=org.b2.id).status_code == 403
    r = _post(
        client,
        org.m1,
        "/activities",
        {
            "unit_id": org.g1.id,
            "kind": "central_study",
            "date": DAY.isoformat(),
            "title": "学习",
            "attendees": [org.m1.id],
        },
    )
    assert r.status_code == 403
    login(client, "m1")
    assert client.get("/activities").status_code == 403
    assert _points(org.m3.id) == 5  # the admin's record stands


def test_monthly_central_study_gaps_for_branches_and_groups(org, client):
    month_day = date(2026, 11, 5)
    r = Api(client, org.admin).get(
        "/activities/gaps", unit=org.party.id, date=month_day.isoformat()
    )
    assert [row["name"] for row in r.json["rows"]] == ["第一支部", "第一小组", "第二支部"]
    activities.record(org.leader, org.g1, "central_study", month_day, "小组学习", [org.m1.id])
    activities.record(org.leader, org.b1, "party_lecture", month_day, "党课", [])  # not 集中学习
    r = Api(client, org.leader).get("/activities/gaps", date=month_day.isoformat())
    assert [row["name"] for row in r.json["rows"]] == ["第一支部"]
    # Last month's study does not count for this month.
    r = Api(client, org.admin).get("/activities/gaps", unit=org.party.id, date="2026-12-01")
    rows = {row["name"]: row["last_held"] for row in r.json["rows"]}
    assert rows == {"第一支部": None, "第一小组": "2026-11-05", "第二支部": None}
    login(client, "leader")
    page = client.get(f"/activities/gaps?date={month_day.isoformat()}").get_data(as_text=True)
    assert "第一支部" in page and "第二支部" not in page


def test_many_gaps_are_counted_under_each_sub_unit_with_links(org, client, monkeypatch):
    from tracker.web.activities import routes

    monkeypatch.setattr(routes, "GAPS_LISTED", 2)  # a province's thousands, in small
    login(client, "admin")
    page = client.get(f"/activities/gaps?unit={org.party.id}&date=2026-11-05").get_data(
        as_text=True
    )
    rows = re.findall(r'<tr><td><a href="([^"]+)">([^<]+)</a></td><td>(\d+)</td></tr>', page)
    assert rows == [
        (f"/activities/gaps?unit={org.b1.id}&amp;date=2026-11-01", "第一支部", "2"),
        (f"/activities/gaps?unit={org.b2.id}&amp;date=2026-11-01", "第二支部", "1"),
    ]
    assert "共有 3 个单位本月尚未开展" in page and "从未记录" not in page
    # Two or fewer: the units themselves.
    page = client.get(f"/activities/gaps?unit={org.b1.id}&date=2026-11-05").get_data(as_text=True)
    assert "尚未开展的单位</th>" not in page and page.count("从未记录") == 2


def test_leader_records_an_activity_through_the_page(org, client):
    login(client, "leader")
    form = client.get(f"/activities/new?unit={org.b1.id}").get_data(as_text=True)
    assert "李一" in form and "赵三" not in form
    token = csrf_token(client, "/activities")
    r = client.post(
        "/activities/new",
        data={
            "csrf_token": token,
            "unit": org.b1.id,
            "kind": "monday_evening",
            "date": DAY.isoformat(),
            "title": "每周一晚学习",
            "attendee": [str(org.m1.id), str(org.leader.id)],
        },
    )
    assert r.status_code == 302
    assert _points(org.leader.id) == 3 and _points(org.m1.id) == 3
    bad = client.post(
        "/activities/new",
        data={
            "csrf_token": token,
            "unit": org.b1.id,
            "kind": "monday_evening",
            "date": DAY.isoformat(),
            "title": "",
        },
    )
    assert bad.status_code == 422 and "活动名称" in bad.get_data(as_text=True)
    listing = client.get("/activities").get_data(as_text=True)
    assert "每周一晚学习" in listing


def test_a_roster_too_long_to_tick_keeps_the_attendees_already_recorded(org, client, monkeypatch):
    from tracker.web.activities import routes

    monkeypatch.setattr(routes, "PICKER_ROWS", 2)  # 第一支部 has three members
    activity = activities.record(org.leader, org.b1, "central_study", DAY, "集中学习", [org.m1.id])
    login(client, "leader")
    form = client.get(f"/activities/new?unit={org.b1.id}").get_data(as_text=True)
    assert "3 人在册" in form and 'name="attendee"' not in form
    assert "请到下级单位分别记录" in form and f"/activities/new?unit={org.g1.id}" in form
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    ticked = re.findall(r'name="attendee" value="(\d+)" checked', page)
    assert ticked == [str(org.m1.id)] and "李一" in page and "王二" not in page
    # Saved as shown (a new title), the attendance stays: nobody loses their points.
    r = client.post(
        f"/activities/{activity.id}",
        data={
            "csrf_token": csrf_token(client, f"/activities/{activity.id}"),
            "unit": org.b1.id,
            "date": DAY.isoformat(),
            "title": "集中学习（补记）",
            "attendee": ticked,
        },
    )
    assert r.status_code == 302
    assert [a.member_id for a in db.session.get(Activity, activity.id).attendance] == [org.m1.id]
    assert _points(org.m1.id) == 5
    monkeypatch.setattr(routes, "PICKER_ROWS", 3)  # three fit: everyone is listed again
    form = client.get(f"/activities/new?unit={org.b1.id}").get_data(as_text=True)
    assert len(re.findall(r'name="attendee"', form)) == 3 and "无法逐一勾选" not in form
