"""The audit log: every change of points, rules, members, units and locks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tracker.services import driver


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

    A short driver statement: every saved report writes one. JSON as SQLAlchemy writes it.
    """
    driver.execute_many(
        'INSERT INTO audit_entry (at, actor_id, action, entity, entity_id, member_id, "before", '
        '"after") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [
            (
                driver.sql_datetime(datetime.now(UTC)),
                actor_id,
                action,
                entity,
                str(entity_id),
                member_id,
                json.dumps(before),
                json.dumps(after),
            )
        ],
    )
