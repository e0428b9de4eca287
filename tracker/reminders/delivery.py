"""Deliveries: planned (pending) before anything is sent, then sent at most once each.

The order of writes is what makes a killed run safe to run again:

1. ``plan`` inserts every message of a run as a ``pending`` row in one transaction; rows that
   exist already for (reminder, period, recipient) are left alone, so a rerun plans nothing twice.
2. ``deliver`` writes in-app notices a batch at a time, in the same transaction that marks the
   batch's rows ``sent``: exactly once. It takes the other rows one at a time: for a network
   channel, one transaction marks the row ``sending`` and writes the attempt (which is also
   what the robot rate limit counts), then the message goes out, then a second transaction
   records the outcome.
3. A run that finds ``sending`` rows (its predecessor died between steps) marks them ``unknown``
   and does not send them again. The message may or may not have arrived; the robots have no
   idempotency key to ask, so we choose at most once (SPEC §4: never a duplicate) and show
   these rows in the delivery log, where an admin can send one again deliberately.

Failures that certainly did not deliver (refused, rate-limited, server errors) go back to
``pending`` with an exponential back-off, up to the attempt limit, then ``failed``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, insert, select, update

from tracker.extensions import db
from tracker.models.reminders import Delivery, DeliveryAttempt, Notice, ReminderChannel
from tracker.services import collector, tx

from . import channels, policy

BATCH = 500  # rows a statement plans, or in-app notices a transaction delivers


@dataclass
class Planned:
    recipient: str  # member:12 or channel:3
    kind: str
    title: str
    body: str
    member_id: int | None = None
    channel_id: int | None = None
    address: str = ""
    attachment: str | None = None
    label: str = ""  # who, for people reading a dry run


@dataclass(frozen=True)
class Settings:
    max_attempts: int
    backoff_seconds: float
    timeout_seconds: float
    rate_limit: int
    rate_window_seconds: int
    smtp: channels.SmtpSettings
    instance: Path

    @classmethod
    def from_app(cls) -> Settings:
        c = current_app.config
        return cls(
            max_attempts=c["DELIVERY_MAX_ATTEMPTS"],
            backoff_seconds=c["DELIVERY_BACKOFF_SECONDS"],
            timeout_seconds=c["DELIVERY_TIMEOUT_SECONDS"],
            rate_limit=c["ROBOT_RATE_LIMIT"],
            rate_window_seconds=c["ROBOT_RATE_WINDOW_SECONDS"],
            smtp=channels.SmtpSettings(
                host=c["SMTP_HOST"],
                port=c["SMTP_PORT"],
                user=c["SMTP_USER"],
                password=c["SMTP_PASSWORD"],
                starttls=c["SMTP_STARTTLS"],
                sender=c["SMTP_FROM"],
            ),
            instance=Path(current_app.instance_path),
        )


class Clock:
    """Wall-clock time for attempts, back-off and rate limits; tests pass their own."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored here is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@collector.paused()
def plan(reminder: str, period: str, items: list[Planned]) -> int:
    """Write the pending rows of a run; returns how many were new."""
    if not items:
        return 0
    with tx.write():
        existing = set(
            db.session.execute(
                select(Delivery.recipient).where(
                    Delivery.reminder == reminder, Delivery.period == period
                )
            ).scalars()
        )
        new = [p for p in items if p.recipient not in existing]
        rows = [
            {
                "reminder": reminder,
                "period": period,
                "recipient": p.recipient,
                "member_id": p.member_id,
                "channel_id": p.channel_id,
                "kind": p.kind,
                "address": p.address,
                "title": p.title[:200],
                "body": p.body,
                "attachment": p.attachment,
                "status": "pending",
                "attempts": 0,
            }
            for p in new
        ]
        # Multi-row inserts: a daily run plans a row for nearly every member.
        for i in range(0, len(rows), BATCH):
            db.session.execute(insert(Delivery), rows[i : i + BATCH])
    return len(new)


def mark_interrupted(reminder: str, period: str) -> int:
    """Rows left ``sending`` by a run that died: their fate is unknown, so they are not resent."""
    with tx.write():
        result = db.session.execute(
            update(Delivery)
            .where(
                Delivery.reminder == reminder,
                Delivery.period == period,
                Delivery.status == "sending",
            )
            .values(status="unknown", last_error="运行中断，无法确认是否送达；未重发")
        )
    return result.rowcount or 0


def deliver(
    reminder: str,
    period: str,
    settings: Settings,
    clock: Clock | None = None,
    heartbeat: Callable[[], None] = lambda: None,
) -> Counter:
    """Send every pending row of (reminder, period); returns counts by final status."""
    clock = clock or Clock()
    mark_interrupted(reminder, period)
    _deliver_notices(reminder, period, clock, heartbeat)
    while True:
        rows = db.session.execute(
            select(Delivery.id, Delivery.next_attempt_at)
            .where(
                Delivery.reminder == reminder,
                Delivery.period == period,
                Delivery.status == "pending",
            )
            .order_by(Delivery.id)
        ).all()
        db.session.commit()
        if not rows:
            break
        now = clock.now()
        waits: list[datetime] = []
        progressed = False
        for delivery_id, next_at in rows:
            next_at = utc(next_at)
            if next_at and next_at > now:
                waits.append(next_at)
                continue
            wait_until = attempt(delivery_id, settings, clock)
            heartbeat()
            if wait_until is None:
                progressed = True
            else:
                waits.append(wait_until)
            now = clock.now()
        if not progressed and waits:
            clock.sleep(max(0.0, (min(waits) - clock.now()).total_seconds()))
    return status_counts(reminder, period)


def _deliver_notices(
    reminder: str, period: str, clock: Clock, heartbeat: Callable[[], None]
) -> None:
    """Every pending in-app row, a batch at a time: each batch's notices are written in the
    transaction that marks the batch sent, so each arrives exactly once, as by ``attempt``.

    One transaction per row took 160 s for 90,000 members' notices; in batches, about 6 s.
    """
    while True:
        now = clock.now()
        with tx.write():
            query = (
                select(Delivery.id, Delivery.member_id, Delivery.title, Delivery.body)
                .where(
                    Delivery.reminder == reminder,
                    Delivery.period == period,
                    Delivery.status == "pending",
                    Delivery.kind == "inapp",
                    Delivery.member_id.is_not(None),
                    Delivery.next_attempt_at.is_(None),
                )
                .order_by(Delivery.id)
                .limit(BATCH)
            )
            if tx.is_postgres():
                query = query.with_for_update()
            rows = db.session.execute(query).all()
            if not rows:
                return
            _notices_sent(rows, now)
        heartbeat()


def _notices_sent(rows, now: datetime) -> None:
    """Write the notices of in-app rows (delivery id, member id, title, body) and mark the
    rows sent, in the caller's transaction: one statement each, whatever the number."""
    ids = [delivery_id for delivery_id, *_ in rows]
    db.session.execute(
        insert(Notice),
        [
            {
                "member_id": member_id,
                "delivery_id": delivery_id,
                "title": title,
                "body": body,
                "created_at": now,
            }
            for delivery_id, member_id, title, body in rows
        ],
    )
    db.session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids))
        .values(status="sent", sent_at=now, last_error="", attempts=Delivery.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        insert(DeliveryAttempt),
        [{"delivery_id": i, "channel_id": None, "at": now, "outcome": "sent"} for i in ids],
    )


def status_counts(reminder: str, period: str) -> Counter:
    return Counter(
        dict(
            db.session.execute(
                select(Delivery.status, func.count())
                .where(Delivery.reminder == reminder, Delivery.period == period)
                .group_by(Delivery.status)
            ).all()
        )
    )


def attempt(delivery_id: int, settings: Settings, clock: Clock) -> datetime | None:
    """One try at one row. Returns when to try again if a robot's rate limit is used up."""
    now = clock.now()
    with tx.write():
        query = select(Delivery).where(Delivery.id == delivery_id)
        if tx.is_postgres():
            query = query.with_for_update()
        d = db.session.execute(query).scalar_one()
        if d.status != "pending":
            return None
        channel = None
        if d.channel_id is not None:
            channel_query = select(ReminderChannel).where(ReminderChannel.id == d.channel_id)
            if tx.is_postgres():
                # Serialise the rate-limit count per robot across processes.
                channel_query = channel_query.with_for_update()
            channel = db.session.execute(channel_query).scalar_one()
        if d.kind in channels.ROBOTS and channel is not None:
            free_at = _rate_limited_until(channel.id, now, settings)
            if free_at is not None:
                d.next_attempt_at = free_at
                return free_at
        if d.kind == "inapp":
            assert d.member_id is not None
            _notices_sent([(d.id, d.member_id, d.title, d.body)], now)
            return None
        d.attempts += 1
        d.status = "sending"
        record = DeliveryAttempt(delivery_id=d.id, channel_id=d.channel_id, at=now)
        db.session.add(record)
        db.session.flush()
        attempt_id = record.id
        message = channels.Message(
            title=d.title,
            text=d.body,
            address=channel.url if channel and d.kind in channels.ROBOTS else d.address,
            secret=channel.secret if channel else "",
            attachment=settings.instance / d.attachment if d.attachment else None,
            message_id=f"<delivery-{d.id}.{d.reminder}.{d.period}@xuexi-tracker>",
        )
        kind = d.kind
    outcome = channels.send(kind, message, settings.timeout_seconds, settings.smtp)
    _record(delivery_id, attempt_id, outcome, settings, clock)
    return None


def _rate_limited_until(channel_id: int, now: datetime, settings: Settings) -> datetime | None:
    window = timedelta(seconds=settings.rate_window_seconds)
    recent = list(
        db.session.execute(
            select(DeliveryAttempt.at)
            .where(DeliveryAttempt.channel_id == channel_id, DeliveryAttempt.at > now - window)
            .order_by(DeliveryAttempt.at)
        ).scalars()
    )
    if len(recent) < settings.rate_limit:
        return None
    # The slot of the oldest attempt in the window frees first.
    return utc(recent[len(recent) - settings.rate_limit]) + window


def _record(
    delivery_id: int,
    attempt_id: int,
    outcome: channels.Outcome,
    settings: Settings,
    clock: Clock,
) -> None:
    now = clock.now()
    with tx.write():
        d = db.session.get(Delivery, delivery_id)
        record = db.session.get(DeliveryAttempt, attempt_id)
        record.outcome = outcome.status
        record.detail = outcome.detail[:500]
        d.last_error = "" if outcome.status == "sent" else outcome.detail[:500]
        if outcome.status == "sent":
            d.status, d.sent_at = "sent", now
        elif outcome.status == "retry" and d.attempts < settings.max_attempts:
            delay = policy.backoff(settings.backoff_seconds, d.attempts)
            if outcome.rate_limited:
                delay = max(delay, timedelta(seconds=settings.rate_window_seconds))
            d.status, d.next_attempt_at = "pending", now + delay
        elif outcome.status == "unknown":
            d.status = "unknown"
        else:
            d.status = "failed"


def send_again(delivery_id: int, actor_id: int) -> Delivery:
    """An admin's deliberate resend of a failed or unknown row (it may arrive twice)."""
    from tracker.services import audit

    with tx.write():
        d = db.session.get(Delivery, delivery_id)
        if d is None or d.status not in ("failed", "unknown"):
            raise ValueError("只能重发失败或状态不明的消息")
        before = d.status
        d.status, d.attempts, d.next_attempt_at = "pending", 0, None
        audit.record(
            "delivery.resend",
            "delivery",
            d.id,
            actor_id=actor_id,
            before={"status": before},
            after={"status": "pending"},
        )
    return d
