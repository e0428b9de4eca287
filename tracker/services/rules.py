"""Rule versions: loading the seed file, finding the version in force on a date."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.domain import rules as domain
from tracker.extensions import db
from tracker.models import RuleCategory, RuleVersion

from . import audit, driver


def versions() -> list[domain.RuleVersion]:
    rows = db.session.execute(
        select(RuleVersion)
        .options(selectinload(RuleVersion.categories))
        .order_by(RuleVersion.valid_from)
    ).scalars()
    return [v.to_domain() for v in rows]


def version_for(day: date) -> domain.RuleVersion | None:
    """The version in force on ``day``: one statement on the driver (every write reads it)."""
    rows = driver.query(
        "SELECT v.id, v.valid_from, v.name, c.code, c.label, c.daily_cap, c.weekly_cap, "
        "c.weekdays, c.is_quiz FROM rule_version v "
        "LEFT JOIN rule_category c ON c.version_id = v.id "
        "WHERE v.id = (SELECT id FROM rule_version WHERE valid_from <= ? "
        "ORDER BY valid_from DESC LIMIT 1) ORDER BY c.position, c.id",
        [driver.sql_date(day)],
    )
    if not rows:
        return None
    version_id, valid_from, name = rows[0][:3]
    return domain.RuleVersion(
        valid_from=driver.as_date(valid_from),
        name=name,
        id=version_id,
        categories=tuple(
            domain.Category(
                code=code,
                label=label,
                daily_cap=daily_cap,
                weekly_cap=weekly_cap,
                weekdays=weekdays,
                is_quiz=bool(is_quiz),
            )
            for _, _, _, code, label, daily_cap, weekly_cap, weekdays, is_quiz in rows
            if code is not None
        ),
    )


def parse_rules_file(path: Path) -> list[domain.RuleVersion]:
    """Read a rule set file: ``{"versions": [{"valid_from", "name", "categories": [...]}]}``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for v in data["versions"]:
        categories = tuple(
            domain.Category(
                code=c["code"],
                label=c["label"],
                daily_cap=int(c["daily_cap"]),
                weekly_cap=c.get("weekly_cap"),
                weekdays=domain.weekdays_from_names(c.get("days", "all")),
                is_quiz=bool(c.get("quiz", False)),
            )
            for c in v["categories"]
        )
        out.append(
            domain.RuleVersion(
                valid_from=date.fromisoformat(v["valid_from"]),
                name=v.get("name", ""),
                categories=categories,
            )
        )
    return out


def add_version(version: domain.RuleVersion, *, actor_id: int | None = None) -> RuleVersion:
    """Add a rule version inside the caller's transaction."""
    row = RuleVersion(valid_from=version.valid_from, name=version.name)
    for position, c in enumerate(version.categories):
        row.categories.append(
            RuleCategory(
                code=c.code,
                label=c.label,
                daily_cap=c.daily_cap,
                weekly_cap=c.weekly_cap,
                weekdays=c.weekdays,
                is_quiz=c.is_quiz,
                position=position,
            )
        )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "rules.create", "rule_version", row.id, actor_id=actor_id, after=version_dict(version)
    )
    return row


def version_dict(version: domain.RuleVersion) -> dict:
    return {
        "valid_from": version.valid_from.isoformat(),
        "name": version.name,
        "categories": [category_dict(c) for c in version.categories],
    }


def category_dict(c: domain.Category) -> dict:
    return {
        "code": c.code,
        "label": c.label,
        "daily_cap": c.daily_cap,
        "weekly_cap": c.weekly_cap,
        "weekdays": [i + 1 for i in range(7) if c.weekdays >> i & 1],
        "quiz": c.is_quiz,
    }
