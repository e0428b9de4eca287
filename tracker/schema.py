"""Schema migrations (Flask-Migrate over Alembic), loaded only by what migrates.

Flask-Migrate imports Alembic and its templating: about 9 MB that every web worker would
otherwise hold without ever using it. ``flask db …`` loads them when one of its commands is
asked for, and ``upgrade()`` when code brings a database up to date (tests, benchmarks).
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app

from .extensions import db

DIRECTORY = Path(__file__).resolve().parent.parent / "migrations"


def register(app: Flask) -> None:
    """Flask-Migrate on ``app``, once: what ``flask db`` commands and ``upgrade`` read."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(DIRECTORY), render_as_batch=True)


def upgrade() -> None:
    """Bring the current app's database to the newest revision."""
    from flask_migrate import upgrade as upgrade_to

    register(current_app._get_current_object())  # type: ignore[attr-defined]
    upgrade_to()


class Commands(click.Group):
    """``flask db``: stands in for Flask-Migrate's group until the command line names it, then
    hands it the whole invocation (its options, its callback, its commands)."""

    def _group(self, ctx: click.Context | None) -> click.Group:
        from flask.cli import ScriptInfo

        if ctx is not None:
            register(ctx.ensure_object(ScriptInfo).load_app())
        from flask_migrate.cli import db as group

        return group

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        return self._group(parent).make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context):
        return ctx.command.invoke(ctx)


def init_app(app: Flask) -> None:
    app.cli.add_command(Commands("db", help="Perform database migrations."))
