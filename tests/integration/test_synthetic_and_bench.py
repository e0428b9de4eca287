"""The synthetic generator and the benchmark run as a smoke test: correctness, never time."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sqlalchemy import func, select

from tests.conftest import TODAY
from tracker.extensions import db
from tracker.models import DailyReport
from tracker.services import rollups, synthetic

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"
EXTRA = BENCH.with_name("extra.py")


def test_generated_rollups_equal_a_rebuild_and_the_benchmark_agrees_with_the_baseline(ctx):
    counts = synthetic.generate(members=300, units=24, levels=5, days=60, today=TODAY, seed=3)
    assert counts["member"] == 300 and counts["unit"] == 24 and counts["daily_report"] > 3000
    generated = rollups.stored()
    subtrees = rollups.stored_subtrees()
    rollups.rebuild_all()
    assert rollups.stored() == generated
    assert rollups.stored_subtrees() == subtrees
    spec = importlib.util.spec_from_file_location("bench_run", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.run("test", 1, db.engine.dialect.name, None)
    assert result["correct"] is True
    assert all(f["same_ranking"] for f in result["figures"])
    assert any(f["figure"].startswith("member rank") for f in result["figures"])
    # The extras' counts of who met the target: from the score counts as ranking every member.
    spec = importlib.util.spec_from_file_location("bench_extra", EXTRA)
    extra = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extra)
    figures: list[dict] = []
    extra.bench_counts(figures)
    assert len(figures) == 4 and all(f["same_count"] for f in figures)


def test_the_write_benchmark_loses_no_report_and_keeps_the_roll_ups(ctx):
    """The write benchmark's own run, small: every PUT through gunicorn lands once, the reads
    beside them find a report or none, and the roll-ups the concurrent writes kept equal a
    rebuild from the daily rows."""
    synthetic.generate(members=520, units=24, levels=5, days=14, today=TODAY, seed=5)
    spec = importlib.util.spec_from_file_location("bench_extra", EXTRA)
    extra = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extra)
    assert extra.TODAY == TODAY
    figures: list[dict] = []
    url = db.engine.url.render_as_string(hide_password=False)
    to_write = len(extra.writers(2 * 60 + 300))  # 60 own, 60 for others, the rest in-process
    extra.bench_writes(url, figures, count=60, seconds=60, workers=2, threads=1, clients=4)
    reads, own, for_others, memory = figures
    assert reads["value"]["requests"] == 60
    assert set(reads["value"]["statuses"]) <= {200, 404}
    assert own["value"]["statuses"] == {201: 60}
    assert for_others["value"]["statuses"] == {201: 60}
    assert all(mb and mb > 0 for mb in memory["value"])
    db.session.remove()
    written = db.session.execute(
        select(func.count()).select_from(DailyReport).where(DailyReport.day == TODAY)
    ).scalar_one()
    assert written == to_write > 120
    kept, kept_subtrees = rollups.stored(), rollups.stored_subtrees()
    rollups.rebuild_all()
    assert rollups.stored() == kept
    assert rollups.stored_subtrees() == kept_subtrees
