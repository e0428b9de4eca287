"""The scheduler process (``flask --app tracker scheduler run``): APScheduler 3's
``BlockingScheduler`` in the organisation's time zone. It only schedules; the jobs do the work,
each inside an app context of its own.
"""

from __future__ import annotations

import hashlib
import logging
import signal
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask

from tracker import serving
from tracker.extensions import db
from tracker.services.reminders.claims import Busy

from .jobs import JOBS, Job

log = logging.getLogger("tracker.scheduler")


def job_id(job: Job, schedule: str) -> str:
    """Stable per definition, so a restart replaces a job instead of adding a second one."""
    return f"{job.name}-{hashlib.sha1(f'{job.name}|{schedule}'.encode()).hexdigest()[:10]}"


def _wrapped(app: Flask, job: Job):
    def run() -> None:
        with app.app_context():
            try:
                log.info("%s: %s", job.name, job.run())
            except Busy as e:
                log.info("%s skipped: %s", job.name, e)
            except Exception:
                log.exception("%s failed", job.name)
            finally:
                db.session.remove()

    run.__name__ = f"run_{job.name}"
    return run


def build(app: Flask) -> BlockingScheduler:
    tz = ZoneInfo(app.config["TIMEZONE"])
    scheduler = BlockingScheduler(
        timezone=tz,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": app.config["SCHEDULER_MISFIRE_GRACE_SECONDS"],
        },
    )
    for job in JOBS:
        schedule = app.config[job.setting].strip()
        if not schedule or schedule == "off":
            continue
        scheduler.add_job(
            _wrapped(app, job),
            CronTrigger.from_crontab(schedule, timezone=tz),
            id=job_id(job, schedule),
            name=job.label,
            replace_existing=True,
        )
    return scheduler


def run(app: Flask, *, run_now: tuple[str, ...] = ()) -> None:
    """Start the scheduler; ``run_now`` jobs run once at start (then on schedule)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    scheduler = build(app)
    by_name = {j.name: j for j in JOBS}
    for name in run_now:
        scheduler.add_job(_wrapped(app, by_name[name]), id=f"{name}-now", name=f"{name} (now)")

    def stop(_signum, _frame) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    serving.settle()  # the weekly export draws hundreds of charts, as a web worker does
    for job in scheduler.get_jobs():
        log.info("scheduled %s (%s): %s", job.name, job.id, job.trigger)
    scheduler.start()
