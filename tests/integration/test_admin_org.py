"""Administration of the unit tree and members: who may do what, audit entries, bad input."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import login
from tests.integration.helpers import Api
from tracker.extensions import db
from tracker.models import AuditEntry, Member, Membership, Unit
from tracker.security import member_for_token
from tracker.services import org as org_service


def audit_count(action: str | None = None) -> int:
    query = select(func.count()).select_from(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    return db.session.execute(query).scalar_one()


def last_audit(action: str) -> AuditEntry:
    return (
        db.session.execute(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
        )
        .scalars()
        .first()
    )


def form_post(client, path: str, data: dict, page: str = "/admin"):
    from tests.conftest import csrf_token

    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def units_snapshot():
    db.session.expire_all()
    return db.session.execute(
        select(Unit.id, Unit.name, Unit.kind, Unit.parent_id, Unit.path, Unit.retired_on).order_by(
            Unit.id
        )
    ).all()


# The unit tree ------------------------------------------------------------------------------


def test_admin_adds_renames_and_moves_a_unit_with_before_and_after_audited(client, org):
    api = Api(client, org.admin)
    created = client.post(
        "/api/v1/admin/units",
        json={"name": "第三支部", "kind": "支部", "parent": org.party.id},
        headers=api.headers,
    )
    assert created.status_code == 201, created.json
    unit_id = created.json["id"]
    entry = last_audit("unit.create")
    assert entry.actor_id == org.admin.id and entry.after["name"] == "第三支部"

    renamed = client.patch(
        f"/api/v1/admin/units/{unit_id}", json={"name": "第三党支部"}, headers=api.headers
    )
    assert renamed.status_code == 200 and renamed.json["name"] == "第三党支部"
    entry = last_audit("unit.rename")
    assert (entry.before["name"], entry.after["name"]) == ("第三支部", "第三党支部")

    # 第一支部 (with 第一小组 under it) moves under the new branch: paths of the subtree follow.
    moved = client.post(
        f"/api/v1/admin/units/{org.b1.id}/move", json={"parent": unit_id}, headers=api.headers
    )
    assert moved.status_code == 200, moved.json
    db.session.expire_all()
    b1, g1 = db.session.get(Unit, org.b1.id), db.session.get(Unit, org.g1.id)
    new = db.session.get(Unit, unit_id)
    assert b1.parent_id == unit_id and b1.path == f"{new.path}{b1.id}/"
    assert g1.path == f"{b1.path}{g1.id}/" and g1.depth == b1.depth + 1 == new.depth + 2
    entry = last_audit("unit.move")
    assert entry.before["parent_id"] == org.party.id and entry.after["parent_id"] == unit_id
    # The leader of 第一支部 still leads its members, now found under the new parent.
    assert [u.id for u in org_service.subtree(new)] == [unit_id, b1.id, g1.id]


def test_moving_a_unit_under_its_own_subtree_is_refused_and_nothing_changes(client, org):
    api = Api(client, org.admin)
    before, audits = units_snapshot(), audit_count()
    r = client.post(
        f"/api/v1/admin/units/{org.b1.id}/move", json={"parent": org.g1.id}, headers=api.headers
    )
    assert r.status_code == 422
    assert r.mimetype == "application/problem+json" and "parent" in r.json["errors"]
    assert units_snapshot() == before and audit_count() == audits


def test_bad_unit_input_names_each_field_and_changes_nothing(client, org):
    api = Api(client, org.admin)
    before, audits = units_snapshot(), audit_count()
    r = client.post(
        "/api/v1/admin/units",
        json={"name": "", "kind": "x" * 21, "parent": 9999},
        headers=api.headers,
    )
    assert r.status_code == 422
    assert set(r.json["errors"]) == {"name", "kind", "parent"}
    r = client.post(
        "/api/v1/admin/units",
        json={"name": "第二支部", "kind": "支部", "parent": org.party.id},
        headers=api.headers,
    )
    assert r.status_code == 422 and "已有" in r.json["errors"]["name"]
    assert units_snapshot() == before and audit_count() == audits


def test_retiring_a_unit_needs_it_empty_then_it_takes_no_members(client, org):
    api = Api(client, org.admin)
    r = client.post(
        f"/api/v1/admin/units/{org.b2.id}/retire", json={"date": "2026-12-01"}, headers=api.headers
    )
    assert r.status_code == 422 and "调出" in r.json["errors"]["date"]
    assert db.session.get(Unit, org.b2.id).retired_on is None

    moved = client.post(
        f"/api/v1/admin/members/{org.m3.id}/move",
        json={"unit": org.b1.id, "date": "2026-12-01"},
        headers=api.headers,
    )
    assert moved.status_code == 200, moved.json
    r = client.post(
        f"/api/v1/admin/units/{org.b2.id}/retire", json={"date": "2026-12-01"}, headers=api.headers
    )
    assert r.status_code == 200 and r.json["retired_on"] == "2026-12-01"
    entry = last_audit("unit.retire")
    assert entry.before["retired_on"] is None and entry.after["retired_on"] == "2026-12-01"

    r = client.post(
        "/api/v1/admin/members",
        json={"name": "新人", "unit": org.b2.id, "active_from": "2026-12-02"},
        headers=api.headers,
    )
    assert r.status_code == 422 and "已撤销" in r.json["errors"]["unit"]


@pytest.mark.parametrize("who", ["leader", "m1"])
def test_only_admins_edit_the_unit_tree(client, org, who):
    api = Api(client, getattr(org, who))
    before, audits = units_snapshot(), audit_count()
    calls = [
        ("post", "/api/v1/admin/units", {"name": "小组", "kind": "党小组", "parent": org.b1.id}),
        ("patch", f"/api/v1/admin/units/{org.g1.id}", {"name": "改名"}),
        ("post", f"/api/v1/admin/units/{org.g1.id}/move", {"parent": org.b2.id}),
        ("post", f"/api/v1/admin/units/{org.g1.id}/retire", {"date": "2026-12-01"}),
        ("get", "/api/v1/admin/units", None),
    ]
    for method, path, body in calls:
        r = getattr(client, method)(path, json=body, headers=api.headers)
        assert r.status_code == 403, (path, r.status_code)
    assert units_snapshot() == before and audit_count() == audits
    login(client, who)
    assert client.get("/admin/units").status_code == 403
    assert (
        form_post(client, "/admin/units", {"name": "x", "kind": "支部"}, "/report").status_code
        == 403
    )
    assert units_snapshot() == before


def test_admin_tree_pages_add_and_retire_in_page(client, org):
    login(client, "admin")
    page = client.get("/admin/units")
    assert page.status_code == 200 and "第一小组" in page.text
    r = form_post(
        client,
        "/admin/units",
        {"name": "第二小组", "kind": "党小组", "parent": str(org.b1.id)},
        "/admin/units",
    )
    assert r.status_code == 302
    unit = db.session.execute(select(Unit).where(Unit.name == "第二小组")).scalar_one()
    detail = client.get(f"/admin/units/{unit.id}")
    assert "<details" in detail.text and "确认撤销" in detail.text
    assert "confirm(" not in detail.text and "alert(" not in detail.text
    r = form_post(
        client, f"/admin/units/{unit.id}/retire", {"date": "2026-11-30"}, f"/admin/units/{unit.id}"
    )
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).retired_on == date(2026, 11, 30)

    bad = form_post(
        client, "/admin/units", {"name": "", "kind": "支部", "parent": "x"}, "/admin/units"
    )
    assert bad.status_code == 422 and "不是整数" in bad.text


def test_a_form_without_csrf_token_is_refused(client, org):
    login(client, "admin")
    before = units_snapshot()
    r = client.post("/admin/units", data={"name": "无令牌", "kind": "支部", "parent": org.b1.id})
    assert r.status_code == 400
    assert units_snapshot() == before


# Members ------------------------------------------------------------------------------------


def roster():
    db.session.expire_all()
    return (
        db.session.execute(
            select(Member.id, Member.name, Member.login, Member.active_to).order_by(Member.id)
        ).all(),
        db.session.execute(
            select(
                Membership.member_id, Membership.unit_id, Membership.valid_from, Membership.valid_to
            ).order_by(Membership.id)
        ).all(),
    )


@pytest.mark.parametrize(
    ("who", "unit", "allowed"),
    [
        ("admin", "b2", True),
        ("leader", "g1", True),  # inside the leader's 第一支部
        ("leader", "b2", False),  # another subtree
        ("m1", "g1", False),
    ],
)
def test_creating_a_member_admin_anywhere_leader_in_subtree(client, org, who, unit, allowed):
    api = Api(client, getattr(org, who))
    before, audits = roster(), audit_count()
    r = client.post(
        "/api/v1/admin/members",
        json={"name": "新党员", "unit": getattr(org, unit).id, "active_from": "2026-11-23"},
        headers=api.headers,
    )
    if allowed:
        assert r.status_code == 201, r.json
        entry = last_audit("member.create")
        assert entry.actor_id == getattr(org, who).id and entry.member_id == r.json["id"]
        assert r.json["unit"]["id"] == getattr(org, unit).id and not r.json["has_password"]
    else:
        assert r.status_code == 403
        assert roster() == before and audit_count() == audits


@pytest.mark.parametrize(
    ("who", "target", "to_unit", "allowed"),
    [
        ("admin", "m3", "b1", True),
        ("leader", "m1", "b1", True),  # 第一小组 → 第一支部, both in the leader's subtree
        ("leader", "m1", "b2", False),  # into another subtree
        ("leader", "m3", "b1", False),  # a member of another subtree
        ("m2", "m1", "b1", False),
    ],
)
def test_moving_a_member_from_a_date(client, org, who, target, to_unit, allowed):
    api = Api(client, getattr(org, who))
    member = getattr(org, target)
    before, audits = roster(), audit_count()
    r = client.post(
        f"/api/v1/admin/members/{member.id}/move",
        json={"unit": getattr(org, to_unit).id, "date": "2026-11-16"},
        headers=api.headers,
    )
    if allowed:
        assert r.status_code == 200, r.json
        assert (
            org_service.current_unit(db.session.get(Member, member.id)).id
            == getattr(org, to_unit).id
        )
        entry = last_audit("member.move")
        assert entry.actor_id == getattr(org, who).id
        assert entry.before[-1]["to"] is None and entry.after[-2]["to"] == "2026-11-15"
    else:
        assert r.status_code == 403
        assert roster() == before and audit_count() == audits


def test_bad_member_input_is_named_per_field_and_changes_nothing(client, org):
    api = Api(client, org.admin)
    before, audits = roster(), audit_count()
    r = client.post(
        "/api/v1/admin/members",
        json={"name": "", "unit": org.b1.id, "active_from": "2026-13-01", "login": "m1"},
        headers=api.headers,
    )
    assert r.status_code == 422 and r.json["errors"] == {
        "active_from": "“2026-13-01”不是有效的日期（应为 YYYY-MM-DD）"
    }
    r = client.post(
        "/api/v1/admin/members",
        json={"name": "", "unit": org.b1.id, "active_from": "2026-11-01", "login": "m1"},
        headers=api.headers,
    )
    assert r.status_code == 422 and set(r.json["errors"]) == {"name", "login"}
    r = client.post(
        f"/api/v1/admin/members/{org.m1.id}/move",
        json={"unit": org.b1.id, "date": "2024-12-01"},
        headers=api.headers,
    )
    assert r.status_code == 422 and "晚于" in r.json["errors"]["date"]
    r = client.post(
        f"/api/v1/admin/members/{org.m1.id}/leave", json={"date": "2024-01-01"}, headers=api.headers
    )
    assert r.status_code == 422 and "active_to" in r.json["errors"]
    assert roster() == before and audit_count() == audits


def test_a_move_reaching_into_a_locked_week_is_refused(client, org):
    from tracker.services.admin import locks

    locks.lock_period(org.admin, "week", date(2026, 11, 16), "已通报")
    api = Api(client, org.admin)
    before = roster()
    r = client.post(
        f"/api/v1/admin/members/{org.m1.id}/move",
        json={"unit": org.b2.id, "date": "2026-11-10"},
        headers=api.headers,
    )
    assert r.status_code == 422 and "已锁定" in r.json["errors"]["date"]
    assert roster() == before


def test_leaving_and_coming_back_are_audited(client, org):
    api = Api(client, org.leader)
    r = client.post(
        f"/api/v1/admin/members/{org.m2.id}/leave", json={"date": "2026-11-20"}, headers=api.headers
    )
    assert r.status_code == 200 and r.json["active_to"] == "2026-11-20"
    entry = last_audit("member.active")
    assert entry.before["active_to"] is None and entry.after["active_to"] == "2026-11-20"
    r = client.post(
        f"/api/v1/admin/members/{org.m2.id}/leave", json={"date": None}, headers=api.headers
    )
    assert r.status_code == 200 and r.json["active_to"] is None
    r = client.post(
        f"/api/v1/admin/members/{org.m3.id}/leave", json={"date": "2026-11-20"}, headers=api.headers
    )
    assert r.status_code == 403


def test_reset_password_and_token_are_shown_once_and_work(client, org):
    api = Api(client, org.leader)
    r = client.post(f"/api/v1/admin/members/{org.m1.id}/token", headers=api.headers)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    token = r.json["token"]
    assert member_for_token(token).id == org.m1.id
    entry = last_audit("member.token")
    assert entry.actor_id == org.leader.id and entry.member_id == org.m1.id
    assert token not in str(entry.after) and token not in str(entry.before)

    r = client.post(f"/api/v1/admin/members/{org.m1.id}/password", headers=api.headers)
    assert r.status_code == 200
    password = r.json["password"]
    assert last_audit("member.password").actor_id == org.leader.id
    other = client.application.test_client()
    assert login(other, "m1", password).status_code == 302

    # Another subtree, an admin account, and the leader's own account are out of reach.
    for target in (org.m3, org.admin, org.leader):
        for action in ("token", "password"):
            r = client.post(f"/api/v1/admin/members/{target.id}/{action}", headers=api.headers)
            assert r.status_code == 403, (target.name, action)
    member_api = Api(client, org.m2)
    r = client.post(f"/api/v1/admin/members/{org.m1.id}/password", headers=member_api.headers)
    assert r.status_code == 403


def test_member_pages_show_the_secret_once_with_in_page_confirmation(client, org):
    login(client, "leader")
    page = client.get(f"/admin/members/{org.m1.id}")
    assert page.status_code == 200 and "确认重置密码" in page.text and "<details" in page.text
    r = form_post(client, f"/admin/members/{org.m1.id}/token", {}, f"/admin/members/{org.m1.id}")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    token = r.text.split('<code class="secret">')[1].split("</code>")[0]
    assert member_for_token(token).id == org.m1.id
    again = client.get(f"/admin/members/{org.m1.id}")
    assert token not in again.text

    listing = client.get("/admin/members")
    assert "李一" in listing.text and "王二" in listing.text and "赵三" not in listing.text
    assert client.get(f"/admin/members/{org.m3.id}").status_code == 403

    r = form_post(
        client,
        "/admin/members",
        {"name": "", "unit": str(org.g1.id), "active_from": "2026-11-23"},
        "/admin/members",
    )
    assert r.status_code == 422 and "姓名应为" in r.text


def test_members_pages_are_for_leaders_and_admins(client, org):
    login(client, "m1")
    assert client.get("/admin").status_code == 403
    assert client.get("/admin/members").status_code == 403
    assert Api(client, org.m1).get("/admin/members").status_code == 403


def test_ids_too_large_for_the_database_are_not_found(client, org):
    login(client, "admin")
    assert client.get("/admin/members/99999999999999999999").status_code == 404
    api = Api(client, org.admin)
    r = client.post("/api/v1/admin/members/9223372036854775808/password", headers=api.headers)
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    r = client.post(
        "/api/v1/admin/adjustments",
        json={"member": 2**63, "date": "2026-11-20", "points": 1, "reason": "x"},
        headers=api.headers,
    )
    assert r.status_code == 422 and r.json["errors"]["member"] == "数值过大"


def test_the_member_listing_walks_units_in_order_and_pages_as_one_ordered_query(org, monkeypatch):
    """Browsing reads the units a few at a time; every page, for an admin, a leader and one
    unit, must be what ordering everyone's shown membership by unit and name gives, with
    batches and pages small enough to end between units and inside them."""
    import random
    from datetime import timedelta

    from tracker.services import clock, tx
    from tracker.services.admin import members

    rng = random.Random(5)
    today = clock.today()
    with tx.write():
        units = [org.g1, org.b2]
        for i in range(8):
            units.append(org_service.add_unit(f"第{i}小组", "党小组", rng.choice(units)))
        people = []
        for i in range(30):
            start = today - timedelta(days=rng.randint(0, 400))
            if i % 10 == 0:
                start = today + timedelta(days=5)  # joins later: listed under that unit
            name = rng.choice(["陈", "林", "周", "吴"]) + rng.choice(["一", "二", "二", "三"])
            people.append(org_service.add_member(name, rng.choice(units), start))
    for person in people[1::4]:
        org_service.move_member(person, rng.choice(units), today - timedelta(days=3))
    for person in people[2::7]:
        org_service.move_member(person, rng.choice(units), today + timedelta(days=9))

    def everyone(unit=None, paths=None):
        query = (
            select(Member.id, Unit.id)
            .select_from(Member)
            .join(Membership, Membership.id == members.shown_membership())
            .join(Unit, Unit.id == Membership.unit_id)
            .order_by(Unit.path, Member.name, Member.id)
        )
        if unit is not None:
            query = query.where(Unit.path.startswith(unit.path))
        if paths is not None:
            query = query.where(Unit.path.startswith(paths[0]))
        return [tuple(row) for row in db.session.execute(query)]

    monkeypatch.setattr(members, "PAGE", 4)
    monkeypatch.setattr(members, "FIRST_UNITS", 1)
    monkeypatch.setattr(members, "MOST_UNITS", 2)
    cases = [(org.admin, None, everyone()), (org.admin, org.party, everyone(org.party))]
    cases.append((org.leader, None, everyone(paths=[org.b1.path])))
    for actor, unit, expected in cases:
        assert len(expected) > 8
        pages, page, more = [], 1, True
        while more:
            rows, more = members.listing(actor, unit=unit, page=page)
            pages.append([(m.id, u.id) for m, u in rows])
            page += 1
        assert [key for rows in pages for key in rows] == expected
        assert all(len(rows) == 4 for rows in pages[:-1]) and pages[-1]
