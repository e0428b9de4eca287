"""The pages as a member and a leader use them: report, errors in place, boards."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

from tests.conftest import TODAY, csrf_token, login
from tests.integration.helpers import snapshot
from tracker.services import reports


def post_report(client, data: dict, query: str = ""):
    token = csrf_token(client, f"/report{query}")
    return client.post(f"/report{query}", data={"csrf_token": token, **data})


def test_member_reports_the_days_total_and_sees_it_saved(org, client):
    login(client, "m1")
    page = client.get("/report").get_data(as_text=True)
    assert "当日上限 <strong>54</strong>" in page and "我要选读文章" in page
    r = post_report(client, {"mode": "total", "total": "35"})
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "已保存" in page and "<strong>35</strong> 分" in page
    assert reports.get(org.m1.id, TODAY).total == 35


def test_detailed_form_shows_the_error_beside_the_category_and_keeps_the_input(org, client):
    login(client, "m1")
    before = snapshot()
    r = post_report(client, {"mode": "items", "item_article": "13", "item_login": "1"})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert 'id="err-items-article"' in page and "超过每日上限 12" in page
    field = re.search(r'<input id="item_article"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in field and 'value="13"' in field
    assert "有 1 处需要修改" in page
    assert snapshot() == before
    r = post_report(client, {"mode": "items", "item_article": "12", "item_login": "1"})
    assert r.status_code == 302
    assert reports.get(org.m1.id, TODAY).total == 13


def test_first_cumulative_report_asks_for_the_days_points_beside_it(org, client):
    login(client, "m1")
    page = client.get("/report").get_data(as_text=True)
    assert 'name="cum_total"' in page
    r = post_report(client, {"mode": "cumulative", "cumulative": "12000"})
    assert r.status_code == 422 and "第一次填写总积分" in r.get_data(as_text=True)
    r = post_report(
        client,
        {"mode": "cumulative", "cumulative": "12000", "cum_total": "30"},
        f"?date={TODAY - timedelta(days=1)}",
    )
    assert r.status_code == 302
    page = client.get("/report").get_data(as_text=True)
    assert "上次（11-22 周日）填报的总积分：12000" in page and 'name="cum_total"' not in page
    assert post_report(client, {"mode": "cumulative", "cumulative": "12044"}).status_code == 302
    assert reports.get(org.m1.id, TODAY).total == 44


def test_days_outside_the_backfill_window_are_shown_read_only(org, client):
    login(client, "m1")
    old = TODAY - timedelta(days=5)
    page = client.get(f"/report?date={old}").get_data(as_text=True)
    assert "超过补填期限" in page and ">保存</button>" not in page
    assert re.search(r'<input id="total"[^>]*disabled', page)
    today_page = client.get("/report").get_data(as_text=True)
    assert ">保存</button>" in today_page


def test_login_is_remembered_so_nobody_must_log_in_every_day(org, client):
    r = login(client, "m1")
    cookies = r.headers.getlist("Set-Cookie")
    remember = next(c for c in cookies if c.startswith("remember_token="))
    assert "HttpOnly" in remember and "Expires=" in remember


def test_forms_without_a_csrf_token_are_refused(org, client):
    login(client, "m1")
    r = client.post("/report", data={"mode": "total", "total": "10"})
    assert r.status_code == 400 and "页面已过期" in r.get_data(as_text=True)
    assert reports.get(org.m1.id, TODAY) is None
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "页面不存在" in missing.get_data(as_text=True)


def test_history_lists_the_members_days(org, client):
    login(client, "m1")
    post_report(client, {"mode": "total", "total": "31"})
    page = client.get("/history").get_data(as_text=True)
    assert TODAY.isoformat() in page and ">31<" in page


def test_boards_render_with_period_pickers_and_the_members_own_row(org, client):
    login(client, "m1")
    post_report(client, {"mode": "total", "total": "40"})
    page = client.get("/boards/members?period=week").get_data(as_text=True)
    assert "2026年第48周" in page and 'class="mine' in page and "第 1 名" in page
    quarter = client.get("/boards/members?period=quarter").get_data(as_text=True)
    assert "2026年第4季度" in quarter
    login(client, "leader")
    units = client.get(f"/boards/units?parent={org.party.id}&metric=participation")
    text = units.get_data(as_text=True)
    assert units.status_code == 200 and "第一支部" in text and "第二支部" in text
    assert 'aria-current="true">参与率' in text
    bad = client.get("/boards/units?metric=nonsense")
    assert bad.status_code == 400 and "指标" in bad.get_data(as_text=True)


def test_unit_rankings_can_be_switched_off(org, client, app):
    app.config["UNIT_RANKINGS_ENABLED"] = False
    login(client, "admin")
    assert client.get("/boards/units").status_code == 404
    assert "单位榜" not in client.get("/report").get_data(as_text=True)
    r = client.get("/api/v1/leaderboards/units")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"


def test_login_failures_are_throttled_and_answered_clearly(org, client, app):
    app.config["LOGIN_MAX_FAILURES"] = 3
    for _ in range(3):
        r = login(client, "m1", "wrong")
        assert r.status_code == 401 and "账号或密码不正确" in r.get_data(as_text=True)
    r = login(client, "m1")  # even the right password waits now
    assert r.status_code == 429 and "尝试次数过多" in r.get_data(as_text=True)
    assert login(client, "m2").status_code == 302  # other accounts are unaffected


def test_login_does_not_redirect_to_other_sites(org, client):
    page = client.get("/login?next=https://evil.example/")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1][:200]
    token = token.split('"')[0]
    r = client.post(
        "/login?next=https://evil.example/",
        data={"login": "m1", "password": "correct horse 马", "csrf_token": token},
    )
    assert r.status_code == 302 and r.headers["Location"] == "/report"


def test_security_headers_and_cookie_flags_are_set(org, client):
    r = client.get("/login")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    logged_in = login(client, "m1")
    cookie = next(c for c in logged_in.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_evidence_screenshot_is_off_by_default(org, client):
    login(client, "m1")
    assert 'name="evidence"' not in client.get("/report").get_data(as_text=True)


def test_evidence_screenshot_is_type_checked_and_stored_by_hash(org, client, app, tmp_path):
    app.config["EVIDENCE_ENABLED"] = True
    login(client, "m1")
    assert 'name="evidence"' in client.get("/report").get_data(as_text=True)
    token = csrf_token(client)
    bad = client.post(
        "/report",
        data={
            "csrf_token": token,
            "mode": "total",
            "total": "20",
            "evidence": (BytesIO(b"MZ not an image"), "shot.png"),
        },
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "PNG、JPEG 或 WebP" in bad.get_data(as_text=True)
    assert reports.get(org.m1.id, TODAY) is None
    ok = client.post(
        "/report",
        data={
            "csrf_token": token,
            "mode": "total",
            "total": "20",
            "evidence": (BytesIO(PNG), "shot.png"),
        },
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    saved = reports.get(org.m1.id, TODAY)
    import hashlib

    assert saved.evidence_sha256 == hashlib.sha256(PNG).hexdigest()
    stored = tmp_path / "evidence" / f"{saved.evidence_sha256}.png"
    assert stored.read_bytes() == PNG


def test_leaders_dashboard_shows_today_and_the_week_and_is_for_leaders_only(org, client):
    login(client, "m1")
    post_report(client, {"mode": "total", "total": "40"})
    assert "看板" not in client.get("/report").get_data(as_text=True)
    assert client.get(f"/dashboard?unit={org.b1.id}").status_code == 403
    login(client, "leader")
    page = client.get("/dashboard").get_data(as_text=True)
    # 第一支部 has the leader, 李一 (in its 小组) and 王二; only 李一 reported today.
    assert "第一支部 · 负责人看板" in page and "1/3" in page
    assert "今日尚未填报的 2 位同志" in page and "王二" in page and "张书记" in page
    assert "第一小组" in page  # sub-units of the branch
    assert client.get(f"/dashboard?unit={org.b2.id}").status_code == 403


def test_pages_answer_dates_out_of_range_with_a_chinese_error(org, client):
    login(client, "m1")
    for path in ("/report?date=0001-01-01", "/boards/members?period=week&date=0001-01-01"):
        r = client.get(path)
        assert r.status_code == 400 and "日期应在" in r.get_data(as_text=True)


def test_an_unknown_or_unmanaged_member_in_the_address_is_named_not_shown(org, client):
    login(client, "leader")
    for path in ("/report", "/history"):
        missing = client.get(path, query_string={"member": "99999"})
        assert missing.status_code == 400 and "99999" in missing.get_data(as_text=True)
        assert client.get(path, query_string={"member": org.m3.id}).status_code == 403
        assert client.get(path, query_string={"member": org.m1.id}).status_code == 200


def test_dashboard_figures_are_those_of_ranking_every_member(org):
    """The dashboard reads subtree totals and roster stats; they must say what ranking every
    roster member says, with a move, a retirement, a zero day and an award in the week."""
    from datetime import timedelta

    from tracker.domain.periods import period_of
    from tracker.domain.validation import ReportInput
    from tracker.services import adjustments, boards, rankings, reports
    from tracker.services import org as org_service

    monday = TODAY
    for back in range(1, 9):
        day = monday - timedelta(days=back)
        for i, member in enumerate((org.leader, org.m1, org.m2, org.m3)):
            if (back + i) % 3:
                reports.put(org.admin, member, day, ReportInput(total=5 * back + i))
    reports.put(org.admin, org.m2, monday, ReportInput(total=0))
    reports.put(org.admin, org.m1, monday, ReportInput(total=12))
    adjustments.give(org.admin, org.m3, monday, 7, "志愿服务")
    org_service.move_member(org.m2, org.b2, monday - timedelta(days=3), actor_id=org.admin.id)
    org_service.set_active_dates(
        org.leader, org.leader.active_from, monday - timedelta(days=2), actor_id=org.admin.id
    )

    def expected(unit, today):
        week = period_of("week", today)
        figures = []
        for period in (week, week.previous()):
            standings = rankings.member_board(period, unit, today).standings
            figures.append(
                boards.PeriodFigures(
                    len(standings),
                    sum(1 for s in standings if s.reported_days > 0),
                    sum(s.points for s in standings),
                )
            )
        day = rankings.member_board(period_of("day", today), unit, today).standings
        missing = [s.member_id for s in day if s.reported_days == 0]
        names = sorted(m.name for m in rankings.member_names(missing).values())
        return figures, len(day) - len(missing), len(missing), names

    checked = 0
    for unit in (org.root, org.party, org.b1, org.g1, org.b2):
        for today in (monday, monday - timedelta(days=1), monday - timedelta(days=4)):
            got = boards.unit_summary(org.admin, unit, today)
            figures, reported, missing, names = expected(unit, today)
            assert [got.this_week, got.last_week] == figures, (unit.name, today)
            assert (got.reported_today, got.not_reported_count) == (reported, missing)
            assert got.not_reported_today == names
            checked += missing > 0 and reported > 0
    assert checked >= 5  # days with people on both sides, not only empty ones


def test_a_leaders_board_from_the_roll_ups_is_the_whole_ranked_board(org, client, monkeypatch):
    """Leaders' boards are read like everyone's, from the subtree roll-ups, up to
    ``LEADER_ROWS``: the same rows as ranking every member; beyond it the page says so."""
    from datetime import timedelta

    from tracker.domain.periods import period_of
    from tracker.domain.validation import ReportInput
    from tracker.services import adjustments, boards, reports
    from tracker.services import org as org_service

    for back in range(0, 9):
        day = TODAY - timedelta(days=back)
        for i, member in enumerate((org.admin, org.leader, org.m1, org.m2, org.m3)):
            if (back + i) % 4:
                reports.put(org.admin, member, day, ReportInput(total=(7 * back + 3 * i) % 11))
    adjustments.give(org.admin, org.m3, TODAY - timedelta(days=1), -40, "扣减")
    org_service.move_member(org.m2, org.b2, TODAY - timedelta(days=2), actor_id=org.admin.id)

    def rows(view):
        return [vars(r) for r in view.rows], view.me and vars(view.me), view.roster_size

    compared = 0
    for unit in (org.root, org.party, org.b1, org.g1, org.b2):
        for kind in ("day", "week", "month"):
            for day in (TODAY, TODAY - timedelta(days=7)):
                period = period_of(kind, day)
                for viewer in (org.admin, org.leader):
                    if not boards.access.leads_unit(viewer, unit):
                        continue
                    fast = boards.member_board(viewer, period, unit)
                    whole = boards.member_board(viewer, period, unit, every_row=True)
                    assert fast.full and rows(fast) == rows(whole), (unit.name, kind, day)
                    compared += 1
    assert compared >= 30

    monkeypatch.setattr(boards, "LEADER_ROWS", 2)
    week = period_of("week", TODAY)
    fast = boards.member_board(org.admin, week, org.party)
    whole = boards.member_board(org.admin, week, org.party, every_row=True)
    assert [vars(r) for r in fast.rows] == [vars(r) for r in whole.rows[:2]]
    assert fast.roster_size == whole.roster_size == 5
    login(client, "admin")
    page = client.get(f"/boards/members?unit={org.party.id}").get_data(as_text=True)
    assert "本单位共 5 名党员，这里列出前 2 名" in page
