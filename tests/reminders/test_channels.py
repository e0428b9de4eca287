"""Each robot's payload and signature, checked by a local server that answers like the robot."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from tracker.reminders import channels
from tracker.reminders.channels import Message

from .fakes import SECRET, Mailbox, RobotServer


@pytest.fixture
def robots():
    server = RobotServer().start()
    yield server
    server.stop()


def test_signatures_follow_the_documented_formulas():
    ts = 1700000000000
    assert (
        channels.dingtalk_sign("abc", ts)
        == base64.b64encode(
            hmac.new(b"abc", f"{ts}\nabc".encode(), hashlib.sha256).digest()
        ).decode()
    )
    assert (
        channels.feishu_sign("abc", 1700000000)
        == base64.b64encode(hmac.new(b"1700000000\nabc", b"", hashlib.sha256).digest()).decode()
    )


def test_wecom_markdown_is_accepted(robots):
    out = channels.send("wecom", Message("标题", "**你好**", f"{robots.base}/wecom/a"), 5)
    assert out.status == "sent"
    assert robots.accepted[0].body == {"msgtype": "markdown", "markdown": {"content": "**你好**"}}


def test_dingtalk_signed_markdown_is_accepted_and_a_wrong_secret_fails_for_good(robots):
    url = f"{robots.base}/dingtalk/signed"
    ok = channels.send("dingtalk", Message("标题", "正文", url, SECRET), 5)
    assert ok.status == "sent"
    body = robots.accepted[0].body
    assert body == {"msgtype": "markdown", "markdown": {"title": "标题", "text": "正文"}}
    bad = channels.send("dingtalk", Message("标题", "正文", url, "wrong"), 5)
    assert bad.status == "failed" and "310000" in bad.detail


def test_feishu_signed_text_is_accepted_and_a_wrong_secret_fails_for_good(robots):
    url = f"{robots.base}/feishu/a"
    assert channels.send("feishu", Message("t", "正文", url, SECRET), 5).status == "sent"
    body = robots.accepted[0].body
    assert body["msg_type"] == "text" and body["content"] == {"text": "正文"}
    assert set(body) == {"timestamp", "sign", "msg_type", "content"}
    bad = channels.send("feishu", Message("t", "正文", url, "wrong"), 5)
    assert bad.status == "failed" and "19021" in bad.detail


def test_rate_limit_answers_and_server_errors_are_retried(robots):
    robots.script["/wecom/a"] = [{"errcode": 45009, "errmsg": "api freq out of limit"}]
    robots.script["/dingtalk/a"] = [{"errcode": 130101, "errmsg": "send too fast"}]
    robots.script["/feishu/a"] = [{"_http": 500}]
    wecom = channels.send("wecom", Message("t", "x", f"{robots.base}/wecom/a"), 5)
    ding = channels.send("dingtalk", Message("t", "x", f"{robots.base}/dingtalk/a"), 5)
    feishu = channels.send("feishu", Message("t", "x", f"{robots.base}/feishu/a", SECRET), 5)
    assert (wecom.status, wecom.rate_limited) == ("retry", True)
    assert (ding.status, ding.rate_limited) == ("retry", True)
    assert feishu.status == "retry"
    assert robots.accepted == []


def test_no_answer_is_unknown_and_a_refused_connection_is_retried(robots):
    robots.script["/wecom/slow"] = [{"_delay": 1.0, "errcode": 0}]
    slow = channels.send("wecom", Message("t", "x", f"{robots.base}/wecom/slow"), 0.2)
    assert slow.status == "unknown"
    from .fakes import free_port

    refused = channels.send("wecom", Message("t", "x", f"http://127.0.0.1:{free_port()}/w"), 1)
    assert refused.status == "retry"


def test_email_arrives_with_subject_body_and_message_id():
    with Mailbox() as box:
        smtp = channels.SmtpSettings("127.0.0.1", box.port, sender="xuexi@example.org")
        message = Message(
            "你今天学习了吗？", "李一同志，你好", "li@example.org", message_id="<d-1@x>"
        )
        assert channels.send("email", message, 5, smtp).status == "sent"
    [mail] = box.messages
    assert mail["Subject"] == "你今天学习了吗？" and mail["To"] == "li@example.org"
    assert mail["Message-ID"] == "<d-1@x>"
    assert "李一同志" in mail.get_content()


def test_email_to_a_server_that_is_not_there_is_retried():
    from .fakes import free_port

    smtp = channels.SmtpSettings("127.0.0.1", free_port())
    assert channels.send("email", Message("t", "x", "a@b.c"), 1, smtp).status == "retry"
