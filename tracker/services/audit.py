"""The audit log: every change of points, rules, members, units and locks."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tracker.services import clock, driver


def record(
    action: str,
    entity: str,
    entity_id: object,
    *,
    actor_id: int | None,
    before: Any = None,
    after: Any = None,
    member_id: int | None = None,
) -> None:
    """Add an entry to the current transaction (committed, or rolled back, with the change).

    A short driver statement: every saved report writes one.
    """
    record_many([(action, entity, entity_id, actor_id, member_id, before, after)])


Entry = tuple[str, str, object, int | None, int | None, Any, Any]


def record_many(entries: Iterable[Entry], at: datetime | None = None) -> None:
    """Add many entries at once (an import): (action, entity, entity id, actor id, member id,
    before, after) each, all at the same moment. JSON as SQLAlchemy encodes it."""
    moment = driver.sql_datetime(at or clock.now())
    driver.insert_many(
        "audit_entry",
        ("at", "actor_id", "action", "entity", "entity_id", "member_id", '"before"', '"after"'),
        (
            (
                moment,
                actor_id,
                action,
                entity,
                str(entity_id),
                member_id,
                json.dumps(before),
                json.dumps(after),
            )
            for action, entity, entity_id, actor_id, member_id, before, after in entries
        ),
    )
