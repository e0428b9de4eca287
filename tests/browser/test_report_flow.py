"""End-to-end: a member reports on a phone-sized screen in a real browser.

Runs the real app (migrated and seeded with the demo organisation, real date) in a subprocess
and drives the Debian ``chromium`` package through Playwright's Python client.  No browser is
ever downloaded (never ``playwright install``).  The module is skipped, with a reason, only when
Playwright or Chromium is missing.

Set ``TRACKER_SCREENSHOTS=/some/dir`` to also save mobile and desktop screenshots of every page.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reminders.fakes import free_port

CHROMIUM = Path(os.environ.get("TRACKER_CHROMIUM", "/usr/bin/chromium"))
if not CHROMIUM.exists():
    pytest.skip(
        f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="browser tests need Playwright (pip install playwright)"
)
expect = sync_api.expect

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # Docker's default /dev/shm is 64 MB.  Debian's launcher means to add this flag when
    # /dev/shm is small, but its check breaks when findmnt prints more than one line.
    "--disable-dev-shm-usage",
]
DEMO_PASSWORD = "xuexi2026"  # seeds/demo_org.json
MOBILE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
ROOT = Path(__file__).resolve().parents[2]


# --- the app in a subprocess ---------------------------------------------------------------


def _flask() -> list[str]:
    sibling = Path(sys.executable).with_name("flask")
    return [str(sibling)] if sibling.exists() else [sys.executable, "-m", "flask"]


class LiveServer:
    def __init__(self, url: str, log: Path) -> None:
        self.url = url
        self.log = log

    def __call__(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    """Migrate, seed the demo organisation and serve the app on a free port, real date."""
    folder = tmp_path_factory.mktemp("live")
    # No TRACKER_FIXED_TODAY, no FLASK_DEBUG (its reloader would fork a second process).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "FLASK_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{folder / 't.sqlite'}",
        TRACKER_SECRET_KEY=secrets.token_hex(32),
        PYTHONUNBUFFERED="1",
    )
    flask = [*_flask(), "--app", "tracker"]
    for command in (["db", "upgrade"], ["seed", "demo", "--if-empty"]):
        done = subprocess.run(
            [*flask, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"flask {' '.join(command)} failed:\n{done.stderr}"
    port = free_port()
    log = folder / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*flask, "run", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the app exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url + "/login", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the app did not answer on {url} within 30 s:\n{log.read_text()}")
            time.sleep(0.2)
        yield LiveServer(url, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Tab:
    """A page in a fresh browser context that records every dialog the app opens."""

    def __init__(self, page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        page.on("dialog", self._on_dialog)

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


@pytest.fixture
def open_tab(browser, live_server):
    """``open_tab(login=None, viewport=MOBILE)``: a new tab, logged in as ``login`` if given."""
    contexts = []

    def make(login: str | None = None, viewport: dict = MOBILE) -> Tab:
        mobile = viewport["width"] < 600
        context = browser.new_context(
            viewport=viewport,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            is_mobile=mobile,
            has_touch=mobile,
            device_scale_factor=2 if mobile else 1,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        tab = Tab(context.new_page())
        if login:
            log_in(tab.page, live_server, login)
        return tab

    yield make
    for context in contexts:
        context.close()


def log_in(page, live_server: LiveServer, login: str) -> None:
    page.goto(live_server("/login"))
    page.locator("#login").fill(login)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(live_server("/report"))


def choose_mode(page, label: str) -> None:
    page.get_by_role("radio", name=label, exact=True).check()


# --- the tests -----------------------------------------------------------------------------


def test_quick_form_saves_and_over_cap_errors_in_page(open_tab, live_server):
    tab = open_tab(login="member")
    page = tab.page
    page.goto(live_server("/report"))
    choose_mode(page, "今日积分")
    expect(page.locator("#total")).to_be_visible()
    expect(page.locator("#running-total")).to_be_hidden()

    page.locator("#total").fill("35")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".flash")).to_contain_text("已保存")
    expect(page.locator(".saved strong")).to_have_text("35")
    expect(page.locator("#total")).to_have_value("35")

    page.locator("#total").fill("999")
    page.get_by_role("button", name="保存").click()
    error = page.locator("#err-total")
    expect(error).to_be_visible()
    expect(error).to_contain_text("上限")
    expect(page.locator(".flash")).to_have_count(0)
    expect(page.locator(".saved strong")).to_have_text("35")  # the bad value was not saved
    assert tab.dialogs == []


def test_detailed_form_running_total_updates_live(open_tab, live_server):
    tab = open_tab(login="member")
    page = tab.page
    page.goto(live_server("/report"))
    choose_mode(page, "分项填报")
    total = page.locator("output#running-total")
    expect(total).to_be_visible()
    expect(page.locator("#total")).to_be_hidden()

    inputs = page.locator("input.item:enabled")
    assert inputs.count() >= 2, "today's rules should open at least two categories"
    for i in range(inputs.count()):
        inputs.nth(i).fill("")
    expect(total).to_have_text("0")
    first, second = inputs.nth(0), inputs.nth(1)
    a = min(2, int(first.get_attribute("max")))
    b = min(3, int(second.get_attribute("max")))
    first.fill(str(a))
    expect(total).to_have_text(str(a))
    second.fill(str(b))
    expect(total).to_have_text(str(a + b))
    expect(total).not_to_have_class(re.compile(r"\bover\b"))
    first.fill("")
    expect(total).to_have_text(str(b))
    assert tab.dialogs == []


def test_member_board_shows_my_row(open_tab, live_server):
    tab = open_tab(login="member")
    page = tab.page
    page.goto(live_server("/boards/members?period=week"))
    mine = page.locator("tr.mine")
    expect(mine.first).to_be_visible()
    expect(mine.first).to_contain_text("李学习")
    assert tab.dialogs == []


# --- screenshots for people to look at (opt-in) --------------------------------------------

SHOTS = os.environ.get("TRACKER_SCREENSHOTS")


@pytest.mark.skipif(not SHOTS, reason="set TRACKER_SCREENSHOTS=<dir> to save page screenshots")
@pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["mobile", "desktop"])
def test_screenshots(open_tab, live_server, viewport):
    folder = Path(SHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    size = "mobile" if viewport is MOBILE else "desktop"
    overflow: list[str] = []

    def shoot(page, name: str) -> None:
        page.screenshot(path=folder / f"{size}-{name}.png", full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > viewport["width"]:
            overflow.append(f"{name}: {width}px")

    tab = open_tab(viewport=viewport)
    tab.page.goto(live_server("/login"))
    shoot(tab.page, "login")
    for login in ("member", "leader", "admin"):
        page = open_tab(login=login, viewport=viewport).page
        for mode, label in (("total", "今日积分"), ("cumulative", "总积分"), ("items", "分项填报")):
            page.goto(live_server("/report"))
            choose_mode(page, label)
            shoot(page, f"{login}-report-{mode}")
        for name, path in (
            ("history", "/history"),
            ("members", "/boards/members?period=week"),
            ("units", "/boards/units?period=week"),
            ("dashboard", "/dashboard"),
        ):
            page.goto(live_server(path))
            shoot(page, f"{login}-{name}")
    (folder / f"{size}-overflow.txt").write_text("\n".join(overflow) + "\n")
