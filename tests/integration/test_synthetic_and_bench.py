"""The synthetic generator and the benchmark run as a smoke test: correctness, never time."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.conftest import TODAY
from tracker.extensions import db
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
