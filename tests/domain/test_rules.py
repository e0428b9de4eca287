"""Scoring rules as dated data (SPEC §1 and the default rule set table)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.rules import (
    ALL_DAYS,
    Category,
    RuleVersion,
    version_for,
    weekdays_from_names,
)
from tracker.services.rules import parse_rules_file

SEED_RULES = Path(__file__).resolve().parents[2] / "seeds" / "rules.json"

MONDAY = date(2026, 11, 23)
TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = (
    MONDAY + timedelta(days=i) for i in range(1, 7)
)


def mask(*iso_weekdays: int) -> int:
    return sum(1 << (d - 1) for d in iso_weekdays)


# --- Category ---------------------------------------------------------------------------------


def test_category_on_all_days_counts_every_weekday():
    c = Category("login", "登录", 1)

    assert c.weekdays == ALL_DAYS
    assert all(c.counts_on(MONDAY + timedelta(days=i)) for i in range(7))
    assert c.weekdays_label() == "每天"


def test_category_limited_to_some_weekdays_counts_only_on_those():
    c = Category("challenge", "挑战答题", 10, weekdays=mask(2, 5, 7))

    counted = [d for d in (MONDAY + timedelta(days=i) for i in range(7)) if c.counts_on(d)]

    assert counted == [TUESDAY, FRIDAY, SUNDAY]
    assert c.weekdays_label() == "周二、周五、周日"


def test_day_cap_is_the_daily_cap_without_a_weekly_cap():
    assert Category("video", "视听学习", 12).day_cap == 12


def test_day_cap_is_the_smaller_of_daily_and_weekly_caps():
    assert Category("special_quiz", "专项答题", 10, weekly_cap=10).day_cap == 10
    assert Category("sport", "强国运动", 2, weekly_cap=2).day_cap == 2
    assert Category("odd", "示例", 8, weekly_cap=3).day_cap == 3
    assert Category("odd", "示例", 3, weekly_cap=8).day_cap == 3


# --- RuleVersion ------------------------------------------------------------------------------


def make_version() -> RuleVersion:
    return RuleVersion(
        valid_from=date(2023, 1, 1),
        categories=(
            Category("login", "登录", 1),
            Category("article", "我要选读文章", 12),
            Category("special_quiz", "专项答题", 10, weekly_cap=10, is_quiz=True),
            Category("sport", "强国运动", 2, weekly_cap=2),
            Category("challenge", "挑战答题", 10, weekdays=mask(2, 5, 7), is_quiz=True),
            Category("four_player", "争上游/四人赛", 10, weekdays=mask(1, 4), is_quiz=True),
        ),
    )


def test_category_lookup_by_code_finds_it_or_gives_none():
    v = make_version()

    assert v.category("sport") == Category("sport", "强国运动", 2, weekly_cap=2)
    assert v.category("share") is None


def test_categories_on_a_day_leave_out_those_not_counted_that_weekday():
    v = make_version()

    assert [c.code for c in v.categories_on(MONDAY)] == [
        "login",
        "article",
        "special_quiz",
        "sport",
        "four_player",
    ]
    assert [c.code for c in v.categories_on(WEDNESDAY)] == [
        "login",
        "article",
        "special_quiz",
        "sport",
    ]


def test_day_maximum_sums_the_caps_in_force_that_weekday_with_weekly_caps_included():
    v = make_version()

    # 1 + 12 + 10 + 2, plus the weekday-only quiz of that day.
    assert v.day_maximum(MONDAY) == 25 + 10
    assert v.day_maximum(TUESDAY) == 25 + 10
    assert v.day_maximum(WEDNESDAY) == 25
    assert v.day_maximum(SATURDAY) == 25


def test_day_maximum_uses_the_weekly_cap_when_it_is_below_the_daily_cap():
    v = RuleVersion(
        date(2023, 1, 1), (Category("a", "甲", 8, weekly_cap=3), Category("b", "乙", 4))
    )

    assert v.day_maximum(MONDAY) == 3 + 4


def test_a_version_without_categories_allows_nothing():
    assert RuleVersion(date(2023, 1, 1)).day_maximum(MONDAY) == 0


# --- version_for ------------------------------------------------------------------------------


V2021 = RuleVersion(date(2021, 1, 1), name="2021")
V2022 = RuleVersion(date(2022, 6, 1), name="2022")
V2023 = RuleVersion(date(2023, 1, 1), name="2023")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2021, 1, 1), "2021"),
        (date(2022, 5, 31), "2021"),
        (date(2022, 6, 1), "2022"),
        (date(2022, 12, 31), "2022"),
        (date(2023, 1, 1), "2023"),
        (date(2026, 11, 23), "2023"),
    ],
)
def test_version_in_force_is_the_latest_valid_from_not_after_the_day(day, expected):
    # Given out of order on purpose: the function must not rely on the caller's order.
    found = version_for([V2023, V2021, V2022], day)

    assert found is not None
    assert found.name == expected


def test_no_version_is_in_force_before_the_first_valid_from():
    assert version_for([V2021, V2022], date(2020, 12, 31)) is None
    assert version_for([], date(2026, 11, 23)) is None


@given(
    st.lists(st.dates(date(2000, 1, 1), date(2030, 12, 31)), min_size=1, max_size=8, unique=True),
    st.dates(date(1999, 1, 1), date(2031, 12, 31)),
)
def test_version_for_picks_the_greatest_valid_from_not_after_the_day(starts, day):
    versions = [RuleVersion(s, name=s.isoformat()) for s in starts]

    found = version_for(versions, day)

    eligible = [s for s in starts if s <= day]
    if not eligible:
        assert found is None
    else:
        assert found is not None
        assert found.valid_from == max(eligible)


# --- weekdays_from_names ----------------------------------------------------------------------


def test_all_means_every_day():
    assert weekdays_from_names("all") == ALL_DAYS == 0b1111111


def test_iso_weekday_numbers_map_to_bits_monday_first():
    assert weekdays_from_names([1, 4]) == 0b0001001
    assert weekdays_from_names([2, 5, 7]) == 0b1010010
    assert weekdays_from_names(["3", "6"]) == 0b0100100


def test_english_weekday_names_are_accepted_in_any_case_and_length():
    assert weekdays_from_names(["mon", "thu"]) == weekdays_from_names([1, 4])
    assert weekdays_from_names(["Tuesday", "FRI", "sun"]) == weekdays_from_names([2, 5, 7])


def test_repeated_weekdays_count_once():
    assert weekdays_from_names([1, "mon", "1"]) == 0b1


@pytest.mark.parametrize("bad", [[0], [8], ["0"], ["9"], [-1]])
def test_weekday_numbers_outside_one_to_seven_are_rejected_naming_the_value(bad):
    with pytest.raises(ValueError, match="out of range"):
        weekdays_from_names(bad)


def test_unknown_weekday_names_are_rejected():
    with pytest.raises(ValueError):
        weekdays_from_names(["funday"])


@given(st.sets(st.integers(1, 7)))
def test_weekday_mask_counts_exactly_the_named_days(iso_days):
    c = Category("x", "示例", 1, weekdays=weekdays_from_names(sorted(iso_days)))

    counted = {
        d.isoweekday() for d in (MONDAY + timedelta(days=i) for i in range(7)) if c.counts_on(d)
    }

    assert counted == iso_days


# --- the shipped default rule set (seeds/rules.json) ------------------------------------------


@pytest.fixture(scope="module")
def seed_versions() -> list[RuleVersion]:
    return parse_rules_file(SEED_RULES)


def test_seed_rule_file_has_the_three_dated_versions_of_the_spec(seed_versions):
    assert [v.valid_from for v in seed_versions] == [
        date(2021, 1, 1),
        date(2022, 6, 1),
        date(2023, 1, 1),
    ]


def test_seed_2021_version_has_all_fourteen_original_categories(seed_versions):
    v = version_for(seed_versions, date(2021, 3, 1))
    assert v is not None

    assert [c.code for c in v.categories] == [
        "login",
        "article",
        "video",
        "video_time",
        "daily_quiz",
        "weekly_quiz",
        "special_quiz",
        "challenge",
        "four_player",
        "two_player",
        "subscribe",
        "share",
        "comment",
        "local",
    ]
    assert v.category("weekly_quiz") == Category(
        "weekly_quiz", "每周答题", 5, weekly_cap=5, is_quiz=True
    )
    assert v.category("challenge").daily_cap == 6


def test_seed_mid_2022_version_drops_weekly_quiz_and_share_and_caps_challenge_at_5(seed_versions):
    v = version_for(seed_versions, date(2022, 12, 30))
    assert v is not None

    assert v.category("weekly_quiz") is None
    assert v.category("share") is None
    assert v.category("sport") is None
    assert v.category("challenge") == Category("challenge", "挑战答题", 5, is_quiz=True)
    assert v.category("video").daily_cap == 6
    assert v.category("video_time").daily_cap == 6


def test_seed_2023_version_merges_video_adds_sport_and_limits_quizzes_to_weekdays(seed_versions):
    v = version_for(seed_versions, date(2023, 1, 3))
    assert v is not None

    assert v.category("video_time") is None
    assert v.category("subscribe") is None
    assert v.category("video") == Category("video", "视听学习", 12)
    assert v.category("sport") == Category("sport", "强国运动", 2, weekly_cap=2)
    assert v.category("challenge") == Category(
        "challenge", "挑战答题", 10, weekdays=mask(2, 5, 7), is_quiz=True
    )
    assert v.category("four_player").weekdays == mask(1, 4)
    assert v.category("two_player").weekdays == mask(3, 6)
    assert v.category("challenge").weekdays_label() == "周二、周五、周日"


def test_seed_day_maximum_changes_with_the_rule_version_and_the_weekday(seed_versions):
    def maximum(d: date) -> int:
        v = version_for(seed_versions, d)
        assert v is not None
        return v.day_maximum(d)

    # 2021: 1+12+6+6+5+5+10+6+5+2+2+1+1+1
    assert maximum(date(2021, 3, 1)) == 63
    # 2022-06 on: weekly_quiz and share gone, challenge 5.
    assert maximum(date(2022, 12, 30)) == 56
    # 2023 on a Tuesday (challenge counts): 1+12+12+5+10+10+1+1+2
    assert maximum(date(2023, 1, 3)) == 54
    # 2023 on a Monday (four_player) and on a Wednesday (two_player): the same sum.
    assert maximum(date(2023, 1, 2)) == 54
    assert maximum(date(2023, 1, 4)) == 54


def test_seed_quiz_flags_mark_only_the_answering_categories(seed_versions):
    for v in seed_versions:
        quizzes = {c.code for c in v.categories if c.is_quiz}
        assert quizzes <= {
            "daily_quiz",
            "weekly_quiz",
            "special_quiz",
            "challenge",
            "four_player",
            "two_player",
        }
        assert "daily_quiz" in quizzes
        assert all(c.label for c in v.categories)
        assert len({c.code for c in v.categories}) == len(v.categories)
