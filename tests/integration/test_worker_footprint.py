"""A web worker holds what every request needs, not what only some commands and downloads do."""

from __future__ import annotations

import json
import os
import subprocess
import sys

# Loaded on first use: migrations (``flask db``, about 9 MB with Alembic), spreadsheets
# (imports and exports, about 6 MB) and the quarterly review's PDF (about 10 MB).
LOADED_WHEN_ASKED = (
    "flask_migrate",
    "alembic",
    "openpyxl",
    "python_calamine",
    "matplotlib.backends.backend_pdf",
    "tracker.charts.review_pdf",
)

WORKER = """
import json, sys
from tracker import create_app
from tracker.serving import settle
app = create_app()
with app.app_context():
    settle()
print(json.dumps(sorted(m for m in sys.modules if m in {names})))
"""


def _loaded(tmp_path, extra: str = "") -> list[str]:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'worker.sqlite'}")
    env.pop("TRACKER_TEST_DATABASE_URL", None)
    code = WORKER.format(names=set(LOADED_WHEN_ASKED)).replace("print(", extra + "print(")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_settled_worker_has_not_loaded_what_only_some_requests_use(tmp_path):
    assert _loaded(tmp_path) == []


def test_what_a_request_needs_is_loaded_when_it_is_asked_for(tmp_path):
    # The same probe sees the libraries once something uses them: it can tell them apart.
    used = (
        "from tracker.services.imports import tables\n"
        "sheet = tables.template_bytes('xlsx', ['姓名'], [['张三']])\n"
        "assert tables.read_table('a.xlsx', sheet, ['姓名']).rows\n"
        "from tracker.charts import review_pdf\n"
        "from tracker import schema\n"
        "schema.register(app)\n"
    )
    assert _loaded(tmp_path, used) == sorted(LOADED_WHEN_ASKED)
