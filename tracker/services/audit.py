"""The audit log: every change of points, rules, members, units and locks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tracker.extensions import db
from tracker.models import AuditEntry


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
    """Add an entry to the current transaction (committed, or rolled back, with the change)."""
    db.session.add(
        AuditEntry(
            at=datetime.now(UTC),
            actor_id=actor_id,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            member_id=member_id,
            before=before,
            after=after,
        )
    )
