"""学习积分 tracker: create_app() wires config, extensions, blueprints and the CLI — nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from .config import Config
from .extensions import csrf, db, login_manager


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    instance_path = (test_config or {}).get("INSTANCE_PATH")
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.config.from_mapping(Config(app.instance_path).as_dict())
    if test_config:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # The connection used last goes out first: a worker's requests keep to one connection,
        # on which psycopg has prepared the board statements (``database``), instead of
        # taking turns round every connection the pool has opened.
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options.setdefault("pool_use_lifo", True)

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)

    from . import database, security
    from .web import activities as activities_web
    from .web import admin as admin_web
    from .web import api, auth, errors, notices, pages, privacy
    from .web import charts as charts_web
    from .web import fairplay as fairplay_web
    from .web import onboarding as onboarding_web

    database.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(charts_web.bp)
    app.register_blueprint(notices.bp)
    app.register_blueprint(admin_web.bp)
    app.register_blueprint(admin_web.api_bp)
    app.register_blueprint(privacy.bp)
    app.register_blueprint(activities_web.bp)
    app.register_blueprint(onboarding_web.bp)
    app.register_blueprint(fairplay_web.bp)

    from . import cli, cli_flags, cli_imports, cli_reminders, cli_reports, schema

    schema.init_app(app)
    cli.init_app(app)
    cli_flags.init_app(app)
    cli_imports.init_app(app)
    cli_reports.init_app(app)
    cli_reminders.init_app(app)
    return app
