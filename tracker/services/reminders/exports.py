"""The weekly chart export into ``instance/exports/<ISO week>/``, when the charts are installed.

Charts are optional here: without ``tracker.charts`` (or when drawing fails) the export writes
nothing and the 通报 goes out as text only.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from tracker import serving
from tracker.domain.periods import Period
from tracker.extensions import db
from tracker.models import Unit

log = logging.getLogger(__name__)


def _charts():
    try:
        from tracker import charts
    except ImportError:
        return None
    if not (hasattr(charts, "unit_chart") and hasattr(charts, "render")):
        return None
    return charts


def folder(period: Period) -> Path:
    return Path(current_app.instance_path) / "exports" / period.key


def parents_to_export() -> list[Unit]:
    """Units with two or more sub-units: each is one 学习报表 (its children ranked)."""
    counts = (
        select(Unit.parent_id, func.count().label("n"))
        .where(Unit.parent_id.is_not(None))
        .group_by(Unit.parent_id)
        .subquery()
    )
    return list(
        db.session.execute(
            select(Unit).join(counts, counts.c.parent_id == Unit.id).where(counts.c.n >= 2)
        ).scalars()
    )


def unit_chart_file(period: Period, parent: Unit) -> Path | None:
    """Draw (once) the week's unit chart under ``parent``; None when charts are unavailable."""
    charts = _charts()
    if charts is None:
        return None
    path = folder(period) / f"units-{parent.id}.png"
    if path.exists():
        return path
    try:
        from tracker.charts.data import PUBLIC

        data = charts.render(charts.unit_chart(PUBLIC, period, parent, "avg"), "png")
    except Exception:  # a chart must never stop the reminders
        log.exception("weekly chart for unit %s failed", parent.id)
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(path)  # atomic: a killed export leaves no half-written chart
    return path


def export_week(period: Period) -> list[Path]:
    """Every parent's chart of the week. Each drawn figure's cycles are collected at once: a
    province has some 600 such parents, and 150 of their charts left a process 30 MB larger
    otherwise (its peak 44 MB higher). With the scheduler's heap frozen at its start
    (``serving.settle``) a collection walks only what the chart left: the 150 charts took
    14.5 s instead of 17.4. The pages the pictures freed are then handed back: 100 charts
    left the scheduler at 126 MB instead of 152."""
    files = []
    for unit in parents_to_export():
        if (path := unit_chart_file(period, unit)) is not None:
            files.append(path)
        serving.collect_and_trim()
    return files


def bulletin_chart(period: Period) -> str | None:
    """The chart attached to e-mailed 通报: the widest board, relative to the instance folder."""
    parents = parents_to_export()
    if not parents:
        return None
    widest = max(parents, key=lambda u: (len(u.children), -u.depth))
    path = unit_chart_file(period, widest)
    if path is None:
        return None
    return str(path.relative_to(current_app.instance_path))
