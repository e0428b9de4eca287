"""Onboarding: imported members activate their own accounts with a code or a link."""

from __future__ import annotations

import io
import re
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.conftest import TODAY, csrf_token, login
from tests.integration.helpers import Api
from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import AuditEntry, Invitation, Member
from tracker.services import access, exports, imports, onboarding
from tracker.services import org as org_service

ROSTER = "姓名,单位,账号,加入日期\n陈新,机关党委/第一支部,,2026-01-01\n周全,机关党委/第一支部/第一小组,zhouquan,2026-01-01\n吴远,机关党委/第二支部,,2026-01-01\n"


@pytest.fixture
def roster(org):
    imports.commit("members", "roster.csv", ROSTER.encode(), org.admin)
    members = {
        m.name: m
        for m in db.session.execute(
            select(Member).where(Member.name.in_(["陈新", "周全", "吴远"]))
        ).scalars()
    }
    assert all(m.password_hash is None for m in members.values())
    return members


def _activate(client, body):
    return client.post("/api/v1/activate", json=body)


def test_leader_sees_who_has_not_activated_and_a_code_activates_once(org, roster, client):
    pending = Api(client, org.leader).get("/onboarding/pending").json["rows"]
    assert [r["name"] for r in pending] == ["陈新", "周全"]  # 吴远 is in another subtree
    issued = onboarding.issue(org.leader, roster["陈新"])
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", issued.code)
    # Only hashes are stored.
    inv = db.session.execute(select(Invitation)).scalar_one()
    assert issued.code.replace("-", "") not in (inv.code_hash, inv.link_hash)
    r = _activate(
        client,
        {
            "name": "陈 新",
            "code": issued.code.lower(),
            "login": "chenxin",
            "password": "学习强国 2026",
        },
    )
    assert r.status_code == 200, r.json
    assert r.json["login"] == "chenxin"
    # Single use: the same code does not work again.
    r = _activate(
        client, {"name": "陈新", "code": issued.code, "login": "x2", "password": "another one"}
    )
    assert r.status_code == 400
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "member.activate")
    ).scalar_one()
    assert entry.member_id == roster["陈新"].id and entry.after["login"] == "chenxin"
    assert issued.code not in str(entry.after)
    issue_entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "invitation.issue")
    ).scalar_one()
    assert issue_entry.actor_id == org.leader.id
    pending = Api(client, org.leader).get("/onboarding/pending").json["rows"]
    assert [r["name"] for r in pending] == ["周全"]
    assert login(client, "chenxin", "学习强国 2026").status_code == 302


def test_the_link_activates_and_keeps_the_imported_login(org, roster, client):
    issued = onboarding.issue(org.leader, roster["周全"])
    page = client.get(f"/activate/{issued.link_token}").get_data(as_text=True)
    assert "周全，你好" in page and 'name="code"' not in page and 'name="login"' not in page
    token = csrf_token(client, f"/activate/{issued.link_token}")
    r = client.post(
        f"/activate/{issued.link_token}",
        data={"csrf_token": token, "password": "my own secret", "confirm": "my own secret"},
    )
    assert r.status_code == 302
    assert db.session.get(Member, roster["周全"].id).login == "zhouquan"
    assert client.get(f"/activate/{issued.link_token}").status_code == 404


def test_reissuing_revokes_the_old_code_and_expired_codes_fail(org, roster, client, app):
    first = onboarding.issue(org.leader, roster["陈新"])
    second = onboarding.issue(org.leader, roster["陈新"])
    body = {"name": "陈新", "login": "chenxin", "password": "long enough"}
    assert _activate(client, body | {"code": first.code}).status_code == 400
    inv = db.session.execute(select(Invitation).where(Invitation.revoked_at.is_(None))).scalar_one()
    inv.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    assert _activate(client, body | {"code": second.code}).status_code == 400
    assert db.session.get(Member, roster["陈新"].id).password_hash is None


def test_wrong_name_and_bad_passwords_change_nothing(org, roster, client):
    issued = onboarding.issue(org.leader, roster["陈新"])
    r = _activate(
        client, {"name": "周全", "code": issued.code, "login": "a", "password": "long enough"}
    )
    assert r.status_code == 400 and "激活码" in r.json["detail"]
    r = _activate(client, {"name": "陈新", "code": issued.code, "login": "a", "password": "short"})
    assert r.status_code == 422 and "password" in r.json["errors"]
    r = _activate(
        client, {"name": "陈新", "code": issued.code, "login": "m1", "password": "long enough"}
    )
    assert r.status_code == 422 and "已被使用" in r.json["errors"]["login"]
    r = _activate(client, {"name": "陈新", "code": issued.code, "password": "long enough"})
    assert r.status_code == 422 and "login" in r.json["errors"]
    r = _activate(
        client, {"name": "陈新", "code": issued.code, "login": "a b", "password": 12345678}
    )
    assert r.status_code == 422
    member = db.session.get(Member, roster["陈新"].id)
    assert member.password_hash is None and member.login is None
    # The code still works after those mistakes.
    r = _activate(
        client, {"name": "陈新", "code": issued.code, "login": "chen", "password": "long enough"}
    )
    assert r.status_code == 200


def test_activation_attempts_are_throttled(org, roster, client, app):
    app.config["LOGIN_MAX_FAILURES"] = 3
    issued = onboarding.issue(org.leader, roster["陈新"])
    for guess in ("AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC"):
        r = _activate(
            client, {"name": "陈新", "code": guess, "login": "c", "password": "long enough"}
        )
        assert r.status_code == 400
    r = _activate(
        client, {"name": "陈新", "code": issued.code, "login": "c", "password": "long enough"}
    )
    assert r.status_code == 429
    assert db.session.get(Member, roster["陈新"].id).password_hash is None
    page = client.post(
        "/activate",
        data={"csrf_token": csrf_token(client, "/activate"), "name": "陈新", "code": issued.code},
    )
    assert page.status_code == 429 and "尝试次数过多" in page.get_data(as_text=True)


def test_leaders_issue_only_in_their_subtree_and_members_not_at_all(org, roster, client):
    with pytest.raises(access.Forbidden):
        onboarding.issue(org.leader, roster["吴远"])
    with pytest.raises(access.Forbidden):
        onboarding.issue(org.m1, roster["陈新"])
    with pytest.raises(ValidationError):
        onboarding.issue(org.leader, org.m1)  # already activated
    assert Api(client, org.leader).get("/onboarding/pending", unit=org.b2.id).status_code == 403
    assert Api(client, org.m1).get("/onboarding/pending").status_code == 403
    api = Api(client, org.leader)
    r = api.client.post(
        "/api/v1/onboarding/invitations",
        json={"member_ids": [roster["吴远"].id]},
        headers=api.headers,
    )
    assert r.status_code == 403
    assert db.session.execute(select(Invitation)).first() is None
    # An admin may issue anywhere.
    r = Api(client, org.admin)
    res = r.client.post(
        "/api/v1/onboarding/invitations",
        json={"member_ids": [roster["吴远"].id]},
        headers=r.headers,
    )
    assert res.status_code == 201 and res.json[0]["link"].startswith("http")


def test_leader_page_issues_codes_for_everyone_pending(org, roster, client):
    login(client, "leader")
    page = client.get("/onboarding").get_data(as_text=True)
    assert "陈新" in page and "吴远" not in page
    token = csrf_token(client, "/onboarding")
    r = client.post("/onboarding/issue", data={"csrf_token": token, "all": "1"})
    text = r.get_data(as_text=True)
    assert (
        r.status_code == 200 and len(re.findall(r"<code>[A-Z2-9]{4}-[A-Z2-9]{4}</code>", text)) == 2
    )
    assert db.session.execute(select(Invitation)).scalars().all().__len__() == 2


def test_a_member_who_left_gets_no_code(org, roster):
    org_service.set_active_dates(
        roster["陈新"], roster["陈新"].active_from, TODAY - timedelta(days=1)
    )
    with pytest.raises(ValidationError):
        onboarding.issue(org.admin, roster["陈新"])


def test_who_has_not_activated_is_listed_a_page_at_a_time(org, roster, client, monkeypatch):
    monkeypatch.setattr(onboarding, "PAGE", 2)
    api = Api(client, org.admin)
    first = api.get("/onboarding/pending", unit=org.root.id).json
    second = api.get("/onboarding/pending", unit=org.root.id, page=2).json
    # By unit, then name: 第一支部, its 第一小组, then 第二支部.
    assert [r["name"] for r in first["rows"]] == ["陈新", "周全"]
    assert [r["name"] for r in second["rows"]] == ["吴远"]
    assert (first["total"], first["page"], first["more"]) == (3, 1, True)
    assert (second["total"], second["page"], second["more"]) == (3, 2, False)
    assert api.get("/onboarding/pending", unit=org.root.id, page=3).json["rows"] == []
    bad = api.get("/onboarding/pending", unit=org.root.id, page=0)
    assert bad.status_code == 400 and "page" in bad.get_data(as_text=True)
    login(client, "admin")
    page = client.get(f"/onboarding?unit={org.root.id}&page=2").get_data(as_text=True)
    assert "尚未激活账号的党员（3 人）" in page and "第 2 / 2 页" in page
    assert "吴远" in page and "陈新" not in page
    assert "为全部 3 名未激活的党员发放（下载激活码表）" in page
    assert f'href="/onboarding?unit={org.party.id}">机关党委</a>' in page  # to go down a level


def test_codes_for_more_than_a_page_come_as_a_sheet_that_activates(
    org, roster, client, monkeypatch
):
    monkeypatch.setattr(onboarding, "PAGE", 2)
    login(client, "admin")
    token = csrf_token(client, "/onboarding")
    r = client.post(
        "/onboarding/issue", data={"csrf_token": token, "all": "1", "unit": org.root.id}
    )
    assert r.status_code == 200 and r.mimetype == exports.FORMATS["xlsx"].split(";")[0]
    assert r.headers["Content-Disposition"].startswith("attachment")
    assert r.headers["Cache-Control"] == "private, no-store"
    rows = list(load_workbook(io.BytesIO(r.data), read_only=True)["激活码"].values)
    assert rows[0] == ("姓名", "单位", "激活码", "有效期至", "邀请链接")
    assert [(name, unit) for name, unit, *_ in rows[1:4]] == [
        ("陈新", "第一支部"),
        ("周全", "第一小组"),
        ("吴远", "第二支部"),
    ]
    assert "只在此表中出现一次" in rows[-1][0]
    codes = {row[0]: row[2] for row in rows[1:4]}
    assert all(re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", c) for c in codes.values())
    assert len(set(codes.values())) == 3
    assert db.session.execute(select(func.count()).select_from(Invitation)).scalar_one() == 3
    entries = db.session.execute(
        select(AuditEntry.member_id).where(AuditEntry.action == "invitation.issue")
    ).scalars()
    assert sorted(entries) == sorted(m.id for m in roster.values())
    res = _activate(
        client,
        {"name": "吴远", "code": codes["吴远"], "login": "wuyuan", "password": "long enough"},
    )
    assert res.status_code == 200, res.json
    link = rows[1][4]
    assert client.get(link.removeprefix("http://localhost")).status_code == 200


def test_a_new_code_is_never_one_stored_before(org, roster, monkeypatch):
    first = onboarding.issue(org.admin, roster["陈新"])
    taken = bytes(onboarding.CODE_ALPHABET.index(c) for c in first.code.replace("-", ""))
    draws = iter([taken, taken, bytes(8)])  # the stored code twice, then AAAAAAAA
    real = secrets.token_bytes
    monkeypatch.setattr(secrets, "token_bytes", lambda n=None: next(draws) if n == 8 else real(n))
    second = onboarding.issue(org.admin, roster["周全"])
    assert second.code == "AAAA-AAAA"


def test_leaders_issue_by_the_unit_a_member_is_in_today(org, roster):
    org_service.move_member(roster["陈新"], org.b2, TODAY)
    org_service.move_member(roster["吴远"], org.b1, TODAY)
    with pytest.raises(access.Forbidden):
        onboarding.issue_many(org.leader, [roster["周全"], roster["陈新"]])
    assert db.session.execute(select(Invitation)).first() is None
    issued = onboarding.issue_many(org.leader, [roster["周全"], roster["吴远"]])
    assert [i.name for i in issued] == ["周全", "吴远"]
    with pytest.raises(access.Forbidden):
        onboarding.issue_many(org.leader, [roster["周全"], org.leader])  # not one's own
