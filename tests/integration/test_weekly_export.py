"""The scheduler's weekly export: last week's chart of each unit with two or more below it,
drawn once, and no figure left for the collector to find later."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.charts.conftest import collector_off, pictures_alive, put_week
from tracker.scheduler import jobs
from tracker.services.reminders.claims import Busy


def test_the_weekly_export_draws_each_parents_chart_and_leaves_no_picture(ctx, org):
    put_week(org)  # 2026-W47, the week before today's
    with collector_off():  # only the collections the export asks for may free its figures
        summary = jobs.weekly_export()
        assert pictures_alive() == 0
    folder = Path(ctx.instance_path) / "exports" / "2026-W47"
    files = sorted(folder.iterdir())
    # 机关党委 is the one unit with two units below it (第一支部 and 第二支部).
    assert [f.name for f in files] == [f"units-{org.party.id}.png"]
    assert files[0].read_bytes().startswith(b"\x89PNG")
    assert summary == "export 2026-W47: 1 张图"
    drawn = files[0].stat().st_mtime_ns
    with pytest.raises(Busy):  # the week is claimed: a second run draws nothing again
        jobs.weekly_export()
    assert files[0].stat().st_mtime_ns == drawn
