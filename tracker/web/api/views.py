"""JSON shapes shared by API routes."""

from __future__ import annotations

from datetime import date

from flask import current_app

from tracker.domain.rules import RuleVersion
from tracker.models import Member
from tracker.services import access, clock, org
from tracker.services.rules import category_dict


def me_dict(member: Member) -> dict:
    unit = org.current_unit(member)
    return {
        "id": member.id,
        "name": member.name,
        "login": member.login,
        "unit": {"id": unit.id, "name": unit.name, "kind": unit.kind} if unit else None,
        "roles": {
            "admin": member.is_admin,
            "leads": [r.unit_id for r in member.leader_roles],
        },
        "active_from": member.active_from.isoformat(),
        "active_to": member.active_to.isoformat() if member.active_to else None,
        "today": clock.today().isoformat(),
        "daily_target": current_app.config["DAILY_TARGET"],
        "leader": access.is_leader(member),
    }


def rules_dict(version: RuleVersion, day: date) -> dict:
    return {
        "date": day.isoformat(),
        "valid_from": version.valid_from.isoformat(),
        "name": version.name,
        "day_maximum": version.day_maximum(day),
        "categories": [
            category_dict(c) | {"counts_on_date": c.counts_on(day)} for c in version.categories
        ],
    }
