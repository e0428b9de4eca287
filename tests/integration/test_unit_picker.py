"""Past ``UNIT_PICKER_FROM`` units a form names a unit in a search field, not a list of every
unit: by its trail, or by its name where that is unique; anything else is refused with the
field, the reason and the units it could mean, and changes nothing."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import login
from tests.integration.test_admin_org import form_post
from tracker.extensions import db
from tracker.models import Member, Membership, Unit
from tracker.services import org as org_service
from tracker.services import tx
from tracker.services.admin import units

TRAIL_B1 = "委员会党组 › 机关党委 › 第一支部"
TRAIL_G1 = "委员会党组 › 机关党委 › 第一支部 › 第一小组"


@pytest.fixture
def searching(app, org):
    """Every unit field a search field (a province's forms, on a small organisation)."""
    app.config["UNIT_PICKER_FROM"] = 1
    return org


def members_named(name: str) -> list[tuple[int, int]]:
    """(member, unit today) of the members called ``name``."""
    db.session.expire_all()
    return list(
        db.session.execute(
            select(Member.id, Membership.unit_id)
            .join(Membership, Membership.member_id == Member.id)
            .where(Member.name == name, Membership.valid_to.is_(None))
        )
    )


def add_member(client, name: str, typed: str):
    """The add-member form, posted with its unit typed into the search field."""
    return form_post(
        client,
        "/admin/members",
        {"name": name, "unit_name": typed, "active_from": "2026-11-01"},
        "/admin/members",
    )


def member_count() -> int:
    return db.session.execute(select(func.count()).select_from(Member)).scalar_one()


def error_of(page: bytes, field: str) -> str:
    found = re.search(rf'<p class="error" id="err-{field}">([^<]*)</p>'.encode(), page)
    assert found, f"an error under {field}"
    return found.group(1).decode()


def lookup(client, **args) -> list[str]:
    r = client.get("/admin/units/lookup", query_string=args)
    assert r.status_code == 200, r.data
    return [u["label"] for u in r.json["units"]]


def test_a_few_units_are_a_list_and_many_a_search_field(client, app, org):
    login(client, "admin")
    page = client.get("/admin/members").data.decode()
    assert '<select id="unit" name="unit"' in page
    assert 'name="unit_name"' not in page
    app.config["UNIT_PICKER_FROM"] = 5  # the admin may place members in all five units
    page = client.get("/admin/members").data.decode()
    assert '<select id="unit"' not in page
    field = re.search(r'<input id="unit" name="unit_name"[^>]*>', page)
    assert field and 'list="unit-choices"' in field.group(0)
    assert 'data-lookup="/admin/units/lookup?scope=placeable"' in field.group(0)
    assert "第二支部" not in page.split("添加党员")[1]  # no unit is listed in the form


def test_a_unique_name_or_a_trail_places_the_new_member(client, searching):
    org = searching
    login(client, "admin")
    for name, typed, unit in (("新人甲", "第二支部", org.b2), ("新人乙", TRAIL_G1, org.g1)):
        r = add_member(client, name, typed)
        assert r.status_code == 302, r.data
        assert [u for _, u in members_named(name)] == [unit.id]


def test_a_name_two_units_share_is_refused_with_both_trails(client, searching):
    org = searching
    with tx.write():
        org_service.add_unit("第一小组", "党小组", db.session.get(Unit, org.b2.id))
    login(client, "admin")
    before = member_count()
    r = add_member(client, "新人", "第一小组")
    assert r.status_code == 422
    message = error_of(r.data, "unit")
    assert "有 2 个单位名为“第一小组”" in message
    assert TRAIL_G1 in message and "委员会党组 › 机关党委 › 第二支部 › 第一小组" in message
    assert member_count() == before
    # What was typed stays in the field, marked, for the leader to complete.
    assert re.search(r'name="unit_name" value="第一小组"[^>]*aria-invalid="true"', r.data.decode())
    # The end of a trail is enough, with the separators an import takes.
    for name, typed in (("新人", "第一支部/第一小组"), ("新人乙", "机关党委 > 第二支部 ›第一小组")):
        r = add_member(client, name, typed)
        assert r.status_code == 302, error_of(r.data, "unit")
    assert [u for _, u in members_named("新人")] == [org.g1.id]
    [(_, other)] = members_named("新人乙")
    assert other not in (org.g1.id, org.b2.id)
    assert db.session.get(Unit, other).parent_id == org.b2.id


def test_an_unknown_or_empty_unit_is_refused_and_changes_nothing(client, searching):
    login(client, "admin")
    before = member_count()
    for typed, reason in (
        ("第三支部", "没有可选的单位“第三支部”"),
        ("一支", f"没有可选的单位“一支”，相近的有：{TRAIL_B1}；{TRAIL_G1}"),
        ("  ", "请填写单位"),
    ):
        r = add_member(client, "新人", typed)
        assert r.status_code == 422
        assert error_of(r.data, "unit") == reason
    assert member_count() == before


def test_a_leader_names_only_units_of_their_subtree(client, searching):
    org = searching
    login(client, "leader")  # leads 第一支部
    assert lookup(client, scope="placeable", q="支部") == [TRAIL_B1, TRAIL_G1]
    assert lookup(client, scope="placeable", q="第二") == []
    page = f"/admin/members/{org.m2.id}"
    for typed, status, unit in (("第二支部", 422, org.b1), ("第一小组", 302, org.g1)):
        r = form_post(client, f"{page}/move", {"unit_name": typed, "date": "2026-11-20"}, page)
        assert r.status_code == status
        assert [u for _, u in members_named("王二")] == [unit.id]
    assert error_of(
        form_post(
            client, f"{page}/move", {"unit_name": "第二支部", "date": "2026-11-21"}, page
        ).data,
        "unit",
    ).startswith("没有可选的单位“第二支部”")


def test_lookup_offers_closest_names_first_and_keeps_to_each_fields_units(client, searching):
    org = searching
    login(client, "admin")
    # The name itself first, then names that start with it, then the rest, in tree order.
    with tx.write():
        org_service.add_unit("支部", "支部", db.session.get(Unit, org.b2.id))
    assert lookup(client, scope="placeable", q="支部") == [
        "委员会党组 › 机关党委 › 第二支部 › 支部",
        TRAIL_B1,
        TRAIL_G1,  # its trail holds 支部
        "委员会党组 › 机关党委 › 第二支部",
    ]
    # A parent for 机关党委 is any unit in use outside its own subtree.
    assert lookup(client, scope="live", outside=org.party.id, q="党") == ["委员会党组"]
    # A retired unit takes nobody, but its entries stay in the audit log.
    b3 = units.create(org.admin, "第三支部", "支部", org.party.id)
    units.retire(org.admin, b3.id, date(2026, 11, 16))
    assert lookup(client, scope="placeable", q="第三") == []
    assert lookup(client, scope="audit", q="第三") == ["委员会党组 › 机关党委 › 第三支部"]
    assert lookup(client, scope="placeable", q=" ") == []  # nothing typed: nothing offered
    assert client.get("/admin/units/lookup?scope=elsewhere&q=x").status_code == 404
    login(client, "leader")
    assert client.get("/admin/units/lookup?scope=live&q=x").status_code == 403


def test_units_are_added_and_moved_by_a_named_parent(client, searching):
    org = searching
    login(client, "admin")

    def add(name: str, parent: str):
        return form_post(
            client,
            "/admin/units",
            {"name": name, "kind": "支部", "parent_name": parent},
            "/admin/units",
        )

    def move(parent: str):
        page = f"/admin/units/{org.b1.id}"
        return form_post(client, f"{page}/move", {"parent_name": parent}, page)

    # Left empty, as the list's blank option: a second top-level unit, which is refused.
    r = add("新党委", "")
    assert r.status_code == 422
    assert error_of(r.data, "parent") == "请选择上级单位（只能有一个顶级单位）"
    assert add("第三支部", "机关党委").status_code == 302
    b3 = db.session.execute(select(Unit).where(Unit.name == "第三支部")).scalar_one()
    assert b3.parent_id == org.party.id
    # Moved under a unit of its own subtree: not a choice.
    r = move(TRAIL_G1)
    assert r.status_code == 422
    assert error_of(r.data, "parent").startswith(f"没有可选的单位“{TRAIL_G1}”")
    assert move("第三支部").status_code == 302
    db.session.expire_all()
    assert db.session.get(Unit, org.b1.id).parent_id == b3.id
    page = client.get(f"/admin/units/{org.b1.id}").data.decode()
    # The current parent, by its trail.
    assert 'name="parent_name" value="委员会党组 › 机关党委 › 第三支部"' in page


def test_the_audit_log_is_filtered_by_a_named_unit(client, searching):
    org = searching
    login(client, "admin")
    by_id = client.get(f"/admin/audit?unit={org.b2.id}")
    by_name = client.get("/admin/audit", query_string={"unit_name": "第二支部"})
    assert by_name.status_code == 200
    entries = re.compile(rb'<article class="audit">.*?</article>', re.S)
    assert entries.findall(by_name.data) == entries.findall(by_id.data)
    assert entries.findall(by_id.data)  # 赵三's entries, at least
    assert entries.findall(client.get("/admin/audit").data) != entries.findall(by_id.data)
    wrong = client.get("/admin/audit", query_string={"unit_name": "第九支部"})
    assert wrong.status_code == 422
    assert "没有可选的单位“第九支部”" in wrong.data.decode()
    assert not entries.findall(wrong.data)


def unit_rows(page: bytes) -> list[str]:
    """The first cell of each row of the units page, as text."""
    cells = re.findall(rb"<tr[^>]*>\s*<td>(.*?)</td>", page, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", c.decode()).replace("　", "").split()) for c in cells]


def test_a_large_tree_is_browsed_two_levels_at_a_time_and_searched(client, app, org):
    login(client, "admin")
    whole = client.get("/admin/units").data
    assert unit_rows(whole) == ["委员会党组", "机关党委", "第一支部", "第一小组", "第二支部"]
    assert b'name="q"' not in whole
    app.config["UNIT_PICKER_FROM"] = 5
    top = client.get("/admin/units").data
    assert unit_rows(top) == ["委员会党组", "机关党委", "第一支部 下级 1 个 →", "第二支部"]
    assert f'href="/admin/units?unit={org.b1.id}"'.encode() in top
    below = client.get(f"/admin/units?unit={org.b1.id}").data.decode()
    assert unit_rows(below.encode()) == ["第一支部", "第一小组"]
    assert f'<a href="/admin/units?unit={org.party.id}">机关党委</a> › 第一支部' in below
    found = client.get("/admin/units", query_string={"q": " 小组 "}).data
    assert unit_rows(found) == [TRAIL_G1]
    assert unit_rows(client.get("/admin/units?q=第一").data) == [
        f"{TRAIL_B1} 下级 1 个 →",
        TRAIL_G1,
    ]
    none = client.get("/admin/units?q=第九").data.decode()
    assert "没有找到单位。" in none


def test_a_channel_names_its_unit_or_none_for_the_whole_organisation(client, searching):
    from tracker.models.reminders import ReminderChannel

    org = searching
    login(client, "admin")
    page = client.get("/admin/reminders").data.decode()
    assert 'name="unit_id_name"' in page and 'placeholder="输入单位名称查找，留空为全组织"' in page
    fields = {"kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x"}
    for name, typed in (("一支部群", "第一支部"), ("全体群", ""), ("错群", "第九支部")):
        r = form_post(
            client,
            "/admin/reminders/channels",
            {"name": name, "unit_id_name": typed, "enabled": "1", **fields},
            "/admin/reminders",
        )
        assert r.status_code == (400 if name == "错群" else 302), r.data
    assert "没有可选的单位“第九支部”" in r.data.decode()
    saved = dict(db.session.execute(select(ReminderChannel.name, ReminderChannel.unit_id)).all())
    assert saved == {"一支部群": org.b1.id, "全体群": None}
    # A channel keeps a unit retired since: its page still names it.
    with tx.write():
        b3 = org_service.add_unit("第三支部", "支部", db.session.get(Unit, org.party.id))
    units.retire(org.admin, b3.id, date(2026, 11, 16))
    channel = db.session.execute(select(ReminderChannel).where(ReminderChannel.name == "一支部群"))
    channel_id = channel.scalar_one().id
    r = form_post(
        client,
        f"/admin/reminders/channels/{channel_id}",
        {"name": "一支部群", "unit_id_name": "第三支部", "enabled": "1", **fields},
        "/admin/reminders",
    )
    assert r.status_code == 302
    page = client.get(f"/admin/reminders/channels/{channel_id}").data.decode()
    assert 'name="unit_id_name" value="委员会党组 › 机关党委 › 第三支部"' in page
