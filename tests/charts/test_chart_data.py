"""The data behind each chart equals the rankings: order, top-three marks, target, privacy."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tracker import charts
from tracker.charts import data
from tracker.domain.periods import period_of
from tracker.services import boards, rankings


def test_unit_chart_follows_the_unit_ranking(org, week):
    board = rankings.unit_board(week, org.party, "avg")
    chart = charts.unit_chart(org.admin, week, org.party, "avg")
    assert [b.label for b in chart.bars] == [s.unit.name for s in board]
    assert [b.rank for b in chart.bars] == [s.rank for s in board]
    assert [b.value for b in chart.bars] == pytest.approx([float(s.value) for s in board], abs=1e-4)
    assert [b.top3 for b in chart.bars] == [s.rank is not None and s.rank <= 3 for s in board]
    assert chart.target == rankings.period_target(7)
    assert chart.period_key == "2026-W47"


def test_unit_chart_marks_below_target_only_for_leaders(org, week):
    leader = charts.unit_chart(org.admin, week, org.party, "avg")
    rows = boards.unit_board(org.admin, week, org.party, "avg")
    assert [b.below for b in leader.bars] == [bool(r["below_target"]) for r in rows]
    assert any(b.below for b in leader.bars) and leader.leader
    for viewer in (org.m3, data.PUBLIC):
        public = charts.unit_chart(viewer, week, org.party, "avg")
        assert not public.leader
        assert not any(b.below for b in public.bars)


def test_unit_chart_in_other_metrics_has_percentages_and_no_average_target(org, week):
    chart = charts.unit_chart(org.admin, week, org.party, "participation")
    assert chart.percent and chart.target is None
    assert all(0 <= b.value <= 1 for b in chart.bars)


def test_member_chart_is_the_top_of_the_board_and_leaders_see_who_is_below(org, week):
    board = rankings.member_board(week, org.party)
    top = charts.member_chart(org.admin, week, org.party, limit=2)
    names = rankings.member_names([s.member_id for s in board.standings])
    below = [s for s in board.standings if s.points < rankings.period_target(s.active_days)]
    expected = board.standings[:2] + [s for s in below if s not in board.standings[:2]]
    assert [b.label for b in top.bars] == [names[s.member_id].name for s in expected]
    assert [b.rank for b in top.bars] == [s.rank for s in expected]
    assert [b.below for b in top.bars] == [s in below for s in expected]
    assert top.target == rankings.period_target(7)


def test_public_member_chart_never_names_anyone_below_target(org, week):
    for viewer in (org.m1, data.PUBLIC):
        chart = charts.member_chart(viewer, week, org.party, limit=10)
        assert not chart.leader
        assert {b.label for b in chart.bars} == {"李一", "赵三"}  # the two above target
        assert not any(b.below for b in chart.bars)
    mine = charts.member_chart(org.m1, week, org.party, limit=10)
    assert [b.is_me for b in mine.bars] == [True, False]


def test_unit_trend_is_the_weekly_average_of_the_unit_and_its_parent(org, week):
    trend = charts.unit_trend(org.b1, week.end)
    assert len(trend.weeks) == 12 and trend.weeks[-1] == "2026-W47"
    w47 = rankings.unit_board(week, org.party, "avg")
    b1 = next(s for s in w47 if s.unit.id == org.b1.id)
    assert trend.subject_values[-1] == round(float(b1.value), 2)
    party = rankings.unit_board(week, org.root, "avg")[0]
    assert trend.parent_values[-1] == round(float(party.value), 2)
    assert trend.subject_values[0] == 0  # nothing reported twelve weeks back


def test_member_trend_is_the_members_weekly_points(org, week):
    trend = charts.member_trend(org.m1, week.end, 3)
    assert trend.weeks == ["2026-W45", "2026-W46", "2026-W47"]
    assert trend.subject_values == [0, 70, 280]
    assert trend.parent == "第一小组人均"


def test_fingerprint_ignores_the_drawing_time_but_not_the_data(org, week):
    a = charts.unit_chart(org.admin, week, org.party)
    b = charts.unit_chart(org.admin, week, org.party)
    b.generated_at = a.generated_at + timedelta(hours=1)
    assert charts.fingerprint(a) == charts.fingerprint(b)
    b.bars[0].value += 1
    assert charts.fingerprint(a) != charts.fingerprint(b)


def test_trend_averages_are_those_of_ranking_every_member_week_by_week(org, week):
    """The trend reads subtree totals and roster stats; each week's average must be what
    ranking every roster member gives, across a move, a retirement and an award."""
    from tracker.domain.periods import parse_period_key
    from tracker.services import adjustments
    from tracker.services import org as org_service

    adjustments.give(org.admin, org.m3, week.start + timedelta(days=2), 9, "志愿服务")
    org_service.move_member(org.m2, org.b2, week.start - timedelta(days=3), actor_id=org.admin.id)
    org_service.set_active_dates(
        org.leader, org.leader.active_from, week.start + timedelta(days=1), actor_id=org.admin.id
    )

    def average(period, unit):
        standings = rankings.member_board(period, unit).standings
        if not standings:
            return 0
        return round(sum(s.points for s in standings) / len(standings), 2)

    for unit in (org.g1, org.b1, org.b2, org.party):
        trend = charts.unit_trend(unit, week.end, 4)
        weeks = [parse_period_key(key) for key in trend.weeks]
        assert trend.subject_values == [average(w, unit) for w in weeks], unit.name
        assert trend.parent_values == [average(w, unit.parent) for w in weeks], unit.name
    assert any(trend.subject_values)


@pytest.mark.parametrize("rows, shown", [(500, 30), (3, 1), (2, 2), (4, 1)])
def test_a_leaders_member_chart_is_that_of_ranking_every_member(
    org, week, monkeypatch, rows, shown
):
    """Read from the board's first rows and the count of who met the target, as ranking the
    whole roster would draw it: the bars below target, and how many more there are."""
    from tracker.services import adjustments
    from tracker.services import org as org_service

    adjustments.give(org.admin, org.m1, week.start + timedelta(days=2), -300, "扣减")
    org_service.move_member(org.m2, org.b2, week.start + timedelta(days=4), actor_id=org.admin.id)
    monkeypatch.setattr(boards, "LEADER_ROWS", rows)
    monkeypatch.setattr(data, "MAX_BELOW", shown)
    compared = 0
    for unit in (org.root, org.party, org.b1, org.b2):
        for period in (week, week.previous(), period_of("month", week.start)):
            for limit in (1, 2):
                whole = boards.member_board(org.admin, period, unit, every_row=True)
                top = whole.rows[:limit]
                below = [r for r in whole.rows[limit:] if r.below_target]
                expected = [(r.name, r.rank, r.below_target) for r in [*top, *below[:shown]]]
                more = len(below) - shown
                chart = charts.member_chart(org.admin, period, unit, limit=limit)
                assert [(b.label, b.rank, b.below) for b in chart.bars] == expected
                assert chart.note == (f"另有 {more} 名党员未达标，见导出表" if more > 0 else "")
                compared += more > 0
    # Some with a note, where members beyond the bars were counted (not at 30 bars: five
    # members in all).
    assert compared >= 3 or shown == 30
