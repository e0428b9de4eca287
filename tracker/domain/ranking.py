"""Ranking definitions (SPEC §2): shared ranks, unit metrics, rank change.

One ranking function serves members and units: order by value (highest first), then by a
deterministic tie-break; equal values share a rank (1, 1, 3).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeVar

METRICS = ("avg", "participation", "activity", "total")
METRIC_LABELS_ZH = {
    "avg": "人均积分",
    "participation": "参与率",
    "activity": "活跃度",
    "total": "总积分",
}

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Ranked:
    key: Hashable
    value: Fraction | int | None
    rank: int | None


def shared_ranks(
    items: Iterable[tuple[K, Fraction | int | None]], tie_break: Callable[[K], object] = lambda k: k
) -> list[Ranked]:
    """Rank ``(key, value)`` pairs; ``None`` values are listed last without a rank."""
    items = list(items)
    valued = [(k, v) for k, v in items if v is not None]
    unvalued = [(k, v) for k, v in items if v is None]
    valued.sort(key=lambda kv: (-kv[1], tie_break(kv[0])))
    unvalued.sort(key=lambda kv: tie_break(kv[0]))
    out: list[Ranked] = []
    previous = None
    rank = 0
    for position, (key, value) in enumerate(valued, start=1):
        if value != previous:
            rank, previous = position, value
        out.append(Ranked(key, value, rank))
    out.extend(Ranked(key, None, None) for key, _ in unvalued)
    return out


def rank_change(previous_rank: int | None, rank: int | None) -> int | None:
    """Positive means up; None when either period has no rank."""
    if previous_rank is None or rank is None:
        return None
    return previous_rank - rank


@dataclass(frozen=True)
class UnitStats:
    unit_id: int
    roster: int  # members active and belonging to the subtree on at least one day
    points: int  # the subtree's points in the period
    participants: int  # roster members with at least one reported day in the subtree
    reported_days: int  # reported member-days in the subtree
    active_days: int  # active member-days in the subtree elapsed so far in the period


def metric_value(stats: UnitStats, metric: str) -> Fraction | int | None:
    """The unit's value for a metric, exact; None for an empty roster (listed last, unranked)."""
    if stats.roster == 0:
        return None
    if metric == "avg":
        return Fraction(stats.points, stats.roster)
    if metric == "participation":
        return Fraction(stats.participants, stats.roster)
    if metric == "activity":
        return (
            Fraction(stats.reported_days, stats.active_days) if stats.active_days else Fraction(0)
        )
    if metric == "total":
        return stats.points
    raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")


def as_number(value: Fraction | int | None, places: int = 4) -> float | int | None:
    if value is None or isinstance(value, int):
        return value
    return round(float(value), places)
