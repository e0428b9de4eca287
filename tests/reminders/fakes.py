"""Local stand-ins that speak like the real services: the three robots and an SMTP server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

SECRET = "SEC-test-secret"


@dataclass
class Received:
    robot: str  # wecom, dingtalk, feishu
    path: str
    body: dict
    query: dict


@dataclass
class RobotServer:
    """Webhooks at /<robot>/<name>. Answers are scripted per path; the default is success.

    Signatures are checked the way DingTalk and Feishu check them; a bad one is answered with
    their error codes. Every accepted message is recorded in ``accepted``.
    """

    received: list[Received] = field(default_factory=list)
    accepted: list[Received] = field(default_factory=list)
    script: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    hold_on: int | None = None  # the n-th request (1-based) is accepted, then never answered
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> RobotServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                url = urlparse(self.path)
                robot = url.path.strip("/").split("/")[0]
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                item = Received(robot, url.path, body, parse_qs(url.query))
                with outer.lock:
                    outer.received.append(item)
                    n = len(outer.received)
                    scripted = outer.script[url.path].pop(0) if outer.script[url.path] else None
                answer = scripted or outer.check(item)
                if answer.get("_delay"):
                    time.sleep(answer["_delay"])
                if answer.get("_http"):
                    self.send_response(answer["_http"])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if outer.is_success(robot, answer):
                    with outer.lock:
                        outer.accepted.append(item)
                if outer.hold_on is not None and n == outer.hold_on:
                    outer.arrived.set()
                    outer.release.wait(30)
                    return
                data = json.dumps(answer).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def is_success(robot: str, answer: dict) -> bool:
        return answer.get("errcode", answer.get("code")) == 0

    def check(self, item: Received) -> dict:
        if item.robot == "wecom":
            ok = item.body.get("msgtype") == "markdown" and item.body["markdown"].get("content")
            return {"errcode": 0, "errmsg": "ok"} if ok else {"errcode": 40008, "errmsg": "bad"}
        if item.robot == "dingtalk":
            if "sign" in item.path or "secret" in item.path:
                ts = item.query["timestamp"][0]
                want = base64.b64encode(
                    hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
                ).decode()
                if item.query["sign"][0] != want or abs(time.time() * 1000 - int(ts)) > 3600_000:
                    return {"errcode": 310000, "errmsg": "sign not match"}
            md = item.body.get("markdown", {})
            ok = item.body.get("msgtype") == "markdown" and md.get("title") and md.get("text")
            return {"errcode": 0, "errmsg": "ok"} if ok else {"errcode": 300001, "errmsg": "bad"}
        if item.robot == "feishu":
            ts = item.body.get("timestamp")
            want = base64.b64encode(
                hmac.new(f"{ts}\n{SECRET}".encode(), b"", hashlib.sha256).digest()
            ).decode()
            if item.body.get("sign") != want:
                return {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}
            ok = item.body.get("msg_type") == "text" and item.body["content"].get("text")
            return {"code": 0, "msg": "success", "data": {}} if ok else {"code": 9499, "msg": "bad"}
        return {"errcode": 404}

    def texts(self, path: str) -> list[str]:
        out = []
        for r in self.accepted:
            if r.path != path:
                continue
            b = r.body
            out.append(
                b.get("markdown", {}).get("content")
                or b.get("markdown", {}).get("text")
                or b.get("content", {}).get("text")
            )
        return out


class Mailbox:
    """An aiosmtpd server on a free local port, keeping every message it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list = []
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                from email import message_from_bytes, policy

                outer.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> Mailbox:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeClock:
    """Time that moves only when the engine sleeps: rate limits without waiting a minute."""

    def __init__(self) -> None:
        from datetime import UTC, datetime

        self.t = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
        self.slept: list[float] = []

    def now(self):
        return self.t

    def sleep(self, seconds: float) -> None:
        from datetime import timedelta

        self.slept.append(seconds)
        self.t += timedelta(seconds=max(seconds, 0.001))
