"""Ranking definitions (SPEC §2): shared ranks, rank change and the unit metrics."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.ranking import (
    METRIC_LABELS_ZH,
    METRICS,
    Ranked,
    UnitStats,
    as_number,
    metric_value,
    rank_change,
    shared_ranks,
)

# --- shared_ranks -----------------------------------------------------------------------------


def test_equal_values_share_a_rank_and_the_next_rank_skips_1_1_3():
    ranked = shared_ranks([("a", 30), ("b", 30), ("c", 20), ("d", 10)])

    assert [(r.key, r.rank) for r in ranked] == [("a", 1), ("b", 1), ("c", 3), ("d", 4)]


def test_highest_value_comes_first():
    ranked = shared_ranks([("low", 1), ("high", 99), ("mid", 50)])

    assert [r.key for r in ranked] == ["high", "mid", "low"]
    assert [r.value for r in ranked] == [99, 50, 1]
    assert [r.rank for r in ranked] == [1, 2, 3]


def test_ties_are_ordered_by_the_tie_break_the_key_by_default():
    ranked = shared_ranks([(3, 10), (1, 10), (2, 10)])

    assert [r.key for r in ranked] == [1, 2, 3]
    assert {r.rank for r in ranked} == {1}


def test_a_custom_tie_break_orders_equal_values_without_changing_their_rank():
    ranked = shared_ranks([(1, 5), (2, 5), (3, 7)], tie_break=lambda k: -k)

    assert [r.key for r in ranked] == [3, 2, 1]
    assert [r.rank for r in ranked] == [1, 2, 2]


def test_none_values_are_listed_last_without_a_rank():
    ranked = shared_ranks([("empty", None), ("a", 0), ("b", 5), ("also_empty", None)])

    assert ranked == [
        Ranked("b", 5, 1),
        Ranked("a", 0, 2),
        Ranked("also_empty", None, None),
        Ranked("empty", None, None),
    ]


def test_zero_is_a_value_and_is_ranked():
    ranked = shared_ranks([("a", 0), ("b", 0)])

    assert [r.rank for r in ranked] == [1, 1]


def test_exact_fractions_that_are_equal_share_a_rank_and_close_ones_do_not():
    ranked = shared_ranks(
        [
            ("third", Fraction(1, 3)),
            ("two_sixths", Fraction(2, 6)),
            ("just_above", Fraction(333_334, 1_000_000)),
        ]
    )

    assert [(r.key, r.rank) for r in ranked] == [
        ("just_above", 1),
        ("third", 2),
        ("two_sixths", 2),
    ]


def test_an_integer_and_an_equal_fraction_share_a_rank():
    ranked = shared_ranks([("int", 2), ("frac", Fraction(4, 2))])

    assert [r.rank for r in ranked] == [1, 1]


def test_nothing_to_rank_gives_an_empty_list():
    assert shared_ranks([]) == []


def test_only_unvalued_items_are_all_unranked():
    ranked = shared_ranks([("b", None), ("a", None)])

    assert ranked == [Ranked("a", None, None), Ranked("b", None, None)]


def test_ranking_a_generator_keeps_the_unvalued_items():
    pairs = [("a", 1), ("b", None), ("c", 2)]

    ranked = shared_ranks(kv for kv in pairs)

    assert ranked == [Ranked("c", 2, 1), Ranked("a", 1, 2), Ranked("b", None, None)]


values = st.one_of(
    st.none(),
    st.integers(-5, 20),
    st.fractions(min_value=-5, max_value=20, max_denominator=6),
)
scored = st.lists(values, max_size=30).map(lambda vs: list(enumerate(vs)))


@given(scored)
def test_every_item_appears_once_with_its_value(items):
    ranked = shared_ranks(items)

    assert sorted(r.key for r in ranked) == [k for k, _ in items]
    assert {r.key: r.value for r in ranked} == dict(items)


@given(scored)
def test_ranks_never_decrease_along_the_order_and_values_never_increase(items):
    ranked = [r for r in shared_ranks(items) if r.rank is not None]

    for before, after in zip(ranked, ranked[1:], strict=False):
        assert before.rank <= after.rank
        assert before.value >= after.value


@given(scored)
def test_equal_values_share_a_rank_and_different_values_do_not(items):
    ranked = [r for r in shared_ranks(items) if r.rank is not None]

    for a in ranked:
        for b in ranked:
            assert (a.rank == b.rank) == (a.value == b.value)


@given(scored)
def test_rank_is_one_plus_the_number_of_strictly_greater_values(items):
    present = [v for _, v in items if v is not None]

    for r in shared_ranks(items):
        if r.value is None:
            assert r.rank is None
        else:
            assert r.rank == 1 + sum(1 for v in present if v > r.value)


@given(scored)
def test_unranked_items_come_after_every_ranked_one(items):
    ranks = [r.rank for r in shared_ranks(items)]
    first_unranked = ranks.index(None) if None in ranks else len(ranks)

    assert all(rank is not None for rank in ranks[:first_unranked])
    assert all(rank is None for rank in ranks[first_unranked:])


@given(scored, st.randoms(use_true_random=False))
def test_the_ranking_does_not_depend_on_the_input_order(items, rnd):
    shuffled = list(items)
    rnd.shuffle(shuffled)

    assert shared_ranks(shuffled) == shared_ranks(items)


# --- rank_change ------------------------------------------------------------------------------


def test_climbing_from_fifth_to_second_is_a_change_of_plus_three():
    assert rank_change(5, 2) == 3


def test_falling_from_first_to_fourth_is_a_change_of_minus_three():
    assert rank_change(1, 4) == -3


def test_keeping_the_same_rank_is_no_change():
    assert rank_change(3, 3) == 0


@pytest.mark.parametrize(("previous", "now"), [(None, 1), (2, None), (None, None)])
def test_there_is_no_rank_change_when_either_period_is_unranked(previous, now):
    assert rank_change(previous, now) is None


# --- metric_value -----------------------------------------------------------------------------


def stats(
    roster: int = 4,
    points: int = 100,
    participants: int = 3,
    reported_days: int = 10,
    active_days: int = 28,
) -> UnitStats:
    return UnitStats(
        unit_id=1,
        roster=roster,
        points=points,
        participants=participants,
        reported_days=reported_days,
        active_days=active_days,
    )


def test_average_points_divide_by_the_whole_roster_including_non_reporters():
    value = metric_value(stats(roster=3, points=100, participants=1), "avg")

    assert value == Fraction(100, 3)
    assert isinstance(value, Fraction)


def test_participation_is_members_with_a_reported_day_over_the_roster():
    assert metric_value(stats(roster=4, participants=3), "participation") == Fraction(3, 4)


def test_activity_is_reported_member_days_over_active_member_days_elapsed():
    assert metric_value(stats(reported_days=10, active_days=28), "activity") == Fraction(5, 14)


def test_activity_with_no_active_member_days_yet_is_zero_not_a_division_error():
    assert metric_value(stats(reported_days=0, active_days=0), "activity") == Fraction(0)


def test_total_is_the_points_as_an_integer():
    value = metric_value(stats(points=1234), "total")

    assert value == 1234
    assert isinstance(value, int)


@pytest.mark.parametrize("metric", METRICS)
def test_an_empty_roster_has_no_value_for_any_metric(metric):
    empty = stats(roster=0, points=0, participants=0, reported_days=0, active_days=0)

    assert metric_value(empty, metric) is None


def test_an_unknown_metric_is_rejected_naming_it_and_the_choices():
    with pytest.raises(ValueError, match="median") as info:
        metric_value(stats(), "median")

    for metric in METRICS:
        assert metric in str(info.value)


def test_a_unit_with_an_empty_roster_is_listed_last_without_a_rank():
    units = {
        1: stats(roster=2, points=50),
        2: stats(roster=0, points=0, participants=0, reported_days=0, active_days=0),
        3: stats(roster=5, points=150),
    }

    ranked = shared_ranks([(uid, metric_value(s, "avg")) for uid, s in units.items()])

    assert ranked == [
        Ranked(3, Fraction(30), 1),
        Ranked(1, Fraction(25), 2),
        Ranked(2, None, None),
    ]


def test_units_with_exactly_equal_averages_share_a_rank():
    # 100 / 3 and 200 / 6 are equal as exact fractions, even though floats might disagree.
    units = {
        1: stats(roster=3, points=100),
        2: stats(roster=6, points=200),
        3: stats(roster=7, points=233),
    }

    ranked = shared_ranks([(uid, metric_value(s, "avg")) for uid, s in units.items()])

    assert [(r.key, r.rank) for r in ranked] == [(1, 1), (2, 1), (3, 3)]


def test_every_metric_has_a_chinese_label():
    assert set(METRIC_LABELS_ZH) == set(METRICS)
    assert METRIC_LABELS_ZH["avg"] == "人均积分"
    assert METRIC_LABELS_ZH["participation"] == "参与率"
    assert METRIC_LABELS_ZH["activity"] == "活跃度"


@given(
    st.integers(1, 500),
    st.integers(0, 100_000),
    st.data(),
)
def test_metrics_are_exact_and_participation_and_activity_lie_between_0_and_1(roster, points, data):
    participants = data.draw(st.integers(0, roster))
    active_days = data.draw(st.integers(0, roster * 92))
    reported_days = data.draw(st.integers(0, active_days))
    s = stats(roster, points, participants, reported_days, active_days)

    avg = metric_value(s, "avg")
    participation = metric_value(s, "participation")
    activity = metric_value(s, "activity")

    assert avg * roster == points
    assert participation * roster == participants
    assert 0 <= participation <= 1
    assert 0 <= activity <= 1
    if active_days:
        assert activity * active_days == reported_days


# --- as_number --------------------------------------------------------------------------------


def test_as_number_rounds_fractions_for_display_and_keeps_integers_and_none():
    assert as_number(Fraction(1, 3)) == 0.3333
    assert as_number(Fraction(2, 3), places=2) == 0.67
    assert as_number(7) == 7
    assert isinstance(as_number(7), int)
    assert as_number(None) is None
