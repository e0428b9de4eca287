"""Message templates: Chinese defaults with every variable, rendered in a sandbox."""

from __future__ import annotations

import pytest

from tracker.reminders import templates


@pytest.mark.parametrize("key", sorted(templates.DEFAULTS))
def test_every_default_renders_with_its_sample(key):
    d = templates.DEFAULTS[key]
    title, body = templates.check(d.title, d.body, key)
    assert title and body


def test_daily_nudge_names_points_gap_and_rank():
    d = templates.DEFAULTS["daily"]
    title, body = templates.render(d.title, d.body, d.sample)
    assert title == "你今天学习了吗？"
    assert "李学习同志" in body and "还差 30 分" in body and "第 2 名" in body


def test_weekly_bulletin_shows_top_learners_and_the_motto():
    d = templates.DEFAULTS["weekly"]
    _, body = templates.render(d.title, d.body, d.sample)
    assert "学习之星：李学习（280 分）、王进步（275 分）" in body
    assert "上升 1 位" in body and "不作考核依据" in body


def test_unknown_variables_and_unsafe_templates_are_refused():
    with pytest.raises(templates.TemplateProblem):
        templates.check("{{ nobody }}", "x", "daily")
    with pytest.raises(templates.TemplateProblem):
        templates.check("x", "{{ name.__class__.__mro__ }}", "daily")
    with pytest.raises(templates.TemplateProblem):
        templates.check("x", "{% for %}", "daily")
