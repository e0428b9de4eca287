"""``flask --app tracker reminders …`` and ``… scheduler run``: thin commands over the services."""

from __future__ import annotations

from datetime import date

import click
from flask import Flask, current_app

from .reminders import policy
from .scheduler.jobs import JOBS
from .services import clock
from .services.reminders import claims, runs


def init_app(app: Flask) -> None:
    app.cli.add_command(reminders_group)
    app.cli.add_command(scheduler_group)


@click.group("reminders", help="Daily nudges, the weekly 通报 and the quarterly review.")
def reminders_group() -> None:
    pass


@reminders_group.command("run")
@click.argument("job", type=click.Choice(runs.JOBS))
@click.option("--date", "day", help="The day to run for (ISO date; default today).")
@click.option("--at", "at", help="Run as at this time of day, HH:MM (default: now).")
@click.option("--dry-run", is_flag=True, help="Show who would get what; send nothing.")
def reminders_run(job: str, day: str | None, at: str | None, dry_run: bool) -> None:
    """Run JOB for a day. A rerun sends only what was not sent yet."""
    try:
        the_day = date.fromisoformat(day) if day else clock.today()
        the_time = policy.parse_hhmm(at) if at else None
    except ValueError as e:
        raise click.BadParameter(str(e)) from e
    try:
        result = runs.run(job, the_day, at=the_time, dry_run=dry_run)
    except claims.Busy as e:
        raise click.ClickException(str(e)) from e
    if dry_run:
        for p in result.planned:
            click.echo(f"{p.recipient}\t{p.label}\t{p.kind}\t{p.title}")
    click.echo(result.summary())


@click.group("scheduler", help="The scheduler process (run exactly one).")
def scheduler_group() -> None:
    pass


@scheduler_group.command("run")
@click.option(
    "--now",
    "run_now",
    multiple=True,
    type=click.Choice([j.name for j in JOBS]),
    help="Also run this job once at start.",
)
def scheduler_run(run_now: tuple[str, ...]) -> None:
    """Run the scheduled jobs until stopped (SIGTERM or Ctrl-C)."""
    from .scheduler import runner

    runner.run(current_app._get_current_object(), run_now=run_now)
