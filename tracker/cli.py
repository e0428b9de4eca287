"""Command-line interface (``flask --app tracker …``): thin commands that call services."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from .extensions import db
from .models import Member
from .services import clock, rollups, seed


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_group)
    app.cli.add_command(rollups_group)
    app.cli.add_command(users_group)


@click.group("seed", help="Load the default rules or the demo organisation.")
def seed_group() -> None:
    pass


@seed_group.command("rules")
def seed_rules() -> None:
    """Add the default rule versions from seeds/rules.json that are missing."""
    added = seed.load_rules()
    click.echo(f"{added} rule version(s) added")


@seed_group.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has members.")
def seed_demo(if_empty: bool) -> None:
    """The demo organisation with twelve weeks of history (see README for its accounts)."""
    if not seed.is_empty():
        if if_empty:
            click.echo("database already has members; demo not loaded")
            return
        raise click.ClickException("the database already has members; use an empty database")
    with click.progressbar(length=3, label="demo organisation") as bar:
        counts = seed.load_demo(clock.today(), progress=lambda _: bar.update(1))
    click.echo(", ".join(f"{v} {k}" for k, v in counts.items()))


@seed_group.command("synthetic")
@click.option("--members", default=2_000, show_default=True)
@click.option("--units", default=100, show_default=True)
@click.option("--levels", default=5, show_default=True)
@click.option("--days", default=120, show_default=True)
@click.option("--seed", "seed_value", default=7, show_default=True)
def seed_synthetic(members: int, units: int, levels: int, days: int, seed_value: int) -> None:
    """A synthetic organisation for benchmarks (province scale: 100000 members, 5000 units)."""
    from tracker.services import synthetic

    seed.load_rules()
    with click.progressbar(length=members, label="members") as bar:
        counts = synthetic.generate(
            members=members,
            units=units,
            levels=levels,
            days=days,
            today=clock.today(),
            seed=seed_value,
            progress=bar.update,
        )
    click.echo(", ".join(f"{v} {k}" for k, v in counts.items()))


@click.group("rollups", help="Period roll-ups behind the rankings.")
def rollups_group() -> None:
    pass


@rollups_group.command("rebuild")
def rollups_rebuild() -> None:
    """Recompute every roll-up from the daily reports, awards and deductions."""
    with click.progressbar(length=1, label="rebuilding") as bar:
        rows = rollups.rebuild_all(progress=lambda n: None)
        bar.update(1)
    click.echo(f"{rows} roll-up rows written")


@click.group("users", help="Accounts: passwords and API tokens.")
def users_group() -> None:
    pass


def _member(login: str) -> Member:
    member = db.session.execute(select(Member).where(Member.login == login)).scalar_one_or_none()
    if member is None:
        raise click.ClickException(f"no member with login {login!r}")
    return member


@users_group.command("token")
@click.argument("login")
def users_token(login: str) -> None:
    """Issue a new API token for LOGIN (the old one stops working); printed once."""
    from .security import issue_token

    click.echo(issue_token(_member(login)))


@users_group.command("set-password")
@click.argument("login")
@click.password_option()
def users_set_password(login: str, password: str) -> None:
    """Set LOGIN's password (for the first admin; members set their own)."""
    from tracker.security import hash_password
    from tracker.services import audit, tx

    member = _member(login)
    with tx.write():
        member.password_hash = hash_password(password)
        audit.record("member.password", "member", member.id, actor_id=None, member_id=member.id)
    click.echo("password set")
