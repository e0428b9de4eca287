"""Validation of a daily report against the rules in force on its date (SPEC §1)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tracker.domain.rules import Category, RuleVersion, version_for, weekdays_from_names
from tracker.domain.validation import (
    MAX_NOTE,
    MAX_QUIZ_KIND,
    Quiz,
    ReportContext,
    ReportInput,
    ValidationError,
    ValidReport,
    parse_int,
    validate_report,
)
from tracker.services.rules import parse_rules_file

SEED_RULES = Path(__file__).resolve().parents[2] / "seeds" / "rules.json"

MONDAY = date(2026, 11, 23)
TUESDAY = date(2026, 11, 24)
TODAY = TUESDAY

RULES = RuleVersion(
    valid_from=date(2023, 1, 1),
    name="测试规则",
    categories=(
        Category("login", "登录", 1),
        Category("article", "我要选读文章", 12),
        Category("video", "视听学习", 12),
        Category("special_quiz", "专项答题", 10, weekly_cap=10, is_quiz=True),
        Category(
            "challenge", "挑战答题", 10, weekdays=weekdays_from_names([2, 5, 7]), is_quiz=True
        ),
        Category("sport", "强国运动", 2, weekly_cap=2),
    ),
)
TUESDAY_MAX = 1 + 12 + 12 + 10 + 10 + 2
MONDAY_MAX = TUESDAY_MAX - 10


def context(day: date = TODAY, **overrides: Any) -> ReportContext:
    values: dict[str, Any] = {
        "day": day,
        "today": TODAY,
        "rules": RULES,
        "backfill_days": 1,
        "locked": False,
        "active": True,
    }
    values.update(overrides)
    return ReportContext(**values)


def rejected(data: ReportInput, ctx: ReportContext | None = None, **kw: Any) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        validate_report(data, ctx or context(), **kw)
    assert info.value.errors, "a ValidationError must say what is wrong"
    return info.value.errors


# --- the date ---------------------------------------------------------------------------------


def test_report_for_today_is_accepted():
    report = validate_report(ReportInput(items={"login": 1}), context(TODAY))

    assert report == ValidReport(
        form="items", total=1, items={"login": 1}, cumulative=None, note="", quizzes=[]
    )


def test_report_for_a_future_date_is_rejected_naming_the_date():
    errors = rejected(ReportInput(items={"login": 1}), context(TODAY + timedelta(days=1)))

    assert list(errors) == ["date"]
    assert "2026-11-25" in errors["date"]
    assert "未来" in errors["date"]


def test_members_may_back_fill_yesterday_but_not_the_day_before():
    yesterday = validate_report(ReportInput(total=3), context(TODAY - timedelta(days=1)))
    assert yesterday.total == 3

    errors = rejected(ReportInput(total=3), context(TODAY - timedelta(days=2)))

    assert list(errors) == ["date"]
    assert "2026-11-23" in errors["date"], "the message names the earliest date allowed"


def test_a_wider_back_fill_window_lets_leaders_go_further_back():
    day = TODAY - timedelta(days=30)

    assert validate_report(ReportInput(total=3), context(day, backfill_days=30)).total == 3
    assert "date" in rejected(ReportInput(total=3), context(day, backfill_days=29))


def test_a_zero_back_fill_window_allows_today_only():
    assert validate_report(ReportInput(total=1), context(TODAY, backfill_days=0)).total == 1
    assert "date" in rejected(ReportInput(total=1), context(MONDAY, backfill_days=0))


def test_report_in_a_locked_period_is_rejected_naming_the_date():
    errors = rejected(ReportInput(total=1), context(locked=True))

    assert list(errors) == ["date"]
    assert "2026-11-24" in errors["date"]
    assert "锁定" in errors["date"]


def test_report_for_a_day_the_member_was_not_active_is_rejected():
    errors = rejected(ReportInput(total=1), context(active=False))

    assert list(errors) == ["date"]
    assert "2026-11-24" in errors["date"]
    assert "在册" in errors["date"]


def test_report_on_a_day_with_no_rules_in_force_is_rejected():
    errors = rejected(ReportInput(total=1), context(rules=None))

    assert list(errors) == ["date"]
    assert "2026-11-24" in errors["date"]
    assert "没有生效的积分规则" in errors["date"]


def test_a_date_error_is_reported_alone_before_any_check_of_the_points():
    errors = rejected(
        ReportInput(items={"login": -1, "nope": 1}, note="x" * (MAX_NOTE + 1)),
        context(TODAY + timedelta(days=3), locked=True, active=False, rules=None),
    )

    assert list(errors) == ["date"]
    assert "未来" in errors["date"], "a future date is the first thing said"


# --- the detailed form: points per category ---------------------------------------------------


def test_points_per_category_give_the_day_total_and_zeros_are_dropped():
    report = validate_report(
        ReportInput(items={"login": 1, "article": 12, "video": 0, "challenge": 7}), context()
    )

    assert report.form == "items"
    assert report.total == 20
    assert report.items == {"login": 1, "article": 12, "challenge": 7}
    assert report.cumulative is None


def test_a_typed_total_that_agrees_with_the_items_is_accepted():
    report = validate_report(ReportInput(items={"login": 1, "article": 6}, total=7), context())

    assert (report.form, report.total) == ("items", 7)


def test_a_typed_total_that_disagrees_with_the_items_is_an_error_naming_both_numbers():
    errors = rejected(ReportInput(items={"login": 1, "article": 6}, total=9))

    assert list(errors) == ["total"]
    assert "9" in errors["total"] and "7" in errors["total"]


def test_all_zero_items_with_a_nonzero_typed_total_disagree():
    errors = rejected(ReportInput(items={"login": 0}, total=5))

    assert list(errors) == ["total"]
    assert "5" in errors["total"] and "0" in errors["total"]


def test_a_report_with_nothing_in_it_is_rejected():
    errors = rejected(ReportInput())

    assert list(errors) == ["items"]
    assert "分项积分" in errors["items"] and "今日积分" in errors["items"]


def test_blank_form_fields_count_as_nothing_given():
    errors = rejected(
        ReportInput(items={"login": "", "article": " "}, total="", cumulative=" "), from_form=True
    )

    assert list(errors) == ["items"]


@pytest.mark.parametrize("items", [[1, 2], "login=1", 5])
def test_items_that_are_not_a_mapping_are_rejected(items):
    errors = rejected(ReportInput(items=items))  # type: ignore[arg-type]

    assert list(errors) == ["items"]
    assert "对象" in errors["items"]


def test_a_category_not_in_the_rules_of_that_date_is_rejected_naming_code_and_date():
    errors = rejected(ReportInput(items={"login": 1, "share": 1}))

    assert list(errors) == ["items.share"]
    assert "share" in errors["items.share"]
    assert "2026-11-24" in errors["items.share"]


@pytest.mark.parametrize("value", [2.5, 5.0, "5", True, None, [1], {"n": 1}])
def test_non_integer_points_are_rejected_with_the_category_label(value):
    errors = rejected(ReportInput(items={"article": value, "login": 1}))

    assert list(errors) == ["items.article"]
    assert "我要选读文章" in errors["items.article"]
    assert "整数" in errors["items.article"]


def test_points_typed_as_text_are_accepted_from_html_forms():
    report = validate_report(
        ReportInput(items={"login": " 1 ", "article": "12", "video": ""}, total="13"),
        context(),
        from_form=True,
    )

    assert report.items == {"login": 1, "article": 12}
    assert report.total == 13


@pytest.mark.parametrize("value", ["abc", "1.5", "1e3", "+3", "一"])
def test_text_that_is_not_an_integer_is_rejected_even_from_forms(value):
    errors = rejected(ReportInput(items={"article": value}), from_form=True)

    assert list(errors) == ["items.article"]
    assert "我要选读文章" in errors["items.article"]


def test_negative_points_are_rejected_with_the_category_label():
    errors = rejected(ReportInput(items={"article": -3, "login": 1}))

    assert list(errors) == ["items.article"]
    assert "我要选读文章" in errors["items.article"]
    assert "负数" in errors["items.article"]


def test_negative_points_typed_as_text_in_a_form_are_rejected_as_negative():
    errors = rejected(ReportInput(items={"article": "-3"}), from_form=True)

    assert "负数" in errors["items.article"]


def test_category_over_its_cap_is_rejected_with_the_category_label_value_and_cap():
    errors = rejected(ReportInput(items={"article": 13, "login": 1}))

    assert list(errors) == ["items.article"]
    message = errors["items.article"]
    assert "我要选读文章" in message
    assert "13" in message
    assert "12" in message


def test_category_exactly_at_its_cap_is_accepted():
    report = validate_report(ReportInput(items={"article": 12, "video": 12}), context())

    assert report.total == 24


def test_category_on_a_weekday_it_does_not_count_is_rejected_naming_its_weekdays():
    errors = rejected(ReportInput(items={"challenge": 5}), context(MONDAY))

    assert list(errors) == ["items.challenge"]
    assert "挑战答题" in errors["items.challenge"]
    assert "周二、周五、周日" in errors["items.challenge"]


def test_zero_points_for_a_category_on_a_day_it_does_not_count_are_harmless():
    report = validate_report(ReportInput(items={"challenge": 0, "login": 1}), context(MONDAY))

    assert report.items == {"login": 1}


def test_weekly_cap_counts_points_already_reported_on_other_days_of_the_week():
    ctx = context(week_items={"special_quiz": 6})

    assert validate_report(ReportInput(items={"special_quiz": 4}), ctx).total == 4

    errors = rejected(ReportInput(items={"special_quiz": 5}), ctx)
    assert list(errors) == ["items.special_quiz"]
    message = errors["items.special_quiz"]
    assert "专项答题" in message
    assert "6" in message and "5" in message and "10" in message


def test_weekly_cap_already_used_up_rejects_any_further_point():
    errors = rejected(ReportInput(items={"sport": 1}), context(week_items={"sport": 2}))

    assert "强国运动" in errors["items.sport"]
    assert "每周上限" in errors["items.sport"]


def test_other_categories_reported_this_week_do_not_use_up_a_weekly_cap():
    report = validate_report(
        ReportInput(items={"sport": 2}), context(week_items={"login": 7, "special_quiz": 10})
    )

    assert report.total == 2


def test_every_bad_category_is_reported_at_once():
    errors = rejected(ReportInput(items={"login": 2, "article": -1, "video": "x", "nope": 1}))

    assert set(errors) == {"items.login", "items.article", "items.video", "items.nope"}


# --- the quick form: the day's total ----------------------------------------------------------


def test_a_typed_day_total_alone_is_the_day_total():
    report = validate_report(ReportInput(total=30), context())

    assert report == ValidReport(
        form="total", total=30, items={}, cumulative=None, note="", quizzes=[]
    )


def test_a_zero_day_total_is_accepted():
    assert validate_report(ReportInput(total=0), context()).total == 0


def test_a_day_total_at_the_day_maximum_is_accepted_and_one_above_is_rejected():
    assert validate_report(ReportInput(total=TUESDAY_MAX), context(TUESDAY)).total == TUESDAY_MAX

    errors = rejected(ReportInput(total=TUESDAY_MAX + 1), context(TUESDAY))
    assert list(errors) == ["total"]
    assert str(TUESDAY_MAX + 1) in errors["total"]
    assert str(TUESDAY_MAX) in errors["total"]


def test_the_day_maximum_follows_the_weekday():
    # The challenge quiz does not count on Mondays, so Monday's maximum is lower.
    assert validate_report(ReportInput(total=MONDAY_MAX), context(MONDAY)).total == MONDAY_MAX

    errors = rejected(ReportInput(total=MONDAY_MAX + 1), context(MONDAY))
    assert str(MONDAY_MAX) in errors["total"]


@pytest.mark.parametrize("value", [2.5, "30", True, [30]])
def test_a_day_total_that_is_not_an_integer_is_rejected(value):
    errors = rejected(ReportInput(total=value))

    assert list(errors) == ["total"]
    assert "今日积分" in errors["total"] and "整数" in errors["total"]


def test_a_negative_day_total_is_rejected():
    errors = rejected(ReportInput(total=-1))

    assert list(errors) == ["total"]
    assert "今日积分" in errors["total"] and "负数" in errors["total"]


def test_a_day_total_typed_as_text_is_accepted_from_a_form():
    assert validate_report(ReportInput(total=" 25 "), context(), from_form=True).total == 25


# --- the cumulative form (总积分) -------------------------------------------------------------


def test_cumulative_total_gives_the_difference_to_the_last_one_reported():
    report = validate_report(ReportInput(cumulative=10_030), context(previous_cumulative=10_000))

    assert report.form == "cumulative"
    assert report.total == 30
    assert report.cumulative == 10_030
    assert report.items == {}


def test_cumulative_total_equal_to_the_last_one_means_no_points_that_day():
    report = validate_report(ReportInput(cumulative=500), context(previous_cumulative=500))

    assert report.total == 0


def test_cumulative_total_below_the_last_one_reported_is_rejected_naming_both():
    errors = rejected(ReportInput(cumulative=9_990), context(previous_cumulative=10_000))

    assert list(errors) == ["cumulative"]
    assert "9990" in errors["cumulative"] and "10000" in errors["cumulative"]


def test_cumulative_total_above_a_later_days_total_is_rejected_naming_both():
    errors = rejected(
        ReportInput(cumulative=10_050),
        context(previous_cumulative=10_000, next_cumulative=10_040),
    )

    assert list(errors) == ["cumulative"]
    assert "10050" in errors["cumulative"] and "10040" in errors["cumulative"]


def test_cumulative_total_up_to_a_later_days_total_is_accepted():
    report = validate_report(
        ReportInput(cumulative=10_040), context(previous_cumulative=10_000, next_cumulative=10_040)
    )

    assert report.total == 40


def test_a_typed_total_that_agrees_with_the_cumulative_difference_is_accepted():
    report = validate_report(
        ReportInput(cumulative=10_030, total=30), context(previous_cumulative=10_000)
    )

    assert (report.form, report.total) == ("cumulative", 30)


def test_a_typed_total_that_disagrees_with_the_cumulative_difference_is_an_error():
    errors = rejected(ReportInput(cumulative=10_030, total=25), context(previous_cumulative=10_000))

    assert list(errors) == ["total"]
    message = errors["total"]
    assert "25" in message and "30" in message
    assert "10030" in message and "10000" in message


def test_first_cumulative_total_needs_the_days_points_typed_beside_it():
    errors = rejected(ReportInput(cumulative=10_030), context(previous_cumulative=None))

    assert list(errors) == ["total"]
    assert "第一次" in errors["total"] and "今日积分" in errors["total"]


def test_first_cumulative_total_with_the_days_points_typed_is_accepted():
    report = validate_report(ReportInput(cumulative=10_030, total=28), context())

    assert report == ValidReport(
        form="cumulative", total=28, items={}, cumulative=10_030, note="", quizzes=[]
    )


def test_first_cumulative_total_smaller_than_the_days_points_is_rejected():
    errors = rejected(ReportInput(cumulative=20, total=25))

    assert list(errors) == ["total"]
    assert "25" in errors["total"] and "20" in errors["total"]


def test_first_cumulative_total_still_respects_a_later_days_total():
    errors = rejected(ReportInput(cumulative=10_050, total=20), context(next_cumulative=10_040))

    assert "cumulative" in errors
    assert "10040" in errors["cumulative"]


def test_a_cumulative_difference_above_the_day_maximum_is_rejected_on_the_cumulative_field():
    errors = rejected(
        ReportInput(cumulative=10_000 + TUESDAY_MAX + 1), context(previous_cumulative=10_000)
    )

    assert list(errors) == ["cumulative"]
    assert str(TUESDAY_MAX + 1) in errors["cumulative"]
    assert str(TUESDAY_MAX) in errors["cumulative"]


def test_items_and_a_cumulative_total_together_are_rejected():
    errors = rejected(ReportInput(items={"login": 1}, cumulative=10_001))

    assert list(errors) == ["cumulative"]
    assert "分项积分" in errors["cumulative"] and "总积分" in errors["cumulative"]


@pytest.mark.parametrize(
    ("value", "word"), [(-5, "负数"), (10.5, "整数"), ("10030", "整数"), (False, "整数")]
)
def test_a_cumulative_total_that_is_negative_or_not_an_integer_is_rejected(value, word):
    errors = rejected(ReportInput(cumulative=value), context(previous_cumulative=0))

    assert list(errors) == ["cumulative"]
    assert "总积分" in errors["cumulative"] and word in errors["cumulative"]


def test_a_cumulative_total_typed_as_text_is_accepted_from_a_form():
    report = validate_report(
        ReportInput(cumulative="10030"), context(previous_cumulative=10_000), from_form=True
    )

    assert report.total == 30


def test_first_cumulative_total_with_a_negative_days_points_says_they_are_negative():
    errors = rejected(ReportInput(cumulative=10_030, total=-5))

    assert "负数" in errors["total"]


# --- note -------------------------------------------------------------------------------------


def test_note_is_kept_without_surrounding_whitespace():
    report = validate_report(ReportInput(total=5, note="  学习了党章  "), context())

    assert report.note == "学习了党章"


def test_note_up_to_the_limit_is_accepted_and_one_character_more_is_rejected():
    assert validate_report(ReportInput(total=5, note="学" * MAX_NOTE), context()).note == (
        "学" * MAX_NOTE
    )

    errors = rejected(ReportInput(total=5, note="学" * (MAX_NOTE + 1)))
    assert list(errors) == ["note"]
    assert str(MAX_NOTE) in errors["note"]


@pytest.mark.parametrize("note", [None, 5, ["a"]])
def test_note_that_is_not_text_is_rejected(note):
    errors = rejected(ReportInput(total=5, note=note))  # type: ignore[arg-type]

    assert list(errors) == ["note"]
    assert "文字" in errors["note"]


def test_errors_in_points_and_note_are_reported_together():
    errors = rejected(ReportInput(items={"login": 5}, note="x" * (MAX_NOTE + 1)))

    assert set(errors) == {"items.login", "note"}


# --- quizzes ----------------------------------------------------------------------------------


def test_quiz_results_are_parsed_and_seconds_default_to_zero():
    report = validate_report(
        ReportInput(
            total=10,
            quizzes=[
                {"kind": " 挑战答题 ", "questions": 700, "correct": 700, "seconds": 3600},
                {"kind": "知识竞赛", "questions": 50, "correct": 48},
            ],
        ),
        context(),
    )

    assert report.quizzes == [Quiz("挑战答题", 700, 700, 3600), Quiz("知识竞赛", 50, 48, 0)]


def test_a_units_own_quiz_kind_is_allowed():
    report = validate_report(
        ReportInput(total=1, quizzes=[{"kind": "两查两考", "questions": 20, "correct": 18}]),
        context(),
    )

    assert report.quizzes[0].kind == "两查两考"


def test_quiz_numbers_typed_as_text_are_accepted_from_a_form():
    report = validate_report(
        ReportInput(
            total="1",
            quizzes=[{"kind": "每日答题", "questions": "5", "correct": "4", "seconds": "90"}],
        ),
        context(),
        from_form=True,
    )

    assert report.quizzes == [Quiz("每日答题", 5, 4, 90)]


def test_no_quizzes_given_as_none_means_an_empty_list():
    assert validate_report(ReportInput(total=1, quizzes=None), context()).quizzes == []  # type: ignore[arg-type]


def test_quizzes_that_are_not_a_list_are_rejected():
    errors = rejected(ReportInput(total=1, quizzes={"kind": "每日答题"}))  # type: ignore[arg-type]

    assert list(errors) == ["quizzes"]
    assert "列表" in errors["quizzes"]


def test_a_quiz_entry_that_is_not_an_object_is_rejected_by_its_index():
    errors = rejected(
        ReportInput(
            total=1, quizzes=[{"kind": "每日答题", "questions": 5, "correct": 5}, "每日答题"]
        )
    )

    assert list(errors) == ["quizzes[1]"]


@pytest.mark.parametrize("kind", [None, "", "   ", 5, "题" * (MAX_QUIZ_KIND + 1)])
def test_a_quiz_kind_that_is_missing_blank_or_too_long_is_rejected(kind):
    errors = rejected(ReportInput(total=1, quizzes=[{"kind": kind, "questions": 5, "correct": 5}]))

    assert list(errors) == ["quizzes[0].kind"]
    assert str(MAX_QUIZ_KIND) in errors["quizzes[0].kind"]


@pytest.mark.parametrize(
    ("quiz", "field", "label"),
    [
        ({"correct": 1}, "questions", "题数"),
        ({"questions": 5}, "correct", "答对"),
        ({"questions": 5, "correct": 2.5}, "correct", "答对"),
        ({"questions": 5, "correct": 5, "seconds": -1}, "seconds", "用时"),
        ({"questions": 5, "correct": 5, "seconds": None}, "seconds", "用时"),
        ({"questions": "5", "correct": 5}, "questions", "题数"),
    ],
)
def test_quiz_numbers_must_be_non_negative_integers(quiz, field, label):
    errors = rejected(ReportInput(total=1, quizzes=[{"kind": "每日答题", **quiz}]))

    assert list(errors) == [f"quizzes[0].{field}"]
    assert label in errors[f"quizzes[0].{field}"]
    assert "非负整数" in errors[f"quizzes[0].{field}"]


def test_a_negative_question_count_is_rejected():
    errors = rejected(
        ReportInput(total=1, quizzes=[{"kind": "每日答题", "questions": -1, "correct": 0}])
    )

    assert "题数" in errors["quizzes[0].questions"]
    assert "非负整数" in errors["quizzes[0].questions"]


def test_a_negative_question_count_is_reported_once_on_the_questions_field():
    errors = rejected(
        ReportInput(total=1, quizzes=[{"kind": "每日答题", "questions": -1, "correct": 0}])
    )

    assert list(errors) == ["quizzes[0].questions"]


def test_a_quiz_with_no_questions_is_rejected():
    errors = rejected(
        ReportInput(total=1, quizzes=[{"kind": "每日答题", "questions": 0, "correct": 0}])
    )

    assert list(errors) == ["quizzes[0].questions"]
    assert "至少为 1" in errors["quizzes[0].questions"]


def test_more_correct_answers_than_questions_is_rejected_naming_both():
    errors = rejected(
        ReportInput(total=1, quizzes=[{"kind": "每日答题", "questions": 5, "correct": 6}])
    )

    assert list(errors) == ["quizzes[0].correct"]
    assert "6" in errors["quizzes[0].correct"] and "5" in errors["quizzes[0].correct"]


def test_a_bad_quiz_rejects_the_whole_report():
    errors = rejected(
        ReportInput(
            total=1,
            quizzes=[
                {"kind": "每日答题", "questions": 5, "correct": 5},
                {"kind": "挑战答题", "questions": 5, "correct": 9},
            ],
        )
    )

    assert list(errors) == ["quizzes[1].correct"]


# --- the error type ---------------------------------------------------------------------------


def test_validation_error_carries_a_title_and_a_copy_of_the_field_messages():
    source = {"total": "今日积分必须是整数"}
    error = ValidationError(source)
    source["note"] = "later"

    assert error.title == "提交的内容有误"
    assert str(error) == "提交的内容有误"
    assert error.errors == {"total": "今日积分必须是整数"}


# --- parse_int --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "allow_text", "expected"),
    [
        (5, False, 5),
        (-5, False, -5),
        (0, True, 0),
        (True, True, None),
        (False, False, None),
        (5.0, True, None),
        ("5", False, None),
        ("5", True, 5),
        (" -12 ", True, -12),
        ("", True, None),
        ("-", True, None),
        ("1.0", True, None),
        (None, True, None),
    ],
)
def test_parse_int_accepts_integers_and_text_only_when_allowed(value, allow_text, expected):
    assert parse_int(value, allow_text=allow_text) == expected


@given(st.integers(-(10**12), 10**12))
def test_parse_int_reads_back_any_integer_written_as_text(n):
    assert parse_int(str(n), allow_text=True) == n
    assert parse_int(f"  {n}\t", allow_text=True) == n
    assert parse_int(str(n), allow_text=False) is None


@pytest.mark.parametrize("text", ["--1", "²", "-²", "1²"])
def test_parse_int_returns_none_for_text_int_cannot_read(text):
    assert parse_int(text, allow_text=True) is None


@pytest.mark.parametrize(
    "data",
    [
        ReportInput(items={"login": "--1"}),
        ReportInput(total="--1"),
        ReportInput(cumulative="²", total="1"),
        ReportInput(total="1", quizzes=[{"kind": "每日答题", "questions": "--5", "correct": 1}]),
    ],
    ids=["items", "total", "cumulative", "quiz"],
)
def test_unreadable_numbers_in_a_form_are_a_validation_error_not_a_crash(data):
    errors = rejected(data, from_form=True)

    assert errors


# --- the shipped rule versions: a date before and after a rule change -------------------------


@pytest.fixture(scope="module")
def seed_versions() -> list[RuleVersion]:
    return parse_rules_file(SEED_RULES)


def seed_context(versions: list[RuleVersion], day: date, **overrides: Any) -> ReportContext:
    return ReportContext(
        day=day,
        today=day,
        rules=version_for(versions, day),
        backfill_days=1,
        locked=False,
        active=True,
        **overrides,
    )


OLD_DAY = date(2022, 12, 30)  # a Friday under the June 2022 rules
NEW_DAY = date(2023, 1, 3)  # a Tuesday under the 2023 rules


def test_challenge_cap_was_5_before_2023_and_is_10_after(seed_versions):
    old = seed_context(seed_versions, OLD_DAY)
    new = seed_context(seed_versions, NEW_DAY)

    assert validate_report(ReportInput(items={"challenge": 5}), old).total == 5
    errors = rejected(ReportInput(items={"challenge": 10}), old)
    assert "挑战答题" in errors["items.challenge"] and "5" in errors["items.challenge"]

    assert validate_report(ReportInput(items={"challenge": 10}), new).total == 10


def test_challenge_counts_every_day_before_2023_and_only_tue_fri_sun_after(seed_versions):
    old_monday = seed_context(seed_versions, date(2022, 12, 26))
    new_monday = seed_context(seed_versions, date(2023, 1, 2))

    assert validate_report(ReportInput(items={"challenge": 5}), old_monday).total == 5

    errors = rejected(ReportInput(items={"challenge": 5}), new_monday)
    assert "周二、周五、周日" in errors["items.challenge"]


def test_video_cap_was_6_before_2023_and_is_12_after(seed_versions):
    errors = rejected(ReportInput(items={"video": 12}), seed_context(seed_versions, OLD_DAY))
    assert "视听学习" in errors["items.video"] and "6" in errors["items.video"]

    new = validate_report(ReportInput(items={"video": 12}), seed_context(seed_versions, NEW_DAY))
    assert new.total == 12


def test_video_time_exists_before_2023_only(seed_versions):
    old = validate_report(
        ReportInput(items={"video_time": 6}), seed_context(seed_versions, OLD_DAY)
    )
    assert old.items == {"video_time": 6}

    errors = rejected(ReportInput(items={"video_time": 6}), seed_context(seed_versions, NEW_DAY))
    assert "video_time" in errors["items.video_time"]
    assert "2023-01-03" in errors["items.video_time"]


def test_sport_counts_only_from_2023_with_its_weekly_cap(seed_versions):
    errors = rejected(ReportInput(items={"sport": 2}), seed_context(seed_versions, OLD_DAY))
    assert "sport" in errors["items.sport"] and "2022-12-30" in errors["items.sport"]

    new = seed_context(seed_versions, NEW_DAY)
    assert validate_report(ReportInput(items={"sport": 2}), new).total == 2

    errors = rejected(ReportInput(items={"sport": 1}), replace(new, week_items={"sport": 2}))
    assert "强国运动" in errors["items.sport"] and "每周上限" in errors["items.sport"]


def test_the_same_day_total_is_within_the_maximum_of_one_version_and_above_the_other(
    seed_versions,
):
    # June 2022 rules: 56 a day; 2023 rules: 54 a day.
    assert validate_report(ReportInput(total=56), seed_context(seed_versions, OLD_DAY)).total == 56

    errors = rejected(ReportInput(total=56), seed_context(seed_versions, NEW_DAY))
    assert "54" in errors["total"]


def test_no_rules_are_in_force_before_the_first_seed_version(seed_versions):
    errors = rejected(ReportInput(total=1), seed_context(seed_versions, date(2020, 12, 31)))

    assert "没有生效的积分规则" in errors["date"]


# --- properties -------------------------------------------------------------------------------


week_days = st.dates(MONDAY, MONDAY + timedelta(days=6))
codes = st.sampled_from([c.code for c in RULES.categories] + ["share"])
points = st.integers(-3, 15)


@st.composite
def any_report(draw: st.DrawFn) -> tuple[ReportInput, ReportContext]:
    day = draw(week_days)
    form = draw(st.sampled_from(["items", "total", "cumulative"]))
    items = total = cumulative = None
    if form == "items":
        items = draw(st.dictionaries(codes, points, min_size=1, max_size=7))
        total = draw(st.none() | st.integers(0, 80))
    elif form == "total":
        total = draw(st.integers(-3, 80))
    else:
        cumulative = draw(st.integers(0, 200))
        total = draw(st.none() | st.integers(0, 80))
    previous = draw(st.none() | st.integers(0, 200))
    ctx = ReportContext(
        day=day,
        today=MONDAY + timedelta(days=6),
        rules=RULES,
        backfill_days=7,
        locked=False,
        active=True,
        week_items=draw(st.dictionaries(codes, st.integers(0, 10), max_size=3)),
        previous_cumulative=previous,
    )
    return ReportInput(items=items, total=total, cumulative=cumulative), ctx


@given(any_report())
def test_an_accepted_report_never_exceeds_the_day_maximum(case):
    data, ctx = case
    try:
        report = validate_report(data, ctx)
    except ValidationError as e:
        assert e.errors
        return

    assert 0 <= report.total <= RULES.day_maximum(ctx.day)


@given(any_report())
def test_an_accepted_detailed_report_respects_every_category_rule(case):
    data, ctx = case
    assume(data.items is not None)
    try:
        report = validate_report(data, ctx)
    except ValidationError:
        return

    assert report.total == sum(report.items.values())
    for code, value in report.items.items():
        category = RULES.category(code)
        assert category is not None
        assert 0 < value <= category.daily_cap
        assert category.counts_on(ctx.day)
        if category.weekly_cap is not None:
            assert ctx.week_items.get(code, 0) + value <= category.weekly_cap


@given(week_days, st.integers(0, 80))
def test_a_day_total_is_accepted_exactly_when_it_is_within_the_day_maximum(day, total):
    ctx = context(day, today=MONDAY + timedelta(days=6), backfill_days=7)
    maximum = RULES.day_maximum(day)

    if total <= maximum:
        assert validate_report(ReportInput(total=total), ctx).total == total
    else:
        errors = rejected(ReportInput(total=total), ctx)
        assert list(errors) == ["total"]
        assert str(maximum) in errors["total"]


@given(st.integers(0, 10_000), st.integers(0, 60))
def test_the_day_from_a_cumulative_total_is_the_difference_when_within_the_maximum(
    previous, gained
):
    ctx = context(MONDAY, previous_cumulative=previous)

    if gained <= MONDAY_MAX:
        report = validate_report(ReportInput(cumulative=previous + gained), ctx)
        assert (report.total, report.cumulative) == (gained, previous + gained)
    else:
        assert list(rejected(ReportInput(cumulative=previous + gained), ctx)) == ["cumulative"]
