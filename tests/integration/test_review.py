"""The quarterly review: leaders only, the 讲评 stored and audited, 兑现 pays once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.charts.conftest import put_week
from tests.conftest import csrf_token, login
from tracker.charts import review_pdf
from tracker.domain.validation import ValidationError
from tracker.extensions import db
from tracker.models import Adjustment, AuditEntry
from tracker.services import access, clock, review

Q4 = "2026-Q4"


def test_the_review_ranks_members_and_counts_targets(org):
    put_week(org)
    r = review.build(org.admin, org.party, review.parse_quarter(Q4))
    assert [m.name for m in r.members][:3] == ["李一", "赵三", "王二"]
    assert r.roster == 5 and r.members_met == 0  # a week's points are far from a quarter's target
    assert [u["name"] for u in r.units] == ["第二支部", "第一支部"]
    assert r.below == 5


def test_the_public_review_lists_nobody_below_target(org):
    put_week(org)
    r = review.build(org.admin, org.party, review.parse_quarter(Q4), public=True)
    assert r.members == [] and r.below == 0 and not r.leader
    assert all(u["below_target"] is None for u in r.units)


def test_members_and_leaders_of_other_units_cannot_open_a_review(org):
    q = review.parse_quarter(Q4)
    for viewer, unit in [(org.m1, org.b1), (org.leader, org.party), (org.leader, org.b2)]:
        with pytest.raises(access.Forbidden):
            review.build(viewer, unit, q)
    assert review.build(org.leader, org.b1, q).leader


def test_the_comment_is_stored_and_every_change_audited(org):
    q = review.parse_quarter(Q4)
    review.save_comment(org.leader, org.b1, q, "本季度大家学习热情高。")
    review.save_comment(org.leader, org.b1, q, "继续保持。")
    r = review.build(org.leader, org.b1, q)
    assert r.comment == "继续保持。" and r.comment_by == "张书记"
    entries = (
        db.session.execute(
            select(AuditEntry).where(AuditEntry.action == "review.comment").order_by(AuditEntry.id)
        )
        .scalars()
        .all()
    )
    assert [e.after["comment"] for e in entries] == ["本季度大家学习热情高。", "继续保持。"]
    assert entries[1].before == {"comment": "本季度大家学习热情高。"}
    with pytest.raises(ValidationError):
        review.save_comment(org.leader, org.b1, q, "长" * 2001)


def test_redeeming_gives_awards_through_adjustments_once(org):
    put_week(org)
    q = review.parse_quarter(Q4)
    given = review.redeem(org.leader, org.b1, q, {org.m1.id: 10, org.m2.id: 5}, "先进")
    assert [(a.member_id, a.points, a.day) for a in given] == [
        (org.m1.id, 10, clock.today()),
        (org.m2.id, 5, clock.today()),
    ]
    assert given[0].reason == "2026-Q4 季度兑现：先进"
    r = review.build(org.leader, org.b1, q)
    assert r.awards == {org.m1.id: 10, org.m2.id: 5}
    assert sorted(r.awarded) == [("李一", 10), ("王二", 5)]
    assert ("李一", 10) in [(a.name, a.points) for a in r.adjustments]
    with pytest.raises(ValidationError) as again:
        review.redeem(org.leader, org.b1, q, {org.m1.id: 10})
    assert "已兑现" in again.value.errors[f"awards.{org.m1.id}"]
    with pytest.raises(ValidationError) as outsider:
        review.redeem(org.leader, org.b1, q, {org.m3.id: 10, org.leader.id: 3})
    assert set(outsider.value.errors) == {f"awards.{org.m3.id}", f"awards.{org.leader.id}"}
    count = db.session.execute(select(Adjustment)).scalars().all()
    assert len(count) == 2  # nothing given by the rejected attempts


def test_the_review_page_saves_the_comment_and_redeems(client, org):
    put_week(org)
    login(client, "leader")
    page = client.get("/review/quarterly", query_string={"unit": org.b1.id, "quarter": Q4})
    assert page.status_code == 200
    html = page.data.decode()
    assert "季度学习讲评" in html and "李一" in html and f"award_{org.m1.id}" in html
    token = csrf_token(client, f"/review/quarterly?unit={org.b1.id}&quarter={Q4}")
    query = f"?unit={org.b1.id}&quarter={Q4}"
    r = client.post(
        "/review/quarterly/comment" + query, data={"comment": "好", "csrf_token": token}
    )
    assert r.status_code == 302
    r = client.post(
        "/review/quarterly/redeem" + query,
        data={f"award_{org.m1.id}": "8", "reason": "先进", "csrf_token": token},
    )
    assert r.status_code == 302
    html = client.get("/review/quarterly" + query).data.decode()
    assert re.search(r"已兑现：.*李一 \+8", html)
    bad = client.post(
        "/review/quarterly/redeem" + query,
        data={f"award_{org.m1.id}": "8", "csrf_token": token},
    )
    assert bad.status_code == 422
    pdf = client.get("/review/quarterly.pdf" + query)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    login(client, "m1")
    assert client.get("/review/quarterly" + query).status_code == 403
    assert client.get("/review/quarterly.pdf" + query).status_code == 403


def test_a_bad_quarter_is_a_clear_error(client, org):
    login(client, "admin")
    r = client.get("/review/quarterly", query_string={"unit": org.b1.id, "quarter": "2026-Q5"})
    assert r.status_code == 400


def test_a_large_unit_lists_its_first_members_and_awards_and_says_how_many(
    client, org, monkeypatch
):
    put_week(org)
    q = review.parse_quarter(Q4)
    review.redeem(org.admin, org.party, q, {org.m1.id: 10, org.m2.id: 5, org.m3.id: 3}, "先进")
    full = review.build(org.admin, org.party, q)
    monkeypatch.setattr(review, "LISTED", 2)
    r = review.build(org.admin, org.party, q)
    assert r.members == full.members[:2] and r.roster == len(full.members) == 5
    assert r.members_met == full.members_met and r.below == full.below == 5
    # Before a quarter begins everyone's target is zero: all are counted as having met it.
    ahead = review.build(org.admin, org.party, review.parse_quarter("2027-Q1"))
    assert (ahead.members_met, ahead.below) == (5, 0)
    assert r.adjustments == full.adjustments[:2] and r.adjustments_total == 3
    # The PDF names every award, listed or not, and says the list is cut.
    texts = list(review_pdf.review_texts(r, None, "生成于 今天"))
    assert "一排名 · 党员（前 2 名，共 5 人）" in texts
    assert "共 3 条，按日期列出前 2 条" in texts
    assert "李一 +10、王二 +5、赵三 +3" in texts
    login(client, "admin")
    page = client.get(f"/review/quarterly?unit={org.party.id}&quarter={Q4}").get_data(as_text=True)
    assert "共 5 人，这里列出前 2 名" in page and "/exports/members.xlsx?" in page
    assert "共 3 条，这里按日期列出前 2 条" in page
    assert len(re.findall(r'<td class="num">\d+</td><td class="num">\d+</td><td>', page)) == 2
