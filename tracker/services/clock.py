"""The organisation's today, from its configured time zone (SPEC §1 Periods)."""

from __future__ import annotations

from datetime import date

from flask import current_app

from tracker.domain.periods import today_in


def today() -> date:
    fixed = current_app.config.get("FIXED_TODAY")
    if fixed:
        return date.fromisoformat(fixed)
    return today_in(current_app.config["TIMEZONE"])
