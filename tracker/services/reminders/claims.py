"""A job's claim on a period: at most one live run per (job, period), across processes.

The claim is a row (primary key job + period). A run takes it when there is none, when the
last run finished (for reruns), or when the run holding it is dead. On PostgreSQL a session
advisory lock on (job, period) is held for the whole run, so "dead" is exact: the lock is free.
On SQLite a run is dead when its process is gone (same host) or its lease ran out; a live run
renews the lease as it goes.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tracker.extensions import db
from tracker.models.reminders import JobClaim
from tracker.services import tx

HOST = socket.gethostname()[:60]


@dataclass
class Claim:
    job: str
    period: str
    owner: str
    lease_seconds: int
    lock: Connection | None = None
    renewed: float = field(default_factory=time.monotonic)

    def renew(self) -> None:
        """Push the lease forward (at most every few seconds)."""
        if time.monotonic() - self.renewed < max(1.0, self.lease_seconds / 5):
            return
        self.renewed = time.monotonic()
        with tx.write():
            row = db.session.get(JobClaim, (self.job, self.period))
            if row is not None and row.owner == self.owner:
                row.lease_until = _now() + timedelta(seconds=self.lease_seconds)

    def release(self, summary: str) -> None:
        try:
            with tx.write():
                row = db.session.get(JobClaim, (self.job, self.period))
                if row is not None and row.owner == self.owner:
                    row.status, row.finished_at, row.summary = "done", _now(), summary[:500]
        finally:
            self._unlock()

    def abandon(self) -> None:
        """Give the claim up after an error: the next run may take over at once."""
        try:
            with tx.write():
                row = db.session.get(JobClaim, (self.job, self.period))
                if row is not None and row.owner == self.owner:
                    row.lease_until = _now() - timedelta(seconds=1)
        finally:
            self._unlock()

    def _unlock(self) -> None:
        if self.lock is not None:
            self.lock.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _lock_key(self)})
            self.lock.commit()
            self.lock.close()
            self.lock = None


class Busy(Exception):
    """Another live run holds the claim, or (for a scheduled run) the period is done."""


def _now() -> datetime:
    return datetime.now(UTC)


def _lock_key(claim: Claim | tuple[str, str]) -> int:
    job, period = (claim.job, claim.period) if isinstance(claim, Claim) else claim
    digest = hashlib.sha256(f"tracker-job:{job}:{period}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _process_alive(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != HOST or not pid_text.isdigit():
        return True  # another machine: only its lease tells
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire(job: str, period: str, *, rerun: bool, lease_seconds: int) -> Claim:
    """Take the claim or raise ``Busy``. ``rerun`` allows running a finished period again."""
    owner = f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    claim = Claim(job, period, owner, lease_seconds)
    if tx.is_postgres():
        connection = db.engine.connect()
        got = connection.execute(
            text("SELECT pg_try_advisory_lock(:k)"), {"k": _lock_key((job, period))}
        ).scalar_one()
        connection.commit()
        if not got:
            connection.close()
            raise Busy(f"{job} {period} 正在另一进程中运行")
        claim.lock = connection
    try:
        _take_row(claim, rerun=rerun)
    except BaseException:
        claim._unlock()
        raise
    return claim


def _take_row(claim: Claim, *, rerun: bool) -> None:
    now = _now()
    lease_until = now + timedelta(seconds=claim.lease_seconds)
    try:
        with tx.write():
            query = select(JobClaim).where(
                JobClaim.job == claim.job, JobClaim.period == claim.period
            )
            if tx.is_postgres():
                query = query.with_for_update()
            row = db.session.execute(query).scalar_one_or_none()
            if row is None:
                db.session.add(
                    JobClaim(
                        job=claim.job,
                        period=claim.period,
                        status="running",
                        owner=claim.owner,
                        lease_until=lease_until,
                        started_at=now,
                    )
                )
                return
            if row.status == "done" and not rerun:
                raise Busy(f"{claim.job} {claim.period} 已于 {row.finished_at} 完成")
            if row.status == "running" and claim.lock is None and _alive(row, now):
                raise Busy(f"{claim.job} {claim.period} 正在运行（{row.owner}）")
            row.status, row.owner, row.lease_until = "running", claim.owner, lease_until
            row.started_at, row.finished_at = now, None
    except IntegrityError as e:
        raise Busy(f"{claim.job} {claim.period} 刚被另一进程认领") from e


def _alive(row: JobClaim, now: datetime) -> bool:
    lease = row.lease_until if row.lease_until.tzinfo else row.lease_until.replace(tzinfo=UTC)
    return lease > now and _process_alive(row.owner)
