"""Fair-play flags on crafted histories: each fires where it should, never on ordinary use."""

from __future__ import annotations

import importlib
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, update

from tests.conftest import TODAY, csrf_token, login
from tests.integration.helpers import Api
from tracker.domain.validation import ReportInput, ValidationError
from tracker.extensions import db
from tracker.models import AuditEntry, DailyReport, FairPlayFlag
from tracker.services import access, fairplay, org_settings, reports, rules
from tracker.services.admin import locks
from tracker.services.reports import Evidence

START = TODAY - timedelta(days=20)
PNG_A = b"\x89PNG\r\n\x1a\n" + b"\x01" * 64
PNG_B = b"\x89PNG\r\n\x1a\n" + b"\x02" * 64


def day_max(day: date) -> int:
    return rules.version_for(day).day_maximum(day)


def on(app, day: date) -> None:
    """Let time pass: the organisation's today becomes ``day``."""
    app.config["FIXED_TODAY"] = day.isoformat()


def report_on_the_day(app, member, day: date, total: int, **kwargs) -> None:
    """The member reports on the day itself (the audit log says so too)."""
    on(app, day)
    reports.put(member, member, day, ReportInput(total=total), **kwargs)
    on(app, TODAY)
    noon = datetime.combine(day, time(12), ZoneInfo("Asia/Shanghai"))
    db.session.execute(
        update(AuditEntry)
        .where(AuditEntry.entity_id == f"{member.id}:{day.isoformat()}")
        .values(at=noon)
    )
    db.session.commit()


def flags(member=None) -> set[tuple[int, str, str]]:
    query = select(FairPlayFlag.member_id, FairPlayFlag.kind, FairPlayFlag.key)
    if member is not None:
        query = query.where(FairPlayFlag.member_id == member.id)
    return set(db.session.execute(query).all())


def kinds(member) -> set[str]:
    return {k for _, k, _ in flags(member)}


def ordinary_history(app, member) -> None:
    """Three weeks of a keen member's ordinary days, each reported on its own day."""
    pattern = [22, 31, 18, 27, 35, 0, 24, 29, 33, 20, 26, 30, 25, 19, 28, 32, 23, 0, 27]
    for i, total in enumerate(pattern):
        day = START + timedelta(days=i)
        if total:
            report_on_the_day(app, member, day, total)


def test_an_ordinary_members_history_raises_no_flag_inline_or_by_scan(org, app):
    ordinary_history(app, org.m2)
    # A member may fill in yesterday: that is the ordinary window, not a back-fill.
    reports.put(org.m2, org.m2, TODAY - timedelta(days=1), ReportInput(total=26))
    reports.put(org.m2, org.m2, TODAY, ReportInput(total=31))
    reports.put(org.m2, org.m2, TODAY, ReportInput(total=33))  # and correct today's
    assert flags(org.m2) == set()
    fairplay.scan(TODAY - timedelta(days=89), TODAY)
    assert flags(org.m2) == set()


def test_the_days_maximum_seven_days_running_is_flagged_once(org, app):
    days = [START + timedelta(days=i) for i in range(8)]
    for day in days[:6]:
        report_on_the_day(app, org.m1, day, day_max(day))
    assert kinds(org.m1) == set()  # six days are not yet a pattern
    report_on_the_day(app, org.m1, days[6], day_max(days[6]))
    report_on_the_day(app, org.m1, days[7], day_max(days[7]))
    rows = db.session.execute(select(FairPlayFlag)).scalars().all()
    assert [(r.kind, r.day, r.detail["days"]) for r in rows] == [("max_streak", days[0], 8)]


def test_a_sudden_spike_against_the_members_own_history(org, app):
    for i in range(10):
        report_on_the_day(app, org.m1, START + timedelta(days=i), 8)
    spike_day = START + timedelta(days=10)
    report_on_the_day(app, org.m1, spike_day, min(50, day_max(spike_day)))
    row = db.session.execute(select(FairPlayFlag)).scalar_one()
    assert (row.kind, row.day, row.detail["usual"]) == ("spike", spike_day, 8.0)


def test_back_filled_days_are_flagged_but_yesterday_is_not(org, app):
    reports.put(org.m1, org.m1, TODAY - timedelta(days=1), ReportInput(total=20))
    assert kinds(org.m1) == set()
    reports.put(org.leader, org.m1, TODAY - timedelta(days=6), ReportInput(total=20))
    row = db.session.execute(select(FairPlayFlag)).scalar_one()
    assert (row.kind, row.member_id, row.detail["days_late"]) == ("backfill", org.m1.id, 6)


def test_edits_after_a_lock_was_lifted(org, app):
    locked_day = TODAY - timedelta(days=10)
    report_on_the_day(app, org.m1, locked_day, 20)
    lock = locks.lock_period(org.admin, "week", locked_day, "周报已发")
    with pytest.raises(ValidationError):
        reports.put(org.leader, org.m1, locked_day, ReportInput(total=40))
    locks.unlock(org.admin, lock.id, "更正录入错误")
    reports.put(org.leader, org.m1, TODAY - timedelta(days=20), ReportInput(total=10))
    assert "edit_after_unlock" not in kinds(org.m1)  # outside the lifted lock
    reports.put(org.leader, org.m1, locked_day, ReportInput(total=40))
    assert "edit_after_unlock" in kinds(org.m1)


def test_the_same_screenshot_used_twice(org, app):
    org_settings.save(org.admin, {"evidence_enabled": True})
    yesterday = TODAY - timedelta(days=1)
    reports.put(org.m1, org.m1, yesterday, ReportInput(total=20), evidence=Evidence("a.png", PNG_A))
    reports.put(org.m2, org.m2, TODAY, ReportInput(total=20), evidence=Evidence("b.png", PNG_B))
    assert flags() == set()
    reports.put(org.m1, org.m1, TODAY, ReportInput(total=25), evidence=Evidence("a.png", PNG_A))
    row = db.session.execute(select(FairPlayFlag)).scalar_one()
    assert (row.member_id, row.kind, row.day) == (org.m1.id, "evidence_reused", TODAY)
    assert row.detail["also_on"] == [{"member_id": org.m1.id, "date": yesterday.isoformat()}]


def test_many_reports_from_one_token_in_a_burst(org, client):
    api = Api(client, org.m1)
    for total in range(1, 6):
        assert api.put(f"/reports/{TODAY.isoformat()}", {"total": total}).status_code in (200, 201)
    assert kinds(org.m1) == set()
    for total in range(6, 21):
        assert api.put(f"/reports/{TODAY.isoformat()}", {"total": total}).status_code == 200
    assert kinds(org.m1) == {"token_burst"}
    row = db.session.execute(select(FairPlayFlag)).scalar_one()
    assert row.detail["writes"] == 20


@pytest.mark.parametrize("stream_rows", [10_000, 1], ids=["one-batch", "row-by-row"])
def test_a_scan_finds_the_same_flags_as_the_report_path(org, app, client, monkeypatch, stream_rows):
    scan_module = importlib.import_module("tracker.services.fairplay.scan")  # not the function
    monkeypatch.setattr(scan_module, "STREAM_ROWS", stream_rows)
    ordinary_history(app, org.m2)
    for i in range(7):
        day = START + timedelta(days=i)
        report_on_the_day(app, org.m1, day, day_max(day))
    for i in range(10):
        report_on_the_day(app, org.m3, START + timedelta(days=i), 8)
    report_on_the_day(app, org.m3, START + timedelta(days=10), 50)
    reports.put(org.admin, org.m3, TODAY - timedelta(days=9), ReportInput(total=20))
    api = Api(client, org.leader)
    for total in range(1, 21):
        api.put(f"/reports/{TODAY.isoformat()}", {"total": total}, member=org.m1.id)
    inline = flags()
    assert {k for _, k, _ in inline} == {"max_streak", "spike", "backfill", "token_burst"}
    db.session.execute(delete(FairPlayFlag))
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["flags", "scan", "--days", "60"])
    assert result.exit_code == 0, result.output
    assert "4 new flag(s)" in result.output
    assert flags() == inline
    assert "0 new flag(s)" in runner.invoke(args=["flags", "scan"]).output  # idempotent


def test_flags_never_block_a_report(org, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a check went wrong")

    monkeypatch.setattr(fairplay.checks, "check_report", broken)
    reports.put(org.leader, org.m1, TODAY - timedelta(days=6), ReportInput(total=20))
    saved = db.session.execute(select(DailyReport.total)).scalar_one()
    assert saved == 20 and flags() == set()


def _flag_for(member, kind="backfill"):
    return db.session.execute(
        select(FairPlayFlag).where(FairPlayFlag.member_id == member.id, FairPlayFlag.kind == kind)
    ).scalar_one()


def test_only_leaders_of_the_subtree_and_admins_see_and_review_flags(org, client):
    for member in (org.m1, org.m3, org.leader):
        reports.put(org.admin, member, TODAY - timedelta(days=6), ReportInput(total=20))
    leader = Api(client, org.leader)
    rows = leader.get("/flags").json["rows"]
    assert [r["member"] for r in rows] == ["李一"]  # not 赵三 (other branch), not their own
    assert rows[0]["label"] == "补报"
    admin_rows = Api(client, org.admin).get("/flags", unit=org.root.id).json["rows"]
    assert len(admin_rows) == 3
    assert leader.get("/flags", unit=org.b2.id).status_code == 403
    member = Api(client, org.m1)
    assert member.get("/flags").status_code == 403
    r = member.client.post(
        f"/api/v1/flags/{_flag_for(org.m1).id}/review", json={}, headers=member.headers
    )
    assert r.status_code == 403
    r = leader.client.post(
        f"/api/v1/flags/{_flag_for(org.m3).id}/review", json={}, headers=leader.headers
    )
    assert r.status_code == 403
    with pytest.raises(access.Forbidden):
        fairplay.review(org.leader, _flag_for(org.leader).id)
    r = leader.client.post(
        f"/api/v1/flags/{_flag_for(org.m1).id}/review",
        json={"note": "已当面核实，确为补录"},
        headers=leader.headers,
    )
    assert r.status_code == 200 and r.json["reviewed"] is True
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "flag.review")
    ).scalar_one()
    assert entry.actor_id == org.leader.id and entry.member_id == org.m1.id
    assert entry.after == {"reviewed": True, "note": "已当面核实，确为补录"}
    again = leader.client.post(
        f"/api/v1/flags/{_flag_for(org.m1).id}/review", json={}, headers=leader.headers
    )
    assert again.status_code == 422
    bad = leader.client.post(
        f"/api/v1/flags/{_flag_for(org.m1).id}/review",
        json={"note": "x" * 201},
        headers=leader.headers,
    )
    assert bad.status_code == 422
    assert leader.get("/flags").json["rows"] == []
    assert len(leader.get("/flags", status="reviewed").json["rows"]) == 1


def test_flags_page_for_leaders_only(org, client):
    reports.put(org.leader, org.m1, TODAY - timedelta(days=6), ReportInput(total=20))
    login(client, "m1")
    assert client.get("/flags").status_code == 403
    assert "填报提示" not in client.get("/report").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    login(client, "leader")
    page = client.get("/flags").get_data(as_text=True)
    assert "李一" in page and "晚了 6 天" in page
    token = csrf_token(client, "/flags")
    r = client.post(
        f"/flags/{_flag_for(org.m1).id}/review", data={"csrf_token": token, "note": "已核实"}
    )
    assert r.status_code == 302
    assert _flag_for(org.m1).reviewed_by == org.leader.id


def test_imported_history_and_edits_of_imported_days_are_no_back_fill(org, app):
    from tracker.services import imports

    days = [TODAY - timedelta(days=n) for n in (12, 11, 10)]
    rows = "".join(f"李一,第一小组,{d.isoformat()},{20 + i}\n" for i, d in enumerate(days))
    imports.commit("reports", "报表.csv", ("姓名,单位,日期,今日积分\n" + rows).encode(), org.admin)
    assert len(reports.history(org.m1.id, days[0], days[-1])) == 3
    reports.put(org.leader, org.m1, days[0], ReportInput(total=25))  # a correction
    assert flags() == set()
    fairplay.scan(TODAY - timedelta(days=30), TODAY)
    assert flags() == set()
    reports.put(org.leader, org.m1, TODAY - timedelta(days=5), ReportInput(total=25))
    fairplay.scan(TODAY - timedelta(days=30), TODAY)
    assert kinds(org.m1) == {"backfill"}


@pytest.mark.parametrize("earliest", [28, 27], ids=["first-at-the-edge", "first-inside"])
def test_a_scan_looks_at_exactly_the_four_weeks_before_a_spike(org, earliest):
    spike_day = TODAY - timedelta(days=1)
    reports.put(org.leader, org.m1, spike_day - timedelta(days=29), ReportInput(total=40))
    for n in range(earliest, earliest - 7, -1):  # seven ordinary days, the first `earliest` back
        reports.put(org.leader, org.m1, spike_day - timedelta(days=n), ReportInput(total=8))
    reports.put(org.leader, org.m1, spike_day, ReportInput(total=30))  # usual 8: a spike
    db.session.execute(delete(FairPlayFlag))
    db.session.commit()
    fairplay.scan(spike_day - timedelta(days=3), TODAY)
    spikes = {key for _, kind, key in flags(org.m1) if kind == "spike"}
    # The 40 points 29 days before are outside the four weeks (with them the usual day would
    # be 12, and 30 no spike); all seven ordinary days are inside (six would be too few).
    assert spikes == {spike_day.isoformat()}
