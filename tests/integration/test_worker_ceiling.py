"""gunicorn.conf.py replaces a web worker whose memory has grown past the ceiling, after its
response has gone out; under the ceiling the same worker goes on serving."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.reminders.fakes import free_port

ROOT = Path(__file__).resolve().parents[2]


def _workers(master: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                found.add(int(entry.name))
    return found


def _get(port: int, path: str = "/login") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


class Server:
    def __init__(self, app, tmp_path, ceiling_mb: int) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
        env.update(
            DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
            TRACKER_SECRET_KEY="ceiling-test",
            TRACKER_WORKER_MAX_RSS_MB=str(ceiling_mb),
        )
        self.log = tmp_path / "gunicorn.log"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-w", "1"),
                    *("-b", f"127.0.0.1:{self.port}", "--log-level", "info"),
                    "tracker:create_app()",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def worker(self) -> int:
        """The one worker's pid, once it answers (waiting for a replacement to start)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            workers = _workers(self.process.pid)
            if len(workers) == 1:
                try:
                    if _get(self.port) == 200:
                        return _workers(self.process.pid).pop()
                except OSError:
                    pass
            time.sleep(0.1)
        raise AssertionError(f"no worker answered; log:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _replaced(server: Server) -> bool:
    """Whether the worker that answers a request is gone once it has answered."""
    first = server.worker()  # its readiness probe was answered by it, too
    assert _get(server.port) == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and first in _workers(server.process.pid):
        time.sleep(0.05)
    return first not in _workers(server.process.pid)


def test_a_worker_over_the_ceiling_is_replaced_after_its_response(app, tmp_path):
    server = Server(app, tmp_path, ceiling_mb=1)  # any worker is over 1 MB
    try:
        assert _replaced(server)
        assert server.worker() > 0  # and a new one answers in its place
        assert "replaced after this request" in server.log.read_text()
    finally:
        server.stop()


def test_a_worker_under_the_ceiling_goes_on_serving(app, tmp_path):
    server = Server(app, tmp_path, ceiling_mb=100_000)
    try:
        assert not _replaced(server)
    finally:
        server.stop()
