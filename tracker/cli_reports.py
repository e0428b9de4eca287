"""Report commands (``flask --app tracker charts|export|review …``): charts, exports, reviews."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app

from . import charts
from .charts import data as chart_data
from .domain.periods import KINDS, parse_period_key, period_of
from .domain.ranking import METRICS
from .domain.validation import ValidationError
from .services import clock, exports, org, review
from .web import params


def init_app(app: Flask) -> None:
    app.cli.add_command(charts_group)
    app.cli.add_command(export_group)
    app.cli.add_command(review_group)


def _viewer(leader: bool):
    return chart_data.LEADER if leader else chart_data.PUBLIC


def _unit(value: int | None):
    unit = org.get_unit(value) if value is not None else org.root_unit()
    if unit is None:
        raise click.ClickException(f"no unit with id {value}" if value else "no units yet")
    return unit


@click.group("charts", help="Leaderboard charts as PNG, SVG or PDF.")
def charts_group() -> None:
    pass


@charts_group.command("weekly")
@click.option("--week", help="ISO week such as 2026-W47 (default: last week).")
@click.option("--out", "out", type=click.Path(file_okay=False), help="Folder to write into.")
@click.option("--format", "fmt", type=click.Choice(list(charts.FORMATS)), default="png")
@click.option("--metric", type=click.Choice(METRICS), default="avg")
@click.option("--limit", type=click.IntRange(1, 50), default=10, help="Members per chart.")
@click.option("--leader", is_flag=True, help="Leaders' versions (mark who is below target).")
def charts_weekly(week, out, fmt, metric, limit, leader) -> None:
    """For every unit with children: its unit report, member board and 12-week trend.

    Writes into OUT (default: instance/exports/<ISO week>/). Without --leader the charts are
    the public versions, which never mark anyone below target.
    """
    if week:
        period = parse_period_key(week)
        if period.kind != "week":
            raise click.BadParameter("expected an ISO week such as 2026-W47", param_hint="--week")
    else:
        period = period_of("week", clock.today()).previous()
    folder = Path(out or Path(current_app.instance_path) / "exports" / period.key)
    folder.mkdir(parents=True, exist_ok=True)
    viewer = _viewer(leader)
    suffix = "leader" if leader else "public"
    parents = [u for u in _all_units() if org.children(u)]
    written = 0
    with click.progressbar(parents, label=f"charts {period.key}") as bar:
        for unit in bar:
            drawings = [
                ("units", charts.unit_chart(viewer, period, unit, metric)),
                ("members", charts.member_chart(viewer, period, unit, limit)),
                ("trend", charts.unit_trend(unit, period.end)),
            ]
            for name, chart in drawings:
                path = folder / f"{unit.id}-{name}-{suffix}.{fmt}"
                path.write_bytes(charts.render(chart, fmt))
                written += 1
    click.echo(f"{written} charts written to {folder}")


def _all_units():
    root = org.root_unit()
    return org.subtree(root) if root else []


@click.group("export", help="Rankings as XLSX or CSV.")
def export_group() -> None:
    pass


@export_group.command("rankings")
@click.option("--period", default="week", help=f"{', '.join(KINDS)} or a key like 2026-W47.")
@click.option("--date", "day", help="A day in the period (default: today).")
@click.option("--format", "fmt", type=click.Choice(list(exports.FORMATS)), default="xlsx")
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True)
@click.option("--kind", type=click.Choice(["members", "units"]), default="members")
@click.option("--unit", type=int, help="Unit (members) or parent (units) id; default the root.")
@click.option("--metric", type=click.Choice(METRICS), default="avg")
@click.option("--public", is_flag=True, help="Only what members see (no 达标 column).")
def export_rankings(period, day, fmt, out, kind, unit, metric, public) -> None:
    """Write the member or unit ranking of a period to OUT."""
    try:
        p = params.parse_period(period, day)
    except params.BadParam as e:
        raise click.BadParameter(e.message, param_hint=f"--{e.name}") from None
    viewer = _viewer(not public)
    if kind == "members":
        table = exports.member_table(viewer, p, _unit(unit))
    else:
        table = exports.unit_table(viewer, p, _unit(unit), metric)
    Path(out).write_bytes(exports.render(table, fmt))
    click.echo(f"{len(table.rows)} rows written to {out}")


@click.group("review", help="The quarterly review (考核、排名、通报、讲评、兑现).")
def review_group() -> None:
    pass


@review_group.command("quarterly")
@click.option("--quarter", required=True, help="Quarter such as 2026-Q4.")
@click.option("--unit", type=int, required=True, help="Unit id.")
@click.option("--out", "out", type=click.Path(dir_okay=False), help="PDF file to write.")
@click.option("--public", is_flag=True, help="The version to announce: no names below target.")
def review_quarterly(quarter, unit, out, public) -> None:
    """Write the quarterly review of a unit as a PDF."""
    from .charts import review_pdf  # not loaded with the app: see the web's review route

    try:
        q = review.parse_quarter(quarter)
    except ValidationError as e:
        raise click.BadParameter(e.errors["quarter"], param_hint="--quarter") from None
    u = _unit(unit)
    r = review.build(chart_data.LEADER, u, q, public=public)
    trend = charts.unit_trend(u, q.end, review.trend_weeks(q))
    path = Path(out or Path(current_app.instance_path) / "exports" / f"review-{u.id}-{q.key}.pdf")
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = f"生成于 {chart_data._now():%Y-%m-%d %H:%M}"
    path.write_bytes(review_pdf.render_review(r, trend, stamp))
    click.echo(
        f"{u.name} {q.key}: {r.roster} members, {r.members_met} met the target; written to {path}"
    )
