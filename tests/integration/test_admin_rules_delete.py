"""Deleting a rule version: only before it takes effect and while no report uses it."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import TODAY, login
from tests.integration.helpers import Api, snapshot
from tests.integration.test_admin_org import form_post
from tests.integration.test_admin_rules_locks import last_audit, rules_snapshot
from tracker.domain.validation import ReportInput
from tracker.services import reports, rules
from tracker.services.admin import rules as rule_admin

FUTURE = date(2027, 1, 1)


def start(actor, day: date = FUTURE) -> int:
    return rule_admin.start_version(actor, day, "新版本").id


def test_admin_deletes_a_future_version_and_the_one_before_stays_in_force(client, org):
    before = rules.version_for(FUTURE)
    version_id = start(org.admin)
    api = Api(client, org.admin)
    rule_admin.update_categories(org.admin, version_id, {"article": {"daily_cap": 3}})
    assert rules.version_for(FUTURE).category("article").daily_cap == 3

    r = client.delete(f"/api/v1/admin/rules/{version_id}", headers=api.headers)
    assert r.status_code == 200 and r.json == {"deleted": version_id}
    assert rules.version_for(FUTURE) == before
    entry = last_audit("rules.delete")
    assert entry.actor_id == org.admin.id and entry.entity_id == str(version_id)
    assert entry.before["valid_from"] == "2027-01-01" and entry.after is None
    by_code = {c["code"]: c for c in entry.before["categories"]}
    assert by_code["article"]["daily_cap"] == 3


def test_a_version_in_force_or_used_is_refused_with_a_reason_and_nothing_changes(app, client, org):
    api = Api(client, org.admin)
    in_force = rules.version_for(TODAY)
    before, snap = rules_snapshot(), snapshot()
    r = client.delete(f"/api/v1/admin/rules/{in_force.id}", headers=api.headers)
    assert r.status_code == 422
    assert "已于 2023-01-01 生效，不能删除" in r.json["errors"]["version"]
    r = client.delete("/api/v1/admin/rules/99999", headers=api.headers)
    assert r.status_code == 422 and "version" in r.json["errors"]
    assert rules_snapshot() == before and snapshot() == snap

    # A version whose first days were reported (the calendar moved on, then the report came
    # from a device whose clock was set back) still counts as used.
    version_id = start(org.admin, date(2026, 12, 1))
    app.config["FIXED_TODAY"] = "2026-12-02"
    reports.put(org.admin, org.m1, date(2026, 12, 1), ReportInput(total=5))
    app.config["FIXED_TODAY"] = TODAY.isoformat()
    before, snap = rules_snapshot(), snapshot()
    r = client.delete(f"/api/v1/admin/rules/{version_id}", headers=api.headers)
    assert r.status_code == 422 and "已有填报使用" in r.json["errors"]["version"]
    assert rules_snapshot() == before and snapshot() == snap


@pytest.mark.parametrize("who", ["leader", "m1"])
def test_only_admins_delete_rule_versions(client, org, who):
    version_id = start(org.admin)
    api = Api(client, getattr(org, who))
    before, snap = rules_snapshot(), snapshot()
    r = client.delete(f"/api/v1/admin/rules/{version_id}", headers=api.headers)
    assert r.status_code == 403
    assert rules_snapshot() == before and snapshot() == snap
    login(client, who)
    r = form_post(client, f"/admin/rules/{version_id}/delete", {}, "/report")
    assert r.status_code == 403 and rules_snapshot() == before


def test_rule_page_deletes_with_in_page_confirmation(client, org):
    version_id = start(org.admin)
    in_force = rules.version_for(TODAY)
    login(client, "admin")
    page = client.get(f"/admin/rules/{version_id}")
    assert "<details" in page.text and "确认删除" in page.text and "confirm(" not in page.text
    assert "确认删除" not in client.get(f"/admin/rules/{in_force.id}").text

    r = form_post(client, f"/admin/rules/{in_force.id}/delete", {}, f"/admin/rules/{in_force.id}")
    assert r.status_code == 422 and "不能删除" in r.text
    r = form_post(client, f"/admin/rules/{version_id}/delete", {}, f"/admin/rules/{version_id}")
    assert r.status_code == 302
    assert client.get(f"/admin/rules/{version_id}").status_code == 404
    assert last_audit("rules.delete").entity_id == str(version_id)
