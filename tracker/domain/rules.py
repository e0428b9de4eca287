"""Scoring rules as data: a version valid from a date, with capped categories."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

WEEKDAY_NAMES_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
ALL_DAYS = 0b1111111


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    daily_cap: int
    weekly_cap: int | None = None
    weekdays: int = ALL_DAYS  # bit 0 = Monday … bit 6 = Sunday
    is_quiz: bool = False

    def counts_on(self, day: date) -> bool:
        return bool(self.weekdays >> day.weekday() & 1)

    @property
    def day_cap(self) -> int:
        """The most this category can add on one day it counts."""
        return (
            min(self.daily_cap, self.weekly_cap) if self.weekly_cap is not None else self.daily_cap
        )

    def weekdays_label(self) -> str:
        if self.weekdays == ALL_DAYS:
            return "每天"
        return "、".join(n for i, n in enumerate(WEEKDAY_NAMES_ZH) if self.weekdays >> i & 1)


@dataclass(frozen=True)
class RuleVersion:
    valid_from: date
    categories: tuple[Category, ...] = field(default_factory=tuple)
    name: str = ""
    id: int | None = None

    def category(self, code: str) -> Category | None:
        for c in self.categories:
            if c.code == code:
                return c
        return None

    def categories_on(self, day: date) -> list[Category]:
        return [c for c in self.categories if c.counts_on(day)]

    def day_maximum(self, day: date) -> int:
        """The most a day can score: the caps in force that weekday, weekly caps included."""
        return self._maxima[day.weekday()]

    @cached_property
    def _maxima(self) -> tuple[int, ...]:
        """``day_maximum`` for each weekday, Monday first (an import asks once a row)."""
        return tuple(
            sum(c.day_cap for c in self.categories if c.weekdays >> weekday & 1)
            for weekday in range(7)
        )


def version_for(versions: Sequence[RuleVersion], day: date) -> RuleVersion | None:
    """The version in force on ``day``: the latest whose ``valid_from`` is not after it."""
    current = None
    for v in versions:
        if v.valid_from <= day and (current is None or v.valid_from >= current.valid_from):
            current = v
    return current


def weekdays_from_names(names: Iterable[str] | str) -> int:
    """``"all"``, ``[1, 4]`` (ISO weekday numbers) or ``["mon", "thu"]`` → bitmask."""
    if names == "all":
        return ALL_DAYS
    short = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    mask = 0
    for n in names:
        if isinstance(n, int) or str(n).isdigit():
            index = int(n) - 1
        else:
            index = short.index(str(n).lower()[:3])
        if not 0 <= index <= 6:
            raise ValueError(f"weekday {n!r} out of range")
        mask |= 1 << index
    return mask
