"""Periods (SPEC §1): day, ISO week, month, quarter and year as closed date ranges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.periods import (
    KINDS,
    LABELS_ZH,
    Period,
    overlap_days,
    parse_period_key,
    period_of,
    periods_containing,
    today_in,
)

# Years below 1000 have keys that are not four digits, and date.max has no next week: the
# tracker never sees either, so the properties range over four-digit years with room to spare.
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
kinds = st.sampled_from(KINDS)


# --- period_of -------------------------------------------------------------------------------


def test_day_period_is_the_day_itself():
    p = period_of("day", date(2026, 11, 23))

    assert p == Period("day", date(2026, 11, 23), date(2026, 11, 23))
    assert p.days == 1
    assert p.key == "2026-11-23"


def test_week_runs_monday_to_sunday_whatever_the_weekday():
    monday, sunday = date(2026, 11, 23), date(2026, 11, 29)
    for offset in range(7):
        p = period_of("week", monday + timedelta(days=offset))
        assert (p.start, p.end) == (monday, sunday)
    assert p.key == "2026-W48"
    assert p.days == 7


def test_week_across_new_year_belongs_to_the_iso_year_of_its_monday():
    # 2026-01-01 is a Thursday: its week starts on 2025-12-29 and is ISO week 1 of 2026.
    p = period_of("week", date(2025, 12, 31))
    assert (p.start, p.end) == (date(2025, 12, 29), date(2026, 1, 4))
    assert p.key == "2026-W01"

    # 2021-01-01 is a Friday: it still belongs to week 53 of 2020.
    p = period_of("week", date(2021, 1, 3))
    assert (p.start, p.end) == (date(2020, 12, 28), date(2021, 1, 3))
    assert p.key == "2020-W53"


@pytest.mark.parametrize(
    ("day", "start", "end", "key"),
    [
        (date(2026, 1, 15), date(2026, 1, 1), date(2026, 1, 31), "2026-01"),
        (date(2026, 2, 28), date(2026, 2, 1), date(2026, 2, 28), "2026-02"),
        (date(2024, 2, 10), date(2024, 2, 1), date(2024, 2, 29), "2024-02"),
        (date(2026, 4, 30), date(2026, 4, 1), date(2026, 4, 30), "2026-04"),
        (date(2026, 12, 1), date(2026, 12, 1), date(2026, 12, 31), "2026-12"),
    ],
)
def test_month_runs_from_the_first_to_the_last_day_including_leap_february(day, start, end, key):
    p = period_of("month", day)

    assert (p.kind, p.start, p.end, p.key) == ("month", start, end, key)


@pytest.mark.parametrize(
    ("day", "start", "end", "key"),
    [
        (date(2026, 1, 1), date(2026, 1, 1), date(2026, 3, 31), "2026-Q1"),
        (date(2026, 5, 20), date(2026, 4, 1), date(2026, 6, 30), "2026-Q2"),
        (date(2026, 9, 30), date(2026, 7, 1), date(2026, 9, 30), "2026-Q3"),
        (date(2026, 11, 23), date(2026, 10, 1), date(2026, 12, 31), "2026-Q4"),
    ],
)
def test_quarter_is_three_calendar_months(day, start, end, key):
    p = period_of("quarter", day)

    assert (p.kind, p.start, p.end, p.key) == ("quarter", start, end, key)


def test_year_is_the_calendar_year_and_leap_years_have_366_days():
    assert period_of("year", date(2026, 7, 1)) == Period(
        "year", date(2026, 1, 1), date(2026, 12, 31)
    )
    assert period_of("year", date(2026, 7, 1)).key == "2026"
    assert period_of("year", date(2024, 7, 1)).days == 366
    assert period_of("year", date(2026, 7, 1)).days == 365


def test_unknown_period_kind_is_rejected_naming_the_kind_and_the_choices():
    with pytest.raises(ValueError, match="fortnight") as info:
        period_of("fortnight", date(2026, 11, 23))

    for kind in KINDS:
        assert kind in str(info.value)


def test_every_kind_has_a_chinese_label():
    assert set(LABELS_ZH) == set(KINDS)
    assert LABELS_ZH["week"] == "周"


def test_periods_containing_gives_one_period_of_each_kind():
    d = date(2026, 11, 23)
    ps = periods_containing(d)

    assert [p.kind for p in ps] == list(KINDS)
    assert all(p.contains(d) for p in ps)


# --- navigation -------------------------------------------------------------------------------


def test_previous_and_next_cross_year_boundaries():
    assert period_of("month", date(2026, 1, 5)).previous() == period_of("month", date(2025, 12, 1))
    assert period_of("quarter", date(2026, 12, 5)).next() == period_of("quarter", date(2027, 1, 1))
    assert period_of("week", date(2026, 1, 1)).previous().key == "2025-W52"
    assert period_of("day", date(2026, 3, 1)).previous().key == "2026-02-28"


def test_contains_includes_both_ends_and_nothing_outside():
    p = period_of("month", date(2026, 2, 14))

    assert p.contains(date(2026, 2, 1))
    assert p.contains(date(2026, 2, 28))
    assert not p.contains(date(2026, 1, 31))
    assert not p.contains(date(2026, 3, 1))


def test_elapsed_end_is_none_before_the_period_today_inside_and_the_end_after():
    p = period_of("week", date(2026, 11, 23))

    assert p.elapsed_end(date(2026, 11, 22)) is None
    assert p.elapsed_end(date(2026, 11, 23)) == date(2026, 11, 23)
    assert p.elapsed_end(date(2026, 11, 26)) == date(2026, 11, 26)
    assert p.elapsed_end(date(2026, 11, 29)) == date(2026, 11, 29)
    assert p.elapsed_end(date(2027, 1, 1)) == date(2026, 11, 29)


# --- parse_period_key -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "kind", "start", "end"),
    [
        ("2026-11-23", "day", date(2026, 11, 23), date(2026, 11, 23)),
        ("2026-W48", "week", date(2026, 11, 23), date(2026, 11, 29)),
        ("2020-W53", "week", date(2020, 12, 28), date(2021, 1, 3)),
        ("2026-11", "month", date(2026, 11, 1), date(2026, 11, 30)),
        ("2026-Q4", "quarter", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026", "year", date(2026, 1, 1), date(2026, 12, 31)),
        ("  2026-Q1 ", "quarter", date(2026, 1, 1), date(2026, 3, 31)),
    ],
)
def test_period_keys_parse_to_their_period(key, kind, start, end):
    assert parse_period_key(key) == Period(kind, start, end)


@pytest.mark.parametrize(
    "key", ["2026-W54", "2026-W00", "2025-W53", "2026-Q5", "2026-13", "2026-00", "last week", ""]
)
def test_impossible_or_malformed_period_keys_raise_value_error(key):
    with pytest.raises(ValueError):
        parse_period_key(key)


# --- today_in ---------------------------------------------------------------------------------


def test_today_is_the_date_in_the_organisation_time_zone_not_utc():
    # 16:30 UTC on the 22nd is half past midnight on the 23rd in Shanghai.
    late_utc = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)

    assert today_in("Asia/Shanghai", late_utc) == date(2026, 11, 23)
    assert today_in("UTC", late_utc) == date(2026, 11, 22)
    assert today_in("America/New_York", late_utc) == date(2026, 11, 22)


def test_today_converts_a_moment_given_in_another_zone():
    moment = datetime(2026, 11, 23, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

    assert today_in("Europe/London", moment) == date(2026, 11, 22)
    assert today_in("Asia/Shanghai", moment) == date(2026, 11, 23)


def test_today_without_a_moment_uses_the_current_time_in_the_zone():
    before = datetime.now(tz=ZoneInfo("Asia/Shanghai")).date()
    result = today_in("Asia/Shanghai")
    after = datetime.now(tz=ZoneInfo("Asia/Shanghai")).date()

    assert before <= result <= after


# --- overlap_days -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((date(2026, 11, 1), date(2026, 11, 30)), (date(2026, 11, 23), date(2026, 11, 29)), 7),
        ((date(2026, 11, 1), date(2026, 11, 30)), (date(2026, 11, 30), date(2026, 12, 5)), 1),
        ((date(2026, 11, 1), date(2026, 11, 10)), (date(2026, 11, 11), date(2026, 11, 20)), 0),
        ((date(2026, 11, 20), date(2026, 11, 25)), (date(2026, 11, 1), date(2026, 11, 10)), 0),
        ((date(2026, 11, 5), date(2026, 11, 5)), (date(2026, 11, 5), date(2026, 11, 5)), 1),
    ],
)
def test_overlap_counts_shared_days_inclusively_and_never_negative(a, b, expected):
    assert overlap_days(*a, *b) == expected
    assert overlap_days(*b, *a) == expected


# --- properties -------------------------------------------------------------------------------


@given(kinds, days)
def test_the_period_of_a_day_contains_that_day(kind, d):
    p = period_of(kind, d)

    assert p.kind == kind
    assert p.contains(d)
    assert p.start <= p.end
    assert p.days == (p.end - p.start).days + 1


@given(kinds, days)
def test_consecutive_periods_tile_the_calendar_without_gaps(kind, d):
    p = period_of(kind, d)

    assert p.next().start == p.end + timedelta(days=1)
    assert p.previous().end == p.start - timedelta(days=1)
    assert p.next().previous() == p
    assert p.previous().next() == p


@given(kinds, days)
def test_every_day_of_a_period_maps_back_to_the_same_period(kind, d):
    p = period_of(kind, d)

    assert period_of(kind, p.start) == p
    assert period_of(kind, p.end) == p


@given(kinds, days)
def test_a_period_key_parses_back_to_the_same_period(kind, d):
    p = period_of(kind, d)

    assert parse_period_key(p.key) == p


@given(days)
def test_periods_nest_day_in_week_and_month_in_quarter_in_year(d):
    day, week, month, quarter, year = periods_containing(d)

    assert week.start <= day.start and day.end <= week.end
    assert quarter.start <= month.start and month.end <= quarter.end
    assert year.start <= quarter.start and quarter.end <= year.end
    assert week.start.weekday() == 0 and week.days == 7
    assert 28 <= month.days <= 31
    assert 90 <= quarter.days <= 92


@given(days, st.integers(0, 60), st.integers(-70, 70), st.integers(0, 60))
def test_overlap_equals_a_day_by_day_count_of_the_days_in_both_ranges(a_start, a_len, shift, b_len):
    a_end = a_start + timedelta(days=a_len)
    b_start = a_start + timedelta(days=shift)
    b_end = b_start + timedelta(days=b_len)
    a_days = {a_start + timedelta(days=i) for i in range(a_len + 1)}
    b_days = {b_start + timedelta(days=i) for i in range(b_len + 1)}

    assert overlap_days(a_start, a_end, b_start, b_end) == len(a_days & b_days)
