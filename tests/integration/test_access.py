"""Who may see and change what (SPEC §8), as a matrix over pages and API routes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import TODAY, login
from tests.integration.helpers import Api

# actor → target member → may they read and change the target's reports?
MATRIX = {
    "admin": {"m1": True, "m2": True, "m3": True},
    "leader": {"m1": True, "m2": True, "m3": False},  # leads 第一支部 (m1 in its 小组, m2)
    "m1": {"m1": True, "m2": False, "m3": False},
    "m2": {"m1": False, "m2": True, "m3": False},
    "m3": {"m1": False, "m2": False, "m3": True},
}
CASES = [(a, t, ok) for a, row in MATRIX.items() for t, ok in row.items()]


@pytest.mark.parametrize(("actor", "target", "allowed"), CASES)
def test_api_report_access_matrix(org, client, actor, target, allowed):
    api = Api(client, getattr(org, actor))
    member = getattr(org, target)
    put = api.put(f"/reports/{TODAY}", {"total": 12}, member=member.id)
    get = api.get(f"/reports/{TODAY}", member=member.id)
    if allowed:
        assert put.status_code == 201, put.get_json()
        assert get.status_code == 200 and get.get_json()["total"] == 12
    else:
        assert put.status_code == 403 and get.status_code == 403
        assert put.mimetype == "application/problem+json"


@pytest.mark.parametrize(("actor", "target", "allowed"), CASES)
def test_page_report_and_history_access_matrix(org, client, actor, target, allowed):
    login(client, actor)
    member = getattr(org, target)
    for path in (f"/report?member={member.id}", f"/history?member={member.id}"):
        r = client.get(path)
        assert r.status_code == (200 if allowed else 403), path
        if allowed:
            assert member.name in r.get_data(as_text=True)


def test_pages_require_login_and_redirect_to_it(client):
    for path in ("/report", "/history", "/boards/members", "/boards/units"):
        r = client.get(path)
        assert r.status_code == 302 and "/login" in r.headers["Location"]


@pytest.mark.parametrize(
    ("actor", "unit", "full"),
    [
        ("admin", "root", True),
        ("admin", "b2", True),
        ("leader", "b1", True),
        ("leader", "g1", True),
        ("leader", "b2", False),
        ("leader", "root", False),
        ("m1", "g1", False),
        ("m1", "root", False),
    ],
)
def test_only_leaders_of_a_subtree_see_all_of_its_board(org, client, actor, unit, full):
    api = Api(client, getattr(org, actor))
    board = api.get("/leaderboards/members", unit=getattr(org, unit).id).get_json()
    assert board["full"] is full


def test_members_do_not_see_names_below_target_but_leaders_do(org, client):
    writer = Api(client, org.admin)
    # m1 reaches the daily target (30), m2 does not; m3 is elsewhere.
    writer.put(f"/reports/{TODAY}", {"total": 40}, member=org.m1.id)
    writer.put(f"/reports/{TODAY}", {"total": 5}, member=org.m2.id)
    as_m1 = Api(client, org.m1).get("/leaderboards/members", period="day", unit=org.b1.id)
    names = [r["name"] for r in as_m1.get_json()["rows"]]
    assert "李一" in names and "王二" not in names
    hidden = [r for r in as_m1.get_json()["rows"] if r["member_id"] is None]
    assert hidden and all(r["below_target"] is None for r in as_m1.get_json()["rows"][1:])
    as_leader = Api(client, org.leader).get("/leaderboards/members", period="day", unit=org.b1.id)
    rows = {r["name"]: r for r in as_leader.get_json()["rows"]}
    assert rows["王二"]["below_target"] is True and rows["李一"]["below_target"] is False
    # A member below target still sees their own row and the gap.
    as_m2 = Api(client, org.m2).get("/leaderboards/members", period="day", unit=org.b1.id)
    me = as_m2.get_json()["me"]
    assert me["name"] == "王二" and me["below_target"] is True and me["target"] == 30


def test_awards_are_for_leaders_of_the_member_and_not_for_oneself(org, ctx):
    from tracker.services import access, adjustments

    adjustments.give(org.leader, org.m1, TODAY, 5, "征文发表")
    with pytest.raises(access.Forbidden):
        adjustments.give(org.leader, org.m3, TODAY, 5, "征文发表")
    with pytest.raises(access.Forbidden):
        adjustments.give(org.m1, org.m2, TODAY, 5, "帮忙")
    with pytest.raises(access.Forbidden):
        adjustments.give(org.leader, org.leader, TODAY - timedelta(days=1), 5, "自己")


def test_a_bearer_token_decides_who_is_asking_even_beside_a_session_cookie(org, client):
    from tracker.security import issue_token

    token = issue_token(org.m2)
    login(client, "m1")  # the session says 李一 …
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["name"] == "王二"  # … the token says 王二
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    put = client.put(
        f"/api/v1/reports/{TODAY.isoformat()}",
        json={"total": 5},
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert put.status_code == 401  # no CSRF header and no valid token: nothing is written
    assert client.get("/api/v1/me").get_json()["name"] == "李一"  # the session alone still works
