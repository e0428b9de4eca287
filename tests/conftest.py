"""Fixtures: a migrated template database per session, a fresh copy per test.

Tests run on SQLite, and on PostgreSQL too when TRACKER_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import re
import shutil
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tracker import create_app
from tracker.config import test_database_url
from tracker.extensions import db

TODAY = date(2026, 11, 23)  # a Monday
PASSWORD = "correct horse 马"

BACKENDS = ["sqlite"] + (["postgresql"] if test_database_url() else [])


def _config(url: str, instance: Path, **extra) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-" + uuid.uuid4().hex,
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_PATH": str(instance),
        "FIXED_TODAY": TODAY.isoformat(),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        **extra,
    }


def _headers_fit_the_wire(response):
    """Header values in Latin-1, as a real server requires (gunicorn answers 500 otherwise);
    the test client does not check. A value that does not fit fails the request under test."""
    for name, value in response.headers.items():
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise AssertionError(f"header {name} is not Latin-1: {value!r}") from None
    return response


def _migrate(url: str, instance: Path) -> None:
    from tracker.schema import upgrade

    app = create_app(_config(url, instance))
    with app.app_context():
        upgrade()
        db.engine.dispose()


class SqliteTemplate:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "template.sqlite"
        _migrate(f"sqlite:///{self.path}", folder)

    def new(self, target: Path) -> str:
        shutil.copy(self.path, target / "test.sqlite")
        return f"sqlite:///{target / 'test.sqlite'}"

    def drop(self, url: str) -> None:
        pass

    def close(self) -> None:
        pass


class PostgresTemplate:
    def __init__(self, folder: Path, base_url: str) -> None:
        self.base = make_url(base_url)
        self.admin = create_engine(self.base, isolation_level="AUTOCOMMIT")
        self.name = f"tracker_tpl_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{self.name}"'))
        _migrate(self.base.set(database=self.name).render_as_string(False), folder)

    def new(self, target: Path) -> str:
        name = f"tracker_t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"'))
        return self.base.set(database=name).render_as_string(False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        assert name and re.fullmatch(r"tracker_t_[0-9a-f]{12}", name)
        with self.admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        with self.admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def template(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"template-{request.param}")
    if request.param == "sqlite":
        tpl = SqliteTemplate(folder)
    else:
        tpl = PostgresTemplate(folder, _psycopg(test_database_url()))
    yield tpl
    tpl.close()


def _psycopg(url: str) -> str:
    return (
        url.replace("postgresql://", "postgresql+psycopg://", 1)
        if url.startswith("postgresql://")
        else url
    )


@pytest.fixture
def app_factory(template, tmp_path):
    """Build apps on a fresh database; extra config per call."""
    urls = []
    apps = []

    def make(**extra):
        if not urls:
            urls.append(template.new(tmp_path))
        made = create_app(_config(urls[0], tmp_path, **extra))
        made.after_request(_headers_fit_the_wire)
        apps.append(made)
        return made

    yield make
    for made in apps:  # close every pool, or psycopg warns when it is collected
        with made.app_context():
            db.session.remove()
            db.engine.dispose()
    for url in urls:
        template.drop(url)


@pytest.fixture
def app(app_factory):
    app = app_factory()
    with app.app_context():
        from tracker.services import seed

        seed.load_rules()
    yield app


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def org(ctx):
    """A small organisation built through services, the way an admin would.

    委员会 (root) > 机关党委 > 第一支部 > 第一小组, and 第二支部 under 机关党委.
    """
    from tracker.services import org as org_service
    from tracker.services import tx

    start = date(2025, 1, 1)
    with tx.write():
        root = org_service.add_unit("委员会党组", "党组")
        party = org_service.add_unit("机关党委", "党委", root)
        b1 = org_service.add_unit("第一支部", "支部", party, position=1)
        g1 = org_service.add_unit("第一小组", "党小组", b1)
        b2 = org_service.add_unit("第二支部", "支部", party, position=2)
        admin = org_service.add_member(
            "管理员", party, start, login="admin", password=PASSWORD, is_admin=True
        )
        leader = org_service.add_member("张书记", b1, start, login="leader", password=PASSWORD)
        m1 = org_service.add_member("李一", g1, start, login="m1", password=PASSWORD)
        m2 = org_service.add_member("王二", b1, start, login="m2", password=PASSWORD)
        m3 = org_service.add_member("赵三", b2, start, login="m3", password=PASSWORD)
    org_service.make_leader(leader, b1)
    ns = {
        "root": root,
        "party": party,
        "b1": b1,
        "g1": g1,
        "b2": b2,
        "admin": admin,
        "leader": leader,
        "m1": m1,
        "m2": m2,
        "m3": m3,
    }
    return type("Org", (), ns)


def login(client, name: str, password: str = PASSWORD):
    page = client.get("/login")
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.data)
    assert token, "login page has a CSRF token"
    return client.post(
        "/login",
        data={"login": name, "password": password, "csrf_token": token.group(1).decode()},
    )


def csrf_token(client, path: str = "/report") -> str:
    page = client.get(path)
    m = re.search(rb'<meta name="csrf-token" content="([^"]+)"', page.data)
    assert m, f"{path} carries a CSRF token"
    return m.group(1).decode()
