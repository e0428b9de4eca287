"""Leader roles and the audit log as leaders see it: who may appoint whom, what each sees."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import login
from tests.integration.helpers import Api
from tests.integration.test_admin_org import audit_count, form_post, last_audit
from tracker.extensions import db
from tracker.models import LeaderRole, Member
from tracker.services import access
from tracker.services import org as org_service


def roles() -> list[tuple[int, int]]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(LeaderRole.member_id, LeaderRole.unit_id).order_by(
                LeaderRole.member_id, LeaderRole.unit_id
            )
        ).all()
    )


def appoint(api: Api, unit, member):
    return api.client.post(
        f"/api/v1/admin/units/{unit.id}/leaders", json={"member": member.id}, headers=api.headers
    )


def remove(api: Api, unit, member):
    return api.client.post(
        f"/api/v1/admin/units/{unit.id}/leaders/remove",
        json={"member": member.id},
        headers=api.headers,
    )


# Appointing and removing --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "unit", "member", "allowed"),
    [
        ("admin", "b2", "m3", True),
        ("admin", "g1", "m3", True),  # admins may appoint anyone anywhere
        ("leader", "g1", "m1", True),  # inside the leader's 第一支部, a member they manage
        ("leader", "b2", "m3", False),  # another subtree
        ("leader", "g1", "m3", False),  # a member of another subtree
        ("leader", "b2", "leader", False),  # themself, elsewhere
        ("leader", "g1", "leader", False),  # themself, even inside their own subtree
        ("m1", "g1", "m1", False),
        ("m1", "g1", "m2", False),
    ],
)
def test_appointing_a_leader_admin_anywhere_leader_in_subtree(
    client, org, who, unit, member, allowed
):
    actor, target, place = getattr(org, who), getattr(org, member), getattr(org, unit)
    api = Api(client, actor)
    before, audits = roles(), audit_count()
    r = appoint(api, place, target)
    if allowed:
        assert r.status_code == 201, r.json
        assert [m["id"] for m in r.json["leaders"]] == [target.id]
        assert (target.id, place.id) in roles()
        entry = last_audit("member.leader")
        assert entry.actor_id == actor.id and entry.member_id == target.id
        assert place.id not in [u["id"] for u in entry.before["leads"]]
        assert place.id in [u["id"] for u in entry.after["leads"]]
        # The new leader now manages the members of that subtree.
        assert access.leads_unit(db.session.get(Member, target.id), place)
    else:
        assert r.status_code == 403, r.json
        assert roles() == before and audit_count() == audits


@pytest.mark.parametrize(
    ("who", "allowed"), [("admin", True), ("leader", True), ("m3", False), ("m1", False)]
)
def test_removing_a_leader_admin_anywhere_leader_in_subtree(client, org, who, allowed):
    org_service.make_leader(org.m1, org.g1)
    api = Api(client, getattr(org, who))
    before, audits = roles(), audit_count()
    r = remove(api, org.g1, org.m1)
    if allowed:
        assert r.status_code == 200, r.json
        assert r.json["leaders"] == [] and (org.m1.id, org.g1.id) not in roles()
        entry = last_audit("member.leader_remove")
        assert entry.actor_id == getattr(org, who).id and entry.member_id == org.m1.id
        assert [u["id"] for u in entry.before["leads"]] == [org.g1.id]
        assert entry.after["leads"] == []
    else:
        assert r.status_code == 403
        assert roles() == before and audit_count() == audits


def test_a_leader_cannot_remove_themself_nor_a_leader_of_another_subtree(client, org):
    org_service.make_leader(org.m3, org.b2)
    leader, other, admin = Api(client, org.leader), Api(client, org.m3), Api(client, org.admin)
    before, audits = roles(), audit_count()
    assert remove(leader, org.b1, org.leader).status_code == 403
    assert remove(leader, org.b2, org.m3).status_code == 403
    assert remove(other, org.b1, org.leader).status_code == 403
    assert roles() == before and audit_count() == audits
    # An admin removes both.
    assert remove(admin, org.b1, org.leader).status_code == 200
    assert remove(admin, org.b2, org.m3).status_code == 200
    assert roles() == []


def test_bad_leader_input_is_named_per_field_and_changes_nothing(client, org):
    api = Api(client, org.admin)
    before, audits = roles(), audit_count()
    r = client.post(
        f"/api/v1/admin/units/{org.b1.id}/leaders", json={"member": "x"}, headers=api.headers
    )
    assert r.status_code == 422 and set(r.json["errors"]) == {"member"}
    r = client.post("/api/v1/admin/units/9999/leaders", json={"member": 9999}, headers=api.headers)
    assert r.status_code == 422 and set(r.json["errors"]) == {"unit", "member"}
    r = appoint(api, org.b1, org.leader)
    assert r.status_code == 422 and "已是" in r.json["errors"]["member"]
    r = remove(api, org.b2, org.m3)
    assert r.status_code == 422 and "不是" in r.json["errors"]["member"]
    assert roles() == before and audit_count() == audits
    # A retired unit takes no leaders.
    assert (
        client.post(
            f"/api/v1/admin/members/{org.m3.id}/move",
            json={"unit": org.b1.id, "date": "2026-11-16"},
            headers=api.headers,
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/v1/admin/units/{org.b2.id}/retire",
            json={"date": "2026-11-20"},
            headers=api.headers,
        ).status_code
        == 200
    )
    audits = audit_count()
    r = appoint(api, org.b2, org.m3)
    assert r.status_code == 422 and "已撤销" in r.json["errors"]["unit"]
    assert roles() == before and audit_count() == audits


def test_listing_a_units_leaders_and_a_members_roles(client, org):
    org_service.make_leader(org.m2, org.b1)
    r = client.get(
        f"/api/v1/admin/units/{org.b1.id}/leaders", headers=Api(client, org.admin).headers
    )
    assert r.status_code == 200
    assert {m["name"] for m in r.json["leaders"]} == {"张书记", "王二"}
    leader = Api(client, org.leader)
    assert client.get(f"/api/v1/admin/units/{org.g1.id}/leaders", headers=leader.headers).json == {
        "unit": {"id": org.g1.id, "name": "第一小组"},
        "leaders": [],
    }
    assert (
        client.get(f"/api/v1/admin/units/{org.b2.id}/leaders", headers=leader.headers).status_code
        == 403
    )
    assert (
        client.get(
            f"/api/v1/admin/units/{org.b1.id}/leaders", headers=Api(client, org.m1).headers
        ).status_code
        == 403
    )
    member = client.get(f"/api/v1/admin/members/{org.m2.id}", headers=leader.headers).json
    assert member["leads"] == [{"id": org.b1.id, "name": "第一支部"}]


def test_member_page_appoints_and_removes_with_in_page_confirmation(client, org):
    login(client, "leader")
    page = client.get(f"/admin/members/{org.m1.id}")
    assert page.status_code == 200 and "负责人职务" in page.text
    assert "目前不是任何单位的负责人" in page.text
    r = form_post(
        client,
        f"/admin/members/{org.m1.id}/lead",
        {"unit": str(org.g1.id)},
        f"/admin/members/{org.m1.id}",
    )
    assert r.status_code == 302 and (org.m1.id, org.g1.id) in roles()
    page = client.get(f"/admin/members/{org.m1.id}")
    assert "确认免去“第一小组”负责人" in page.text and "<details" in page.text
    assert "confirm(" not in page.text

    bad = form_post(
        client, f"/admin/members/{org.m1.id}/lead", {"unit": "x"}, f"/admin/members/{org.m1.id}"
    )
    assert bad.status_code == 422 and "不是整数" in bad.text
    again = form_post(
        client,
        f"/admin/members/{org.m1.id}/lead",
        {"unit": str(org.g1.id)},
        f"/admin/members/{org.m1.id}",
    )
    assert again.status_code == 422 and "已是" in again.text
    other = form_post(
        client,
        f"/admin/members/{org.m1.id}/lead",
        {"unit": str(org.b2.id)},
        f"/admin/members/{org.m1.id}",
    )
    assert other.status_code == 403 and (org.m1.id, org.b2.id) not in roles()

    r = form_post(
        client,
        f"/admin/members/{org.m1.id}/unlead",
        {"unit": str(org.g1.id)},
        f"/admin/members/{org.m1.id}",
    )
    assert r.status_code == 302 and (org.m1.id, org.g1.id) not in roles()
    assert last_audit("member.leader_remove").actor_id == org.leader.id

    # The leader's own page is out of reach, so is appointing themself there.
    assert client.get(f"/admin/members/{org.leader.id}").status_code == 403

    login(client, "admin")
    unit_page = client.get(f"/admin/units/{org.b1.id}")
    assert "负责人：" in unit_page.text and "张书记" in unit_page.text


# The audit log for leaders ------------------------------------------------------------------


def _actions(client, actor, **params) -> list[tuple[str, str]]:
    r = Api(client, actor).get("/admin/audit", **params)
    assert r.status_code == 200, r.json
    return [(e["action"], e["entity_id"]) for e in r.json["entries"]]


def test_leaders_see_entries_about_their_members_and_units_only(client, org):
    from tracker.services.admin import locks, rules

    admin = Api(client, org.admin)
    for member in (org.m1, org.m3):
        r = client.post(
            "/api/v1/admin/adjustments",
            json={"member": member.id, "date": "2026-11-20", "points": 2, "reason": "兑现"},
            headers=admin.headers,
        )
        assert r.status_code == 201
    client.patch(f"/api/v1/admin/units/{org.g1.id}", json={"name": "一组"}, headers=admin.headers)
    client.patch(f"/api/v1/admin/units/{org.b2.id}", json={"name": "二支"}, headers=admin.headers)
    locks.lock_period(org.admin, "week", org.m1.active_from, "已通报")
    rules.start_version(org.admin, org.m1.active_from.replace(year=2027), "2027 版")

    rows = Api(client, org.leader).get("/admin/audit").json["entries"]
    members = {e["member"]["id"] for e in rows if e["member"]}
    units = {e["entity_id"] for e in rows if e["entity"] == "unit"}
    kinds = {e["action"].split(".")[0] for e in rows}
    assert {org.leader.id, org.m1.id, org.m2.id} <= members and org.m3.id not in members
    assert str(org.g1.id) in units and str(org.b2.id) not in units
    assert "adjustment" in kinds and not kinds & {"lock", "rules", "import"}

    # Filters work as for admins, inside the leader's subtrees only.
    one = _actions(client, org.admin, kind="adjustment", member=org.m1.id)
    assert (
        len(one) == 1 and _actions(client, org.leader, kind="adjustment", member=org.m1.id) == one
    )
    assert _actions(client, org.leader, member=org.m3.id) == []
    assert _actions(client, org.leader, unit=org.b2.id) == []
    assert _actions(client, org.leader, kind="lock") == []
    # Admins keep seeing everything.
    everything = {a for a, _ in _actions(client, org.admin)}
    assert {"lock.create", "rules.create", "unit.rename", "adjustment.create"} <= everything
    assert org.m3.id in _members_in(client, org.admin)

    assert Api(client, org.m1).get("/admin/audit").status_code == 403


def _members_in(client, actor) -> set[int]:
    r = Api(client, actor).get("/admin/audit")
    return {e["member"]["id"] for e in r.json["entries"] if e["member"]}


def test_a_member_who_moves_away_leaves_the_old_leaders_view(client, org):
    assert org.m2.id in _members_in(client, org.leader)
    r = client.post(
        f"/api/v1/admin/members/{org.m2.id}/move",
        json={"unit": org.b2.id, "date": "2026-11-22"},
        headers=Api(client, org.admin).headers,
    )
    assert r.status_code == 200, r.json
    assert org.m2.id not in _members_in(client, org.leader)
    assert org.m2.id in _members_in(client, org.admin)


def test_audit_page_for_leaders_lists_their_units_and_kinds(client, org):
    admin = Api(client, org.admin)
    client.post(
        f"/api/v1/admin/members/{org.m1.id}/leave",
        json={"date": "2026-11-21"},
        headers=admin.headers,
    )
    client.post(
        f"/api/v1/admin/members/{org.m3.id}/leave",
        json={"date": "2026-11-21"},
        headers=admin.headers,
    )
    login(client, "leader")
    assert "审计日志" in client.get("/admin").text
    page = client.get("/admin/audit")
    assert page.status_code == 200
    assert "李一" in page.text and "赵三" not in page.text
    assert "第一小组" in page.text and "第二支部" not in page.text  # the unit filter's choices
    assert "时段锁定" not in page.text and "积分规则" not in page.text  # the kind filter's choices
    named = client.get(f"/admin/audit?member={org.m3.id}")
    assert named.status_code == 200 and "赵三" not in named.text
    bad = client.get("/admin/audit?start=yesterday")
    assert bad.status_code == 422 and "不是有效的日期" in bad.text
    login(client, "m1")
    assert client.get("/admin/audit").status_code == 403
