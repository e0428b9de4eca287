"""Loading the default rule set and the demo organisation from ``seeds/``."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from tracker.domain.periods import period_of
from tracker.domain.rules import RuleVersion, version_for
from tracker.extensions import db
from tracker.models import DailyReport, LeaderRole, Member, QuizResult, ReportItem, Unit
from tracker.models import RuleVersion as RuleVersionRow

from . import org, rollups, tx
from . import rules as rules_service

SEEDS = Path(__file__).resolve().parent.parent.parent / "seeds"
HISTORY_DAYS = 84  # twelve weeks


def is_empty() -> bool:
    return db.session.execute(select(func.count()).select_from(Member)).scalar_one() == 0


def load_rules(path: Path | None = None) -> int:
    """Add the rule versions of the file that are not in the database yet."""
    versions = rules_service.parse_rules_file(path or SEEDS / "rules.json")
    added = 0
    with tx.write():
        have = set(db.session.execute(select(RuleVersionRow.valid_from)).scalars())
        for v in versions:
            if v.valid_from not in have:
                rules_service.add_version(v)
                added += 1
    return added


def load_demo(today: date, progress: Callable[[str], None] = lambda _: None) -> dict[str, int]:
    """Build the demo organisation with twelve weeks of plausible, deterministic history."""
    spec = json.loads((SEEDS / "demo_org.json").read_text(encoding="utf-8"))
    rng = random.Random(20171113)
    load_rules()
    versions = rules_service.versions()
    start = today - timedelta(days=HISTORY_DAYS)
    with tx.write():
        units: dict[str, Unit] = {}
        plans: list[tuple[Unit, int, bool]] = []

        def build(node: dict, parent: Unit | None, position: int) -> None:
            unit = org.add_unit(node["name"], node["kind"], parent, position=position)
            if "key" in node:
                units[node["key"]] = unit
            if node.get("members"):
                plans.append((unit, node["members"], bool(node.get("retired"))))
            for i, child in enumerate(node.get("children", [])):
                build(child, unit, i)

        build(spec["tree"], None, 0)
        progress("units")
        names = _names(spec, rng)
        members: list[tuple[Member, float, date]] = []
        for account in spec["accounts"]:
            m = org.add_member(
                account["name"],
                units[account["unit"]],
                start - timedelta(days=365),
                login=account["login"],
                password=spec["demo_password"],
                is_admin=account.get("admin", False),
            )
            if account.get("leads"):
                db.session.add(LeaderRole(member_id=m.id, unit_id=units[account["leads"]].id))
            members.append((m, 0.9 if account["login"] == "leader" else 0.7, start))
        for unit, count, retired in plans:
            for _ in range(count):
                joined = start - timedelta(days=rng.randint(30, 3000))
                if rng.random() < 0.05:
                    joined = start + timedelta(days=rng.randint(7, HISTORY_DAYS - 7))
                left = None
                if rng.random() < 0.03:
                    left = start + timedelta(days=rng.randint(14, HISTORY_DAYS - 14))
                m = org.add_member(next(names), unit, joined, active_to=left, retired=retired)
                zeal = rng.betavariate(2.2, 1.6) * (0.75 if retired else 1.0)
                members.append((m, zeal, max(joined, start)))
        db.session.flush()
        progress("members")
        # One member moved between branches five weeks ago: history is kept on both sides.
        mover = members[-40][0]
        db.session.flush()
        reports = 0
        for member, zeal, first in members:
            if member.login == "member":
                zeal = 0.75
            reports += _history(member, zeal, first, today, versions, rng)
        progress("reports")
    org.move_member(mover, units["b2"], today - timedelta(days=35))
    rollups.rebuild_all()
    return {"units": len(units), "members": len(members), "reports": reports}


def _names(spec: dict, rng: random.Random):
    surnames, given = spec["surnames"], spec["given"]
    seen = {a["name"] for a in spec["accounts"]}
    while True:
        name = rng.choice(surnames) + rng.choice(given)
        if name not in seen:
            seen.add(name)
            yield name


def _history(
    member: Member,
    zeal: float,
    first: date,
    today: date,
    versions: list[RuleVersion],
    rng: random.Random,
) -> int:
    """Daily reports from ``first`` to yesterday within the member's active dates."""
    count = 0
    day = first
    week_used: dict[tuple[date, str], int] = {}
    last_cumulative = rng.randint(8000, 40000)
    while day < today:
        if not member.is_active_on(day) or rng.random() > zeal:
            day += timedelta(days=1)
            continue
        version = version_for(versions, day)
        assert version is not None
        items: dict[str, int] = {}
        for c in version.categories_on(day):
            if rng.random() > 0.35 + 0.6 * zeal:
                continue
            cap = c.day_cap
            if c.weekly_cap is not None:
                key = (period_of("week", day).start, c.code)
                cap = min(cap, c.weekly_cap - week_used.get(key, 0))
                if cap <= 0:
                    continue
            points = cap if rng.random() < 0.55 + 0.4 * zeal else rng.randint(0, cap)
            if points:
                items[c.code] = points
                if c.weekly_cap is not None:
                    key = (period_of("week", day).start, c.code)
                    week_used[key] = week_used.get(key, 0) + points
        total = sum(items.values())
        form = rng.choice(("items", "items", "items", "total", "cumulative"))
        last_cumulative += total
        report = DailyReport(
            member_id=member.id,
            day=day,
            form=form,
            total=total,
            cumulative=last_cumulative if form == "cumulative" else None,
            note="",
            updated_by=member.id,
        )
        if form == "items":
            report.items = [ReportItem(code=c, points=p) for c, p in sorted(items.items())]
        if "daily_quiz" in items:
            report.quizzes = [
                QuizResult(
                    member_id=member.id,
                    day=day,
                    kind="每日答题",
                    questions=5,
                    correct=items["daily_quiz"],
                    seconds=rng.randint(40, 300),
                )
            ]
        db.session.add(report)
        count += 1
        day += timedelta(days=1)
    return count
