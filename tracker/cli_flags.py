"""``flask --app tracker flags scan``: look over recent history for fair-play flags."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask

from .domain.fairplay import LABELS_ZH
from .services import clock, fairplay


def init_app(app: Flask) -> None:
    app.cli.add_command(flags_group)


@click.group("flags", help="Fair-play flags for leaders (soft signals, never blocking).")
def flags_group() -> None:
    pass


@flags_group.command("scan")
@click.option("--days", default=90, show_default=True, help="How many days back to look.")
def scan(days: int) -> None:
    """Add the flags that the history of the last DAYS days shows and that are missing."""
    if days < 1:
        raise click.BadParameter("at least 1", param_hint="--days")
    end = clock.today()
    added = fairplay.scan(end - timedelta(days=days - 1), end)
    for kind, count in added.items():
        click.echo(f"{LABELS_ZH[kind]} ({kind}): {count} new")
    click.echo(f"{sum(added.values())} new flag(s)")
