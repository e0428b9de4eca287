"""Rule versions, period locks, awards and the audit log through the admin pages and API."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import TODAY, csrf_token, login
from tests.integration.helpers import Api, snapshot
from tracker.domain.validation import ReportInput
from tracker.extensions import db
from tracker.models import Adjustment, AuditEntry, PeriodLock, RuleCategory, RuleVersion
from tracker.services import reports, rules


def last_audit(action: str) -> AuditEntry:
    db.session.expire_all()
    return (
        db.session.execute(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
        )
        .scalars()
        .first()
    )


def rules_snapshot():
    db.session.expire_all()
    return (
        db.session.execute(
            select(RuleVersion.id, RuleVersion.valid_from).order_by(RuleVersion.id)
        ).all(),
        db.session.execute(
            select(
                RuleCategory.version_id,
                RuleCategory.code,
                RuleCategory.daily_cap,
                RuleCategory.weekly_cap,
                RuleCategory.weekdays,
            ).order_by(RuleCategory.id)
        ).all(),
    )


# Rules --------------------------------------------------------------------------------------


def test_new_version_copies_the_current_one_and_its_caps_and_weekdays_can_be_edited(client, org):
    api = Api(client, org.admin)
    current = rules.version_for(date(2027, 1, 1))
    r = client.post(
        "/api/v1/admin/rules",
        json={"valid_from": "2027-01-01", "name": "2027 版"},
        headers=api.headers,
    )
    assert r.status_code == 201, r.json
    new_id = r.json["id"]
    assert [c["code"] for c in r.json["categories"]] == [c.code for c in current.categories]
    assert r.json["editable"] and last_audit("rules.create").actor_id == org.admin.id

    r = client.patch(
        f"/api/v1/admin/rules/{new_id}",
        json={"categories": {"article": {"daily_cap": 8}, "challenge": {"weekdays": [1, 3]}}},
        headers=api.headers,
    )
    assert r.status_code == 200, r.json
    version = rules.version_for(date(2027, 1, 4))  # a Monday
    assert version.category("article").daily_cap == 8
    assert version.category("challenge").weekdays_label() == "周一、周三"
    entry = last_audit("rules.update")
    before = {c["code"]: c for c in entry.before["categories"]}
    after = {c["code"]: c for c in entry.after["categories"]}
    assert before["article"]["daily_cap"] == 12 and after["article"]["daily_cap"] == 8
    assert after["challenge"]["weekdays"] == [1, 3]


def test_a_version_in_use_cannot_be_edited_and_bad_caps_are_named(client, org):
    reports.put(org.m1, org.m1, TODAY, ReportInput(total=10))
    in_force = rules.version_for(TODAY)
    api = Api(client, org.admin)
    before = rules_snapshot()
    r = client.patch(
        f"/api/v1/admin/rules/{in_force.id}",
        json={"categories": {"article": {"daily_cap": 1}}},
        headers=api.headers,
    )
    assert r.status_code == 422 and "version" in r.json["errors"]
    r = client.post("/api/v1/admin/rules", json={"valid_from": "2026-11-01"}, headers=api.headers)
    assert r.status_code == 422 and "已有填报" in r.json["errors"]["valid_from"]

    new_id = client.post(
        "/api/v1/admin/rules", json={"valid_from": "2027-03-01"}, headers=api.headers
    ).json["id"]
    before = rules_snapshot()
    r = client.patch(
        f"/api/v1/admin/rules/{new_id}",
        json={
            "categories": {
                "article": {"daily_cap": -1},
                "login": {"weekly_cap": "x"},
                "video": {"weekdays": [0, 8]},
                "nope": {"daily_cap": 1},
            }
        },
        headers=api.headers,
    )
    assert r.status_code == 422
    assert set(r.json["errors"]) == {
        "article.daily_cap",
        "login.weekly_cap",
        "video.weekdays",
        "nope",
    }
    assert rules_snapshot() == before


@pytest.mark.parametrize("who", ["leader", "m1"])
def test_only_admins_change_rules(client, org, who):
    api = Api(client, getattr(org, who))
    before = rules_snapshot()
    r = client.post("/api/v1/admin/rules", json={"valid_from": "2027-01-01"}, headers=api.headers)
    assert r.status_code == 403
    version = rules.version_for(TODAY)
    r = client.patch(
        f"/api/v1/admin/rules/{version.id}",
        json={"categories": {"article": {"daily_cap": 1}}},
        headers=api.headers,
    )
    assert r.status_code == 403
    login(client, who)
    assert client.get("/admin/rules").status_code == 403
    assert rules_snapshot() == before


def test_rule_pages_start_and_edit_a_version(client, org):
    login(client, "admin")
    r = client.post(
        "/admin/rules",
        data={"valid_from": "2027-02-01", "csrf_token": csrf_token(client, "/admin/rules")},
    )
    assert r.status_code == 302
    row = db.session.execute(
        select(RuleVersion).where(RuleVersion.valid_from == date(2027, 2, 1))
    ).scalar_one()
    page = client.get(f"/admin/rules/{row.id}")
    assert page.status_code == 200 and 'name="article.daily_cap"' in page.text
    form = {"csrf_token": csrf_token(client, f"/admin/rules/{row.id}")}
    for c in row.categories:
        form[f"{c.code}.daily_cap"] = str(c.daily_cap)
        form[f"{c.code}.weekly_cap"] = "" if c.weekly_cap is None else str(c.weekly_cap)
        form[f"{c.code}.weekdays"] = [str(d) for d in range(1, 8) if c.weekdays >> (d - 1) & 1]
    form["sport.daily_cap"] = "3"
    form["four_player.weekdays"] = ["1", "4", "6"]
    r = client.post(f"/admin/rules/{row.id}", data=form)
    assert r.status_code == 302, r.text
    version = rules.version_for(date(2027, 2, 1))
    assert version.category("sport").daily_cap == 3
    assert version.category("four_player").weekdays_label() == "周一、周四、周六"

    form["article.daily_cap"] = "abc"
    before = rules_snapshot()
    r = client.post(f"/admin/rules/{row.id}", data=form)
    assert r.status_code == 422 and "每日上限应为" in r.text and 'aria-invalid="true"' in r.text
    assert rules_snapshot() == before


# Locks --------------------------------------------------------------------------------------


def test_locking_a_month_blocks_reports_and_unlocking_needs_a_reason(client, org):
    api = Api(client, org.admin)
    r = client.post(
        "/api/v1/admin/locks",
        json={"kind": "month", "date": "2026-10-15", "reason": "十月已通报"},
        headers=api.headers,
    )
    assert r.status_code == 201 and (r.json["start"], r.json["end"]) == ("2026-10-01", "2026-10-31")
    lock_id = r.json["id"]
    assert last_audit("lock.create").after["end"] == "2026-10-31"
    assert reports.is_locked(date(2026, 10, 31))

    r = client.post(f"/api/v1/admin/locks/{lock_id}/unlock", json={}, headers=api.headers)
    assert r.status_code == 422 and "reason" in r.json["errors"]
    assert reports.is_locked(date(2026, 10, 31))
    r = client.post(
        f"/api/v1/admin/locks/{lock_id}/unlock", json={"reason": "补录遗漏"}, headers=api.headers
    )
    assert r.status_code == 200
    entry = last_audit("lock.delete")
    assert entry.before["start"] == "2026-10-01" and entry.after == {"reason": "补录遗漏"}
    assert not reports.is_locked(date(2026, 10, 31))

    r = client.post(
        "/api/v1/admin/locks", json={"kind": "year", "date": "2026-10-15"}, headers=api.headers
    )
    assert r.status_code == 422 and "kind" in r.json["errors"]


def test_lock_pages_confirm_in_page_and_are_for_admins_only(client, org):
    login(client, "admin")
    r = client.post(
        "/admin/locks",
        data={
            "kind": "week",
            "date": "2026-11-10",
            "csrf_token": csrf_token(client, "/admin/locks"),
        },
    )
    assert r.status_code == 302
    lock = db.session.execute(select(PeriodLock)).scalar_one()
    assert (lock.start, lock.end) == (date(2026, 11, 9), date(2026, 11, 15))
    page = client.get("/admin/locks")
    assert "<details" in page.text and "确认解锁" in page.text and "confirm(" not in page.text
    r = client.post(
        f"/admin/locks/{lock.id}/unlock",
        data={"reason": "", "csrf_token": csrf_token(client, "/admin/locks")},
    )
    assert r.status_code == 422 and "请填写解锁理由" in r.text
    assert db.session.execute(select(func.count()).select_from(PeriodLock)).scalar_one() == 1

    login(client, "leader")
    assert client.get("/admin/locks").status_code == 403
    leader = Api(client, org.leader)
    r = client.post(
        f"/api/v1/admin/locks/{lock.id}/unlock", json={"reason": "x"}, headers=leader.headers
    )
    assert r.status_code == 403
    assert db.session.execute(select(func.count()).select_from(PeriodLock)).scalar_one() == 1


# Awards and deductions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "target", "allowed"),
    [
        ("admin", "m3", True),
        ("leader", "m1", True),
        ("leader", "m3", False),  # another subtree
        ("m2", "m1", False),
    ],
)
def test_awards_admin_anywhere_leader_in_subtree(client, org, who, target, allowed):
    api = Api(client, getattr(org, who))
    member = getattr(org, target)
    before = snapshot()
    r = client.post(
        "/api/v1/admin/adjustments",
        json={"member": member.id, "date": "2026-11-20", "points": 5, "reason": "征文发表"},
        headers=api.headers,
    )
    if allowed:
        assert r.status_code == 201, r.json
        entry = last_audit("adjustment.create")
        assert entry.actor_id == getattr(org, who).id and entry.member_id == member.id
        assert entry.after == {"date": "2026-11-20", "points": 5, "reason": "征文发表"}
    else:
        assert r.status_code == 403
        assert snapshot() == before


def test_bad_award_is_named_per_field_and_changes_nothing(client, org):
    login(client, "leader")
    before = snapshot()
    r = client.post(
        "/admin/awards",
        data={
            "member": str(org.m1.id),
            "date": "2026-11-20",
            "points": "0",
            "reason": "",
            "csrf_token": csrf_token(client, "/admin/awards"),
        },
    )
    assert r.status_code == 422 and "非零整数" in r.text and "理由" in r.text
    r = client.post(
        "/admin/awards",
        data={
            "member": str(org.m1.id),
            "date": "2026-11-20",
            "points": "-3",
            "reason": "迟交",
            "csrf_token": csrf_token(client, "/admin/awards"),
        },
    )
    assert r.status_code == 302
    assert db.session.execute(select(Adjustment.points)).scalar_one() == -3
    assert snapshot()[3] != before[3]  # the roll-ups moved with the deduction
    page = client.get("/admin/awards")
    assert "迟交" in page.text and "赵三" not in page.text  # m3 is outside the subtree


# Audit log ----------------------------------------------------------------------------------


def test_audit_log_filters_by_member_unit_actor_kind_and_date(client, org):
    api = Api(client, org.admin)
    client.post(
        "/api/v1/admin/adjustments",
        json={"member": org.m3.id, "date": "2026-11-20", "points": 2, "reason": "兑现"},
        headers=api.headers,
    )
    client.post(
        f"/api/v1/admin/members/{org.m1.id}/leave", json={"date": "2026-11-21"}, headers=api.headers
    )

    def actions(**params):
        r = api.get("/admin/audit", **params)
        assert r.status_code == 200, r.json
        return [e["action"] for e in r.json["entries"]]

    assert actions(member=org.m3.id, kind="adjustment") == ["adjustment.create"]
    assert "member.active" in actions(unit=org.b1.id)
    assert "adjustment.create" not in actions(unit=org.b1.id)
    assert set(actions(actor=org.admin.id)) >= {"adjustment.create", "member.active"}
    assert actions(start="2030-01-01") == []
    entry = api.get("/admin/audit", kind="member.active").json["entries"][0]
    assert entry["before"]["active_to"] is None and entry["after"]["active_to"] == "2026-11-21"
    assert entry["member"]["name"] == "李一" and entry["actor"]["name"] == "管理员"
    bad = api.get("/admin/audit", start="yesterday")
    assert bad.status_code == 422 and "start" in bad.json["errors"]

    login(client, "admin")
    page = client.get(f"/admin/audit?member={org.m1.id}")
    assert page.status_code == 200 and "member.active" in page.text and "2026-11-21" in page.text
    assert client.get("/admin/audit?page=2").status_code == 200

    login(client, "m1")  # leaders see their subtrees' entries (test_admin_leaders.py)
    assert client.get("/admin/audit").status_code == 403
    assert Api(client, org.m1).get("/admin/audit").status_code == 403


def test_openapi_describes_the_admin_endpoints(client, org):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in (
        "/admin/units",
        "/admin/members/{id}/move",
        "/admin/rules/{id}",
        "/admin/locks/{id}/unlock",
        "/admin/adjustments",
        "/admin/audit",
        "/admin/imports/{kind}/commit",
    ):
        assert path in paths, path
    # Every admin route the app serves is described.
    served = {
        rule.rule.removeprefix("/api/v1")
        for rule in client.application.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/admin")
    }
    served = {
        re.sub(r"<(int:)?(\w+)>", lambda m: "{id}" if m.group(2).endswith("_id") else "{kind}", s)
        for s in served
    }
    assert served <= set(paths)
