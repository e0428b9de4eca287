"""Fair-play signals, computed from plain data: runs of maximum days, spikes, bursts.

Flags are soft: they ask a leader to have a look, they never block or change a report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

LABELS_ZH = {
    "evidence_reused": "截图重复使用",
    "max_streak": "连续多日满分",
    "spike": "积分突增",
    "backfill": "补报",
    "edit_after_unlock": "解锁后修改",
    "token_burst": "令牌集中提交",
}
KINDS = tuple(LABELS_ZH)


@dataclass(frozen=True)
class Thresholds:
    max_streak_days: int = 7  # the day's maximum on this many consecutive days
    spike_history_days: int = 28  # the member's own history looked at
    spike_min_history: int = 7  # reported days needed before a spike means anything
    spike_factor: float = 3.0  # at least this many times the usual day …
    spike_min_jump: int = 20  # … and at least this many points above it
    backfill_days: int = 2  # a day first reported more than this many days later
    burst_count: int = 20  # reports written with one token …
    burst_minutes: int = 10  # … within this many minutes


DEFAULT = Thresholds()


@dataclass(frozen=True)
class Run:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def max_runs(days: Mapping[date, tuple[int, int]], minimum: int) -> list[Run]:
    """Runs of consecutive days on which the total reached the day's maximum (total, maximum)."""
    at_max = sorted(d for d, (total, top) in days.items() if top > 0 and total >= top)
    runs: list[Run] = []
    for d in at_max:
        if runs and runs[-1].end == d - timedelta(days=1):
            runs[-1] = Run(runs[-1].start, d)
        else:
            runs.append(Run(d, d))
    return [r for r in runs if r.days >= minimum]


def run_through(days: Mapping[date, tuple[int, int]], day: date, minimum: int) -> Run | None:
    """The run of maximum days that contains ``day``, when it is long enough."""
    return next((r for r in max_runs(days, minimum) if r.start <= day <= r.end), None)


def usual_day(history: Iterable[int]) -> tuple[int, float]:
    """How many reported days (total above zero) there are, and their mean."""
    reported = [t for t in history if t > 0]
    return len(reported), (sum(reported) / len(reported) if reported else 0.0)


def is_spike(total: int, history: Iterable[int], th: Thresholds = DEFAULT) -> float | None:
    """The usual day's points when ``total`` is a spike against them, else None."""
    count, mean = usual_day(history)
    if count < th.spike_min_history:
        return None
    if total >= th.spike_factor * mean and total - mean >= th.spike_min_jump:
        return mean
    return None


def bursts(times: Sequence[datetime], th: Thresholds = DEFAULT) -> list[tuple[datetime, int]]:
    """Sliding windows of ``burst_minutes`` holding at least ``burst_count`` writes.

    Returns (first write of the window, writes in it), one per maximal cluster.
    """
    ordered = sorted(times)
    window = timedelta(minutes=th.burst_minutes)
    out: list[tuple[datetime, int]] = []
    left = 0
    cluster_end: datetime | None = None
    for right, moment in enumerate(ordered):
        while moment - ordered[left] > window:
            left += 1
        count = right - left + 1
        if count >= th.burst_count:
            if cluster_end is not None and ordered[left] <= cluster_end:
                start, best = out[-1]
                out[-1] = (start, max(best, count))
            else:
                out.append((ordered[left], count))
            cluster_end = moment
    return out
