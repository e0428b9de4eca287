"""Delivery channels: WeCom, DingTalk (signed) and Feishu (signed) robots, and SMTP e-mail.

Each ``send_*`` makes one attempt and says what became of it:

- ``sent``: the other side accepted the message;
- ``retry``: it certainly did not arrive (refused, rate-limited, a server error) — try again;
- ``failed``: it will never arrive as it stands (bad address, bad signature) — do not retry;
- ``unknown``: the request went out but no answer came back (a timeout): it may have arrived,
  so it is not sent again (at most once, SPEC §4).

In-app notices need no network and are written by the delivery engine itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

ROBOTS = ("wecom", "dingtalk", "feishu")
KINDS = ("inapp", "email", *ROBOTS)
KIND_LABELS = {
    "inapp": "站内通知",
    "email": "电子邮件",
    "wecom": "企业微信机器人",
    "dingtalk": "钉钉机器人",
    "feishu": "飞书机器人",
}
# The robots' own "too many messages" answers.
RATE_LIMIT_CODES = {"wecom": {45009}, "dingtalk": {130101}, "feishu": {9499, 11232}}
# Answers that will not change on a retry (bad key, bad signature, keyword or IP not allowed).
PERMANENT_CODES = {
    "wecom": {93000, 93004, 40008, 40058},
    "dingtalk": {300001, 310000, 400101, 400102},
    "feishu": {19001, 19021, 19022, 19024},
}


@dataclass(frozen=True)
class Outcome:
    status: str  # sent, retry, failed, unknown
    detail: str = ""
    rate_limited: bool = False


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    address: str = ""  # webhook url or e-mail address
    secret: str = ""
    attachment: Path | None = None
    message_id: str = ""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str = ""
    password: str = ""
    starttls: bool = False
    sender: str = "xuexi@localhost"


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk: base64(HMAC-SHA256(key=secret, msg="{timestamp}\\n{secret}"))."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu: base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg=b""))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def wecom_payload(message: Message) -> dict:
    return {"msgtype": "markdown", "markdown": {"content": message.text}}


def dingtalk_payload(message: Message) -> dict:
    return {"msgtype": "markdown", "markdown": {"title": message.title, "text": message.text}}


def feishu_payload(message: Message, now: float | None = None) -> dict:
    timestamp = int(now if now is not None else time.time())
    body: dict = {"msg_type": "text", "content": {"text": message.text}}
    if message.secret:
        body = {"timestamp": str(timestamp), "sign": feishu_sign(message.secret, timestamp), **body}
    return body


def dingtalk_url(message: Message, now: float | None = None) -> str:
    if not message.secret:
        return message.address
    timestamp = int((now if now is not None else time.time()) * 1000)
    sign = urllib.parse.quote_plus(dingtalk_sign(message.secret, timestamp))
    joiner = "&" if "?" in message.address else "?"
    return f"{message.address}{joiner}timestamp={timestamp}&sign={sign}"


def send(kind: str, message: Message, timeout: float, smtp: SmtpSettings | None = None) -> Outcome:
    if kind == "wecom":
        return _post_robot(kind, message.address, wecom_payload(message), timeout)
    if kind == "dingtalk":
        return _post_robot(kind, dingtalk_url(message), dingtalk_payload(message), timeout)
    if kind == "feishu":
        return _post_robot(kind, message.address, feishu_payload(message), timeout)
    if kind == "email":
        assert smtp is not None
        return send_email(message, smtp, timeout)
    raise ValueError(f"unknown channel kind {kind!r}")


def _post_robot(kind: str, url: str, payload: dict, timeout: float) -> Outcome:
    data = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as e:
        if e.code == 429:
            return Outcome("retry", "HTTP 429", rate_limited=True)
        if e.code >= 500:
            return Outcome("retry", f"HTTP {e.code}")
        return Outcome("failed", f"HTTP {e.code}")
    except urllib.error.URLError as e:
        if isinstance(e.reason, TimeoutError):
            return Outcome("unknown", "没有应答（超时）")
        return Outcome("retry", f"连接失败：{e.reason}")
    except TimeoutError:
        return Outcome("unknown", "没有应答（超时）")
    except (ConnectionError, OSError) as e:
        # The connection broke after the request was written: it may have arrived.
        return Outcome("unknown", f"连接中断：{e}")
    return _robot_answer(kind, raw)


def _robot_answer(kind: str, raw: bytes) -> Outcome:
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        return Outcome("retry", f"无法解析的应答：{raw[:100]!r}")
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    message = answer.get("errmsg", answer.get("msg", answer.get("StatusMessage", "")))
    if code == 0:
        return Outcome("sent", "ok")
    detail = f"{code} {message}".strip()
    if code in RATE_LIMIT_CODES[kind]:
        return Outcome("retry", detail, rate_limited=True)
    if code in PERMANENT_CODES[kind]:
        return Outcome("failed", detail)
    return Outcome("retry", detail)


def send_email(message: Message, smtp: SmtpSettings, timeout: float) -> Outcome:
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = smtp.sender
    mail["To"] = message.address
    mail["Date"] = formatdate(localtime=True)
    if message.message_id:
        # Stable per delivery, so a mail system that sees it twice can drop the copy.
        mail["Message-ID"] = message.message_id
    mail.set_content(message.text)
    if message.attachment and message.attachment.exists():
        mail.add_attachment(
            message.attachment.read_bytes(),
            maintype="image",
            subtype=message.attachment.suffix.lstrip(".") or "png",
            filename=message.attachment.name,
        )
    try:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
    except OSError as e:
        return Outcome("retry", f"无法连接邮件服务器：{e}")
    try:
        with client:
            if smtp.starttls:
                client.starttls()
            if smtp.user:
                client.login(smtp.user, smtp.password)
            client.send_message(mail)
    except smtplib.SMTPRecipientsRefused as e:
        return Outcome("failed", f"收件人被拒绝：{e.recipients}")
    except smtplib.SMTPResponseException as e:
        status = "retry" if 400 <= e.smtp_code < 500 else "failed"
        return Outcome(status, f"{e.smtp_code} {e.smtp_error!r}")
    except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as e:
        return Outcome("unknown", f"发送中断：{e}")
    return Outcome("sent", "ok")
