"""The inbox and reminder settings for members; templates, channels and the log for admins."""

from __future__ import annotations

import re
from datetime import time

from sqlalchemy import select

from tests.conftest import TODAY, login
from tracker.extensions import db
from tracker.models.reminders import ReminderChannel, ReminderPrefs
from tracker.services.reminders import inbox, runs


def _token(client, path):
    page = client.get(path)
    m = re.search(rb'name="csrf_token" value="([^"]+)"', page.data) or re.search(
        rb'<meta name="csrf-token" content="([^"]+)"', page.data
    )
    return m.group(1).decode()


def test_member_reads_the_nudge_in_the_inbox_and_marks_it_read(client, org):
    runs.run("daily", TODAY, at=time(20, 0))
    login(client, "m1")
    assert inbox.unread_count(org.m1.id) == 1
    page = client.get("/notices")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "李一同志，你今天学习了吗？" in text and "1 条未读" in text
    client.post("/notices/read", data={"csrf_token": _token(client, "/notices")})
    assert inbox.unread_count(org.m1.id) == 0
    assert inbox.unread_count(org.m2.id) == 1  # nobody else's notices change


def test_member_opts_out_or_picks_a_time_but_not_inside_quiet_hours(client, org):
    login(client, "m2")
    token = _token(client, "/notices/settings")
    bad = client.post(
        "/notices/settings",
        data={"csrf_token": token, "nudge_time": "22:30", "channel": "inapp"},
    )
    assert bad.status_code == 400 and "免打扰" in bad.get_data(as_text=True)
    assert db.session.get(ReminderPrefs, org.m2.id) is None
    ok = client.post(
        "/notices/settings",
        data={"csrf_token": token, "opt_out": "1", "nudge_time": "19:00", "channel": "inapp"},
    )
    assert ok.status_code == 302
    row = db.session.get(ReminderPrefs, org.m2.id)
    assert row.nudge_opt_out and row.nudge_time == "19:00"


def test_admin_pages_are_for_admins_only(client, org):
    login(client, "m1")
    for path in ("/admin/reminders", "/admin/reminders/log", "/admin/reminders/templates/daily"):
        assert client.get(path).status_code == 403


def test_admin_previews_and_saves_a_template(client, org):
    login(client, "admin")
    token = _token(client, "/admin/reminders/templates/daily")
    preview = client.post(
        "/admin/reminders/templates/daily",
        data={
            "csrf_token": token,
            "action": "preview",
            "title": "提醒",
            "body": "{{ name }}差{{ gap }}分",
        },
    )
    assert "李学习差30分" in preview.get_data(as_text=True)
    broken = client.post(
        "/admin/reminders/templates/daily",
        data={"csrf_token": token, "action": "save", "title": "提醒", "body": "{{ nobody }}"},
    )
    assert broken.status_code == 400 and "模板有误" in broken.get_data(as_text=True)
    saved = client.post(
        "/admin/reminders/templates/daily",
        data={"csrf_token": token, "action": "save", "title": "提醒", "body": "{{ name }}加油"},
    )
    assert saved.status_code == 302
    runs.run("daily", TODAY, at=time(20, 0))
    log = client.get("/admin/reminders/log").get_data(as_text=True)
    assert "李一" in log and "已送达" in log


def test_admin_adds_a_unit_channel_and_the_secret_is_not_shown(client, org):
    login(client, "admin")
    token = _token(client, "/admin/reminders")
    response = client.post(
        "/admin/reminders/channels",
        data={
            "csrf_token": token,
            "name": "一支部钉钉群",
            "unit_id": str(org.b1.id),
            "kind": "dingtalk",
            "url": "https://oapi.dingtalk.com/robot/send?access_token=x",
            "secret": "SECxyz",
            "enabled": "1",
        },
    )
    assert response.status_code == 302
    [channel] = db.session.execute(select(ReminderChannel)).scalars()
    assert channel.secret == "SECxyz" and channel.unit_id == org.b1.id
    page = client.get(f"/admin/reminders/channels/{channel.id}").get_data(as_text=True)
    assert "一支部钉钉群" in page and "SECxyz" not in page
