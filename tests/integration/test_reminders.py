"""Reminder jobs run for real: local robots and an SMTP server receive every message once."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import func, select

from tests.conftest import TODAY
from tests.reminders.fakes import SECRET, Mailbox, RobotServer
from tracker.domain.validation import ReportInput
from tracker.extensions import db
from tracker.models.reminders import Delivery, DeliveryAttempt, Notice
from tracker.services import reports
from tracker.services.reminders import runs, settings

EVENING = time(20, 0)
MONDAY_MORNING = time(8, 30)


@pytest.fixture
def robots():
    server = RobotServer().start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(app):
    with Mailbox() as box:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=box.port, SMTP_FROM="xuexi@example.org")
        yield box


@pytest.fixture(autouse=True)
def fast_retries(app):
    app.config.update(
        DELIVERY_BACKOFF_SECONDS=0.01, DELIVERY_TIMEOUT_SECONDS=3, ROBOT_RATE_WINDOW_SECONDS=1
    )


def deliveries(reminder: str) -> list[Delivery]:
    return list(
        db.session.execute(
            select(Delivery).where(Delivery.reminder == reminder).order_by(Delivery.id)
        ).scalars()
    )


def prefs(member, **kw):
    values = dict(
        opt_out=False, nudge_time=None, channel="inapp", email=None, leave_from=None, leave_to=None
    )
    values.update(kw)
    settings.save_prefs(member, member, **values)


def test_daily_nudge_reaches_exactly_those_without_a_report_who_want_it(org, mailbox):
    reports.put(org.m1, org.m1, TODAY, ReportInput(total=35))
    prefs(org.m2, opt_out=True)
    prefs(org.m3, channel="email", email="zhao3@example.org")
    prefs(org.leader, leave_from=date(2026, 11, 20), leave_to=date(2026, 11, 27))

    result = runs.run("daily", TODAY, at=EVENING)

    assert result.skipped == {"已关闭提醒": 1, "请假中": 1}
    assert sorted(d.recipient for d in deliveries("daily")) == [
        f"member:{org.admin.id}",
        f"member:{org.m3.id}",
    ]
    [notice] = db.session.execute(select(Notice)).scalars()
    assert notice.member_id == org.admin.id and notice.title == "你今天学习了吗？"
    assert "管理员同志" in notice.body and "还差 30 分" in notice.body
    [mail] = mailbox.messages
    assert mail["To"] == "zhao3@example.org" and "赵三同志" in mail.get_content()

    again = runs.run("daily", TODAY, at=EVENING)
    assert again.new == 0 and again.counts == {"sent": 2}
    assert len(mailbox.messages) == 1
    assert db.session.execute(select(func.count()).select_from(Notice)).scalar_one() == 1


def test_the_nudge_tells_each_member_their_weeks_points(org):
    """The week's points come from the week's roll-ups: an award counts, a deduction takes
    away, and a member with neither has none."""
    from tracker.services import adjustments
    from tracker.services.reminders import selection

    adjustments.give(org.admin, org.m2, TODAY, 7, "征文刊发")
    adjustments.give(org.admin, org.m3, TODAY, 5, "征文刊发")
    adjustments.give(org.admin, org.m3, TODAY, -2, "扣分")
    reports.put(org.m1, org.m1, TODAY, ReportInput(total=35))  # reported: not nudged
    chosen = selection.daily(TODAY, EVENING)
    week = {r.member_id: r.variables["week_points"] for r in chosen.recipients}
    assert week == {org.admin.id: 0, org.leader.id: 0, org.m2.id: 7, org.m3.id: 3}


def test_a_chosen_later_time_waits_for_its_slot(org):
    prefs(org.m1, nudge_time="21:00")
    runs.run("daily", TODAY, at=EVENING)
    assert f"member:{org.m1.id}" not in {d.recipient for d in deliveries("daily")}
    runs.run("daily", TODAY, at=time(21, 0))
    assert f"member:{org.m1.id}" in {d.recipient for d in deliveries("daily")}


def test_quiet_hours_and_weekends_hold_the_whole_run(org):
    assert runs.run("daily", TODAY, at=time(22, 0)).held.startswith("免打扰")
    assert runs.run("daily", TODAY, at=time(7, 0)).held.startswith("免打扰")
    assert runs.run("daily", date(2026, 11, 21), at=EVENING).held == "周末不提醒"
    assert deliveries("daily") == []


def _last_week_reports(org):
    reports.put(org.admin, org.m1, date(2026, 11, 17), ReportInput(total=40))
    reports.put(org.admin, org.m2, date(2026, 11, 18), ReportInput(total=30))


def _channels(org, robots):
    wecom = settings.save_channel(
        org.admin, unit_id=org.b1.id, kind="wecom", name="一支部群", url=f"{robots.base}/wecom/b1"
    )
    ding = settings.save_channel(
        org.admin,
        unit_id=org.b2.id,
        kind="dingtalk",
        name="二支部群",
        url=f"{robots.base}/dingtalk/signed-b2?access_token=t",
        secret=SECRET,
    )
    feishu = settings.save_channel(
        org.admin,
        unit_id=org.party.id,
        kind="feishu",
        name="机关党委群",
        url=f"{robots.base}/feishu/party",
        secret=SECRET,
    )
    return wecom, ding, feishu


def test_weekly_bulletin_reaches_each_unit_channel_once_with_aggregates_and_top_learners(
    org, robots, mailbox
):
    _last_week_reports(org)
    _channels(org, robots)
    settings.save_channel(
        org.admin, unit_id=None, kind="email", name="全组织邮件组", address="all@example.org"
    )
    robots.script["/wecom/b1"] = [{"errcode": 45009, "errmsg": "api freq out of limit"}]

    result = runs.run("weekly", TODAY, at=MONDAY_MORNING)

    assert result.period == "2026-W47" and result.counts == {"sent": 4}
    [b1] = robots.texts("/wecom/b1")
    assert "第一支部 2026-W47" in b1 and "同级排名：第 1 名" in b1
    assert "学习之星：李一（40 分）、王二（30 分）" in b1
    assert "张书记" not in b1  # nobody is listed for falling short
    [b2] = robots.texts("/dingtalk/signed-b2")
    assert "第二支部" in b2 and "赵三" not in b2 and "第 2 名" in b2
    [party] = robots.texts("/feishu/party")
    assert "机关党委" in party and "总积分：70" in party
    [mail] = mailbox.messages
    assert mail["To"] == "all@example.org" and "委员会党组" in mail["Subject"]
    b1_row = next(d for d in deliveries("weekly") if d.kind == "wecom")
    assert b1_row.attempts == 2
    outcomes = db.session.execute(
        select(DeliveryAttempt.outcome).where(DeliveryAttempt.delivery_id == b1_row.id)
    ).scalars()
    assert list(outcomes) == ["retry", "sent"]

    again = runs.run("weekly", TODAY, at=MONDAY_MORNING)
    assert again.new == 0
    assert len(robots.accepted) == 3 and len(mailbox.messages) == 1


def test_an_organisation_can_switch_the_bulletin_off(app, org, robots):
    _channels(org, robots)
    app.config["WEEKLY_BULLETIN_ENABLED"] = False
    result = runs.run("weekly", TODAY, at=MONDAY_MORNING)
    assert result.held == "本组织已关闭每周通报"
    assert robots.received == [] and deliveries("weekly") == []


def test_a_failing_robot_is_retried_with_back_off_then_logged_as_failed(app, org, robots):
    app.config["DELIVERY_MAX_ATTEMPTS"] = 3
    wecom, _, _ = _channels(org, robots)
    robots.script["/wecom/b1"] = [{"_http": 500}] * 3
    runs.run("weekly", TODAY, at=MONDAY_MORNING)
    row = next(d for d in deliveries("weekly") if d.channel_id == wecom.id)
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, "HTTP 500")
    assert len(robots.texts("/wecom/b1")) == 0
    assert len(robots.texts("/feishu/party")) == 1


def test_quarterly_review_reminder_goes_to_leaders(org):
    result = runs.run("quarterly", TODAY, at=time(9, 0))
    assert result.period == "2026-Q3"
    [row] = deliveries("quarterly")
    assert row.member_id == org.leader.id and "第一支部" in row.body
    [notice] = db.session.execute(select(Notice)).scalars()
    assert notice.title == "2026-Q3 学习讲评提醒"


def test_an_edited_template_is_used(org):
    settings.save_template(org.admin, "daily", "学习提醒", "{{ name }}，今天还差 {{ gap }} 分")
    runs.run("daily", TODAY, at=EVENING)
    bodies = {n.body for n in db.session.execute(select(Notice)).scalars()}
    assert "李一，今天还差 30 分" in bodies


def test_a_run_reads_its_template_once_and_compiles_it_once(org, monkeypatch):
    """Compiling the template for each message took 110 s of a 90,000-member daily run."""
    from tracker.reminders import templates

    reads, compiles = [], []
    read, compile_ = settings.template, templates._env.from_string
    monkeypatch.setattr(settings, "template", lambda key: reads.append(key) or read(key))
    monkeypatch.setattr(
        templates._env, "from_string", lambda text: compiles.append(text) or compile_(text)
    )
    templates._compiled.cache_clear()

    first = runs.run("daily", TODAY, at=EVENING, dry_run=True)
    assert len(first.planned) >= 4
    assert reads == ["daily"] and len(compiles) == 2  # the title and the body
    runs.run("daily", TODAY, at=EVENING, dry_run=True)
    assert len(compiles) == 2

    settings.save_template(org.admin, "daily", "学习提醒", "{{ name }}，还差 {{ gap }} 分")
    edited = runs.run("daily", TODAY, at=EVENING, dry_run=True)
    assert {p.title for p in edited.planned} == {"学习提醒"}
    assert "李一，还差 30 分" in {p.body for p in edited.planned}


def test_selections_and_planning_run_with_the_cycle_collector_paused(org, robots, monkeypatch):
    """100,000 members' selection spent a third of its time in collections of its own rows,
    and rendering their messages half."""
    import gc

    from tracker.reminders import delivery
    from tracker.services.reminders import selection

    seen: list[tuple[str, bool]] = []
    rank, summary = selection._UnitRanks.rank, selection.unit_summary

    def watched_rank(self, unit_id):
        seen.append(("rank", gc.isenabled()))
        return rank(self, unit_id)

    def watched_summary(*args):
        seen.append(("summary", gc.isenabled()))
        return summary(*args)

    class Title(str):
        def __getitem__(self, key):
            seen.append(("plan", gc.isenabled()))
            return str.__getitem__(self, key)

    from tracker.reminders import templates

    render = templates.render

    def watched_render(*args):
        seen.append(("render", gc.isenabled()))
        return render(*args)

    monkeypatch.setattr(selection._UnitRanks, "rank", watched_rank)
    monkeypatch.setattr(selection, "unit_summary", watched_summary)
    monkeypatch.setattr(templates, "render", watched_render)
    _channels(org, robots)
    assert gc.isenabled()
    assert selection.daily(TODAY, EVENING).recipients
    selection.weekly(TODAY)
    selection.quarterly(TODAY)
    assert runs.run("daily", TODAY, at=EVENING, dry_run=True).planned  # selected and rendered
    planned = [delivery.Planned(recipient="member:1", kind="inapp", title=Title("t"), body="b")]
    assert delivery.plan("daily", "probe", planned) == 1
    assert {what for what, _ in seen} == {"rank", "summary", "render", "plan"}
    assert not any(enabled for _, enabled in seen)
    assert gc.isenabled()


def test_a_units_summary_is_that_of_ranking_every_member(org):
    """The 通报's and the review reminder's figures come from the roll-ups, as ranking every
    member of the subtree gives them: across a move, a retirement, zero days and awards."""
    from datetime import timedelta

    from tracker.domain.periods import period_of
    from tracker.services import adjustments, rankings, rosters
    from tracker.services import org as org_service
    from tracker.services.reminders import selection

    for back in range(0, 20):
        day = TODAY - timedelta(days=back)
        for i, member in enumerate((org.leader, org.m1, org.m2, org.m3)):
            if (back + i) % 3:
                reports.put(org.admin, member, day, ReportInput(total=(5 * back + 7 * i) % 23))
    adjustments.give(org.admin, org.m3, TODAY - timedelta(days=4), -60, "扣减")
    adjustments.give(org.admin, org.m1, TODAY - timedelta(days=9), 8, "奖励")
    org_service.move_member(org.m2, org.b2, TODAY - timedelta(days=5), actor_id=org.admin.id)
    org_service.set_active_dates(
        org.leader, org.leader.active_from, TODAY - timedelta(days=3), actor_id=org.admin.id
    )
    compared = 0
    units = [org.root, org.party, org.b1, org.g1, org.b2]
    for kind in ("week", "month", "quarter"):
        periods = [period_of(kind, TODAY), period_of(kind, TODAY).previous()]
        # Rosters of nested units and several periods read together are those of each unit
        # and period read alone.
        together = rosters._computed(periods, units, TODAY)
        assert together == [
            {u.id: rosters._computed([p], [u], TODAY)[0][u.id] for u in units} for p in periods
        ]
        for period in periods:
            ranks = selection._UnitRanks(period, TODAY)
            figures = selection._figures(period, units, TODAY)
            for unit in units:
                got = selection.unit_summary(unit, period, TODAY, ranks, figures[unit.id])
                board = rankings.member_board(period, unit, TODAY).standings
                roster = len(board)
                total = sum(s.points for s in board)
                joined = sum(1 for s in board if s.reported_days > 0)
                top = [s for s in board[:3] if s.points > 0]
                names = rankings.member_names([s.member_id for s in top])
                assert (got["roster"], got["total"]) == (roster, total), (kind, unit.name)
                assert got["average"] == (f"{total / roster:.1f}" if roster else "0")
                assert got["participation"] == (f"{joined * 100 // roster}%" if roster else "0%")
                expected = [{"name": names[s.member_id].name, "points": s.points} for s in top]
                assert got["top"] == expected, (kind, unit.name)
                compared += roster > 0 and len(top) > 1
    assert compared >= 10
