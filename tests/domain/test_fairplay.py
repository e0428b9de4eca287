from datetime import UTC, date, datetime, timedelta

from tracker.domain import fairplay
from tracker.domain.fairplay import Run, Thresholds

D = date(2026, 11, 1)


def _days(totals, top=40):
    return {D + timedelta(days=i): (t, top) for i, t in enumerate(totals)}


def test_runs_of_maximum_days_need_the_minimum_length():
    days = _days([40] * 7 + [39] + [40] * 6)
    assert fairplay.max_runs(days, 7) == [Run(D, D + timedelta(days=6))]
    assert fairplay.run_through(days, D + timedelta(days=3), 7) == Run(D, D + timedelta(days=6))
    assert fairplay.run_through(days, D + timedelta(days=10), 7) is None
    assert fairplay.max_runs(_days([40] * 10, top=0), 7) == []


def test_a_spike_is_against_the_members_own_usual_day():
    assert fairplay.is_spike(45, [8] * 10) == 8
    assert fairplay.is_spike(45, [30] * 10) is None  # a keen member's ordinary day
    assert fairplay.is_spike(45, [8] * 3) is None  # too little history to judge
    assert fairplay.is_spike(20, [5] * 10) is None  # four times, but only 15 points more


def test_bursts_are_counted_once_per_cluster():
    t0 = datetime(2026, 11, 23, 8, tzinfo=UTC)
    th = Thresholds(burst_count=5, burst_minutes=10)
    steady = [t0 + timedelta(minutes=3 * i) for i in range(20)]
    assert fairplay.bursts(steady, th) == []
    burst = [t0 + timedelta(seconds=10 * i) for i in range(12)]
    assert fairplay.bursts(burst, th) == [(t0, 12)]
    later = [t0 + timedelta(hours=2, seconds=i) for i in range(6)]
    assert len(fairplay.bursts(burst + later, th)) == 2
