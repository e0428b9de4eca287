"""Privacy and humane settings (SPEC §9): stored by admins, anonymity chosen by members."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import TODAY, csrf_token, login
from tests.integration.helpers import Api
from tracker.domain.validation import ReportInput
from tracker.extensions import db
from tracker.models import AuditEntry, OrgSetting
from tracker.services import access, org_settings, reports


def _report(member, points, day=TODAY):
    reports.put(member, member, day, ReportInput(total=points))


def _put(client, member, path, body):
    api = Api(client, member)
    return api.client.put(f"/api/v1{path}", json=body, headers=api.headers)


def test_defaults_come_from_config_and_are_humane(org):
    assert org_settings.values() == {
        "hide_below_target": True,
        "evidence_enabled": False,
        "unit_rankings_enabled": True,
        "weekly_bulletin_enabled": True,
    }


def test_admin_changes_settings_with_an_audit_entry_and_others_cannot(org, client):
    r = _put(client, org.admin, "/settings", {"unit_rankings_enabled": False})
    assert r.status_code == 200 and r.json["unit_rankings_enabled"] is False
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "settings.update")
    ).scalar_one()
    assert entry.before == {"unit_rankings_enabled": True}
    assert entry.after == {"unit_rankings_enabled": False}
    assert entry.actor_id == org.admin.id
    # The stored value now governs the boards, whatever the config says.
    assert Api(client, org.m1).get("/leaderboards/units").status_code == 404
    for who in (org.leader, org.m1):
        assert _put(client, who, "/settings", {"unit_rankings_enabled": True}).status_code == 403
    assert org_settings.value("unit_rankings_enabled") is False


def test_bad_settings_are_rejected_and_nothing_changes(org, client):
    for body in ({"unit_rankings_enabled": "no"}, {"nonsense": True}, {}, [1]):
        r = _put(client, org.admin, "/settings", body)
        assert r.status_code == 422, body
        assert r.mimetype == "application/problem+json"
    r = _put(client, org.admin, "/settings", {"evidence_enabled": True, "hide_below_target": "1"})
    assert r.status_code == 422 and "hide_below_target" in r.json["errors"]
    assert db.session.execute(select(OrgSetting)).first() is None


def test_settings_page_is_for_admins(org, client):
    login(client, "leader")
    assert client.get("/settings/organisation").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    login(client, "admin")
    assert "允许上传积分截图" in client.get("/settings/organisation").get_data(as_text=True)
    token = csrf_token(client, "/settings/organisation")
    r = client.post(
        "/settings/organisation",
        data={"csrf_token": token, "hide_below_target": "1", "evidence_enabled": "1"},
    )
    assert r.status_code == 302
    assert org_settings.values() == {
        "hide_below_target": True,
        "evidence_enabled": True,
        "unit_rankings_enabled": False,
        "weekly_bulletin_enabled": False,
    }
    # Evidence on: the report form offers the (optional) screenshot; unit boards are gone.
    page = client.get("/report").get_data(as_text=True)
    assert 'name="evidence"' in page and "单位榜" not in page
    assert client.get("/boards/units").status_code == 404


def test_turning_off_hiding_shows_names_below_target_to_members(org, client):
    _report(org.m1, 40)
    _report(org.m2, 5)
    board = Api(client, org.m3).get("/leaderboards/members", unit=org.b1.id, period="day")
    assert "王二" not in [r["name"] for r in board.json["rows"]]
    org_settings.save(org.admin, {"hide_below_target": False})
    board = Api(client, org.m3).get("/leaderboards/members", unit=org.b1.id, period="day")
    assert "王二" in [r["name"] for r in board.json["rows"]]


def test_anonymous_member_is_anonymous_to_other_members_only(org, client):
    _report(org.m1, 40)
    _report(org.m2, 35)
    r = _put(client, org.m1, "/me/privacy", {"anonymous_on_boards": True})
    assert r.status_code == 200 and r.json == {"anonymous_on_boards": True}
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "privacy.prefs")
    ).scalar_one()
    assert entry.member_id == org.m1.id and entry.after == {"anonymous_on_boards": True}

    def first_row(who):
        board = Api(client, who).get("/leaderboards/members", unit=org.b1.id, period="day")
        row = board.json["rows"][0]
        return row["name"], row["member_id"], row["unit_name"], row["points"]

    # Other members see the points but neither the name, the id nor the unit.
    assert first_row(org.m2) == ("匿名党员", None, "", 40)
    assert first_row(org.m3) == ("匿名党员", None, "", 40)
    # The member sees themself; the leader of the subtree sees everyone.
    assert first_row(org.m1)[:2] == ("李一", org.m1.id)
    assert first_row(org.leader)[:2] == ("李一", org.m1.id)
    # Their own records are untouched.
    assert Api(client, org.m1).get(f"/reports/{TODAY.isoformat()}").json["total"] == 40


def test_only_the_member_sets_their_own_anonymity(org):
    with pytest.raises(access.Forbidden):
        org_settings.set_anonymous(org.admin, org.m1, True)
    assert not org_settings.is_anonymous(org.m1.id)


def test_anonymity_form_for_members_and_bad_input(org, client):
    login(client, "m2")
    assert "匿名党员" in client.get("/settings/privacy").get_data(as_text=True)
    token = csrf_token(client, "/settings/privacy")
    r = client.post("/settings/privacy", data={"csrf_token": token, "anonymous": "1"})
    assert r.status_code == 302 and org_settings.is_anonymous(org.m2.id)
    for body in ({"anonymous_on_boards": 1}, {"anonymous": False}, {}):
        r = client.put("/api/v1/me/privacy", json=body, headers={"X-CSRFToken": token})
        assert r.status_code == 422, body
    assert org_settings.is_anonymous(org.m2.id)


def test_switching_off_the_bulletin_holds_it(org):
    from tracker.services.reminders import runs

    org_settings.save(org.admin, {"weekly_bulletin_enabled": False})
    result = runs.run("weekly", TODAY, dry_run=True)
    assert result.held == "本组织已关闭每周通报"
