"""The scheduler process killed with SIGKILL mid-run, then started again: no duplicates, no misses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.reminders.fakes import RobotServer
from tracker.extensions import db
from tracker.models.reminders import Delivery, JobClaim
from tracker.services.reminders import settings

ROOT = Path(__file__).resolve().parents[2]
CHANNELS = 6


def _env(app, tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        TRACKER_SECRET_KEY="kill-test",
        TRACKER_FIXED_TODAY="2026-11-23",
        TRACKER_QUIET_HOURS="",
        TRACKER_DELIVERY_BACKOFF="0.01",
        TRACKER_DELIVERY_TIMEOUT="30",
        TRACKER_JOB_LEASE_SECONDS="600",  # a dead run must be recognised, not waited out
        PYTHONUNBUFFERED="1",
    )
    for key in ("DAILY", "WEEKLY", "EXPORT", "QUARTERLY", "ROLLUP_CHECK"):
        env[f"TRACKER_SCHEDULE_{key}"] = "off"
    return env


def _scheduler(env, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "tracker",
                "scheduler",
                "run",
                "--now",
                "weekly",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _statuses() -> list[str]:
    db.session.commit()  # a fresh snapshot each time
    return list(db.session.execute(select(Delivery.status).order_by(Delivery.id)).scalars())


@pytest.mark.parametrize("kill_on", [1, 4])
def test_killed_scheduler_rerun_sends_each_message_exactly_once(app, ctx, org, tmp_path, kill_on):
    robots = RobotServer(hold_on=kill_on).start()
    try:
        for i in range(CHANNELS):
            settings.save_channel(
                org.admin,
                unit_id=org.b1.id,
                kind="wecom",
                name=f"群{i}",
                url=f"{robots.base}/wecom/c{i}",
            )
        db.session.commit()
        env, log = _env(app, tmp_path), tmp_path / "scheduler.log"

        first = _scheduler(env, log)
        assert robots.arrived.wait(60), log.read_text()
        first.send_signal(signal.SIGKILL)  # mid-run: request `kill_on` is out, unanswered
        first.wait(10)
        statuses = _statuses()
        assert statuses.count("sent") == kill_on - 1 and statuses.count("sending") == 1

        robots.hold_on = None
        second = _scheduler(env, log)
        deadline = time.monotonic() + 60
        while any(s in ("pending", "sending") for s in _statuses()):
            assert time.monotonic() < deadline, log.read_text()
            assert second.poll() is None, log.read_text()
            time.sleep(0.2)
        second.send_signal(signal.SIGTERM)
        second.wait(10)
    finally:
        robots.stop()

    per_channel = {f"/wecom/c{i}": len(robots.texts(f"/wecom/c{i}")) for i in range(CHANNELS)}
    assert per_channel == {path: 1 for path in per_channel}  # no duplicate, no miss
    assert sorted(_statuses()) == sorted(["sent"] * (CHANNELS - 1) + ["unknown"])
    claim = db.session.get(JobClaim, ("weekly", "2026-W47"))
    assert claim.status == "done"
