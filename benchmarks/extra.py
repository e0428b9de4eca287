"""Benchmarks beyond the boards, on a database benchmarks/run.py has built.

    .venv/bin/python benchmarks/extra.py --scale province            # SQLite file of that scale
    .venv/bin/python benchmarks/extra.py --database postgresql+psycopg://postgres@127.0.0.1/bench

Self-report writes through gunicorn on 127.0.0.1 (a bounded load: a count and a time limit),
resident memory of its workers, chart rendering cold, warm and answered by ETag, the daily
reminder selection, and an XLSX import of daily reports. Each figure is printed beside a
baseline measured in the same run. Nothing here asserts a time. Writes go to TODAY, which
the generated data leaves empty.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import io
import json
import os
import platform
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from run import TODAY, timed  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from tracker import create_app  # noqa: E402
from tracker.domain.periods import period_of  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.models import DailyReport, Member, Membership, Unit  # noqa: E402
from tracker.services import org, tx  # noqa: E402


def percentiles(samples: list[float]) -> dict:
    samples = sorted(samples)
    if not samples:
        return {}

    def at(q: float) -> float:
        return round(samples[min(len(samples) - 1, int(round(q * (len(samples) - 1))))], 3)

    return {"p50_ms": round(statistics.median(samples), 3), "p95_ms": at(0.95), "p99_ms": at(0.99)}


def show(name: str, figure: dict, baseline: dict | None, note: str = "") -> dict:
    def cell(f, key):
        return f"{f[key]:>9.2f}" if f and key in f else f"{'':>9}"

    print(
        f"{name:44} {cell(figure, 'p50_ms')} {cell(figure, 'p95_ms')} {cell(figure, 'p99_ms')}"
        f" {cell(baseline, 'p50_ms')} {cell(baseline, 'p95_ms')}  {note}",
        flush=True,
    )
    return {"figure": name, "value": figure, "baseline": baseline, "note": note}


def bench_admin() -> Member:
    """The benchmark's own admin account, made on first use."""
    admin = db.session.execute(
        select(Member).where(Member.login == "bench-admin")
    ).scalar_one_or_none()
    if admin is None:
        with tx.write():
            admin = org.add_member(
                "基准测试管理员", org.root_unit(), TODAY - timedelta(days=400), is_admin=True
            )
            admin.login = "bench-admin"
    return admin


def admin_token() -> str:
    from tracker.security import issue_token

    return issue_token(bench_admin())


def writers(count: int) -> list[int]:
    """Members on the roster today, who have no report for today yet."""
    return list(
        db.session.execute(
            select(Membership.member_id)
            .join(Member, Member.id == Membership.member_id)
            .where(
                Membership.valid_to.is_(None),
                Member.active_to.is_(None),
                Member.is_admin.is_(False),
                ~select(DailyReport.id)
                .where(DailyReport.member_id == Member.id, DailyReport.day == TODAY)
                .exists(),
            )
            .order_by(Membership.member_id.desc())
            .limit(count)
        ).scalars()
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def member_tokens(members: list[int]) -> dict[int, str]:
    """An API token for each of these members, as each would have issued their own (only the
    hashes are stored; written in one statement, the benchmark's setup is not timed)."""
    from tracker.security import hash_token
    from tracker.services import driver

    tokens = {m: secrets.token_urlsafe(32) for m in members}
    with tx.write():
        driver.execute_many(
            "UPDATE member SET token_hash = ? WHERE id = ?",
            [(hash_token(token), m) for m, token in tokens.items()],
        )
    return tokens


def load(
    port: int,
    members: list[int],
    *,
    tokens: dict[int, str] | None = None,
    leader: str | None = None,
    count: int,
    seconds: float,
    threads: int,
    read: bool = False,
):
    """PUT today's total for distinct members from ``threads`` clients; stop at either limit.

    Each member writes their own report with their own token (``tokens``), or a leader writes
    every member's with one token (``leader``, the member named in the query). With ``read``
    each member GETs their own report of the day before instead (the same token lookup and
    route, one report read, no write): what the same server and clients manage for a
    request that writes nothing.
    Returns the latencies (ms), the count per status, the wall time (s) and the CPU time (s)
    this process spent making the requests.
    """
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    queue = iter(members[:count])
    deadline = time.perf_counter() + seconds
    day, yesterday = TODAY.isoformat(), (TODAY - timedelta(days=1)).isoformat()

    def worker() -> None:
        rng = random.Random()
        while time.perf_counter() < deadline:
            with lock:
                member_id = next(queue, None)
            if member_id is None:
                return
            body = None if read else json.dumps({"total": rng.randint(1, 40)})
            if read:
                path, token = f"/api/v1/reports/{yesterday}", tokens[member_id]
            elif tokens is not None:
                path, token = f"/api/v1/reports/{day}", tokens[member_id]
            else:
                path, token = f"/api/v1/reports/{day}?member={member_id}", leader
            t0 = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request(
                "GET" if read else "PUT",
                path,
                body=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            response = conn.getresponse()
            response.read()
            status = response.status
            conn.close()
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    started, cpu = time.perf_counter(), time.process_time()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return latencies, statuses, time.perf_counter() - started, time.process_time() - cpu


@contextmanager
def gunicorn(
    url: str, workers: int, threads: int = 1, config: Path | str = ROOT / "gunicorn.conf.py"
) -> Iterator[subprocess.Popen]:
    """The app under gunicorn on a free port of 127.0.0.1 (the port is ``server.port``), with
    the project's gunicorn settings unless ``config`` names others."""
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=url,
        TRACKER_FIXED_TODAY=TODAY.isoformat(),
        TRACKER_SECRET_KEY="bench-" + os.urandom(8).hex(),
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(config),
            "-w",
            str(workers),
            "--threads",
            str(threads),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "tracker:create_app()",
        ],
        cwd=ROOT,
        env=env,
    )
    server.port = port  # type: ignore[attr-defined]
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        # The master listens at once, but each worker imports the app first: wait until one
        # answers and the workers' CPU time stands still, so the load does not time their start.
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", "/login")
                ok = conn.getresponse().status == 200
                conn.close()
                if ok:
                    break
            except OSError:
                time.sleep(0.1)
        used = -1.0
        while time.perf_counter() < deadline and used != (used := cpu_seconds(server.pid)):
            time.sleep(0.5)
        yield server
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def bench_writes(
    url: str, results: list, count: int, seconds: float, workers: int, threads: int, clients: int
) -> None:
    """Self-reports: members writing their own day with their own tokens, as the target
    means; then a leader's token writing many members' days (each such write also goes
    through the fair-play check for bursts of token writes). Distinct members each, so
    every write adds a day. First, the same members GET their report of the day before:
    what the server and the clients, sharing the machine's cores, manage for a request that
    writes nothing."""
    from tracker.domain.validation import ReportInput
    from tracker.services import reports

    leader = admin_token()
    members = writers(2 * count + 300)
    count = min(count, (len(members) - 300) // 2)
    own, for_others, warm = members[:count], members[count : 2 * count], members[2 * count :]
    tokens = member_tokens(own)
    # Baseline: the same write in-process (validation, roll-ups, audit; no HTTP, no contention).
    samples = []
    for member_id in warm:
        member = db.session.get(Member, member_id)
        t0 = time.perf_counter()
        reports.put(member, member, TODAY, ReportInput(total=random.randint(1, 40)), via="token")
        samples.append((time.perf_counter() - t0) * 1000)
    in_process = percentiles(samples)
    db.session.rollback()  # end this process's read snapshot: it would hold back checkpoints
    served = f"{workers} workers" + (f" × {threads} threads" if threads > 1 else "")
    with gunicorn(url, workers, threads) as server:
        for name, members_of, auth, baseline in (
            # What the server and these clients manage when the request writes nothing: the
            # same token lookup and route, one report read, no write transaction.
            (
                f"GET yesterday's report via gunicorn ({served})",
                own,
                {"tokens": tokens, "read": True},
                None,
            ),
            (f"self-report PUT via gunicorn ({served})", own, {"tokens": tokens}, in_process),
            (
                f"PUT for members, a leader's token ({served})",
                for_others,
                {"leader": leader},
                in_process,
            ),
        ):
            cpu_before = cpu_seconds(server.pid)
            latencies, statuses, wall, client = load(
                server.port, members_of, **auth, count=count, seconds=seconds, threads=clients
            )
            done = max(1, len(latencies))
            cpu = round((cpu_seconds(server.pid) - cpu_before) * 1000 / done, 2)
            client = round(client * 1000 / done, 2)
            figure = percentiles(latencies)
            rate = round(len(latencies) / wall, 1)
            figure["per_second"] = rate
            figure["requests"] = len(latencies)
            figure["statuses"] = statuses
            figure["worker_cpu_ms_per_request"] = cpu
            figure["client_cpu_ms_per_request"] = client
            note = (
                f"{rate}/s over {len(latencies)} requests {statuses}, {cpu} ms of worker CPU "
                f"and {client} ms of the clients' each"
            )
            if baseline:
                note += "; baseline: in-process put of a member's own report"
            results.append(show(name, figure, baseline, note))
        worker_rss = [rss_mb(pid) for pid in worker_pids(server.pid)]
        master = rss_mb(server.pid)
    results.append(
        {
            "figure": "web worker resident memory (MB)",
            "value": worker_rss,
            "baseline": master,
            "note": "after the write load; baseline: the gunicorn master (no app loaded)",
        }
    )
    print(f"{'web worker RSS after load (MB)':44} {worker_rss}  master {master}", flush=True)


def bench_memory(url: str, results: list, passes: int = 3) -> None:
    """Resident memory of web workers that have served what a day brings: boards of every
    period for the root and a branch, charts, a few reports; then also what only some
    requests need: an export of the whole organisation's week as XLSX and a quarterly review
    as PDF. Each request on a connection of its own, every round ``passes`` times, so that
    both workers serve each kind. Baseline: the gunicorn master, which loads no app."""
    units = list(db.session.execute(select(Unit).order_by(Unit.depth, Unit.id)).scalars())
    root, branch = units[0], next(u for u in units if u.depth == 2)
    token = admin_token()
    members = writers(passes * 10)
    db.session.rollback()  # end this process's read snapshot before the server's turn
    day = TODAY - timedelta(days=1)
    usual = []
    for kind in ("day", "week", "month", "quarter", "year"):
        key = period_of(kind, day).key
        for unit in (root, branch):
            usual += [
                ("GET", f"/api/v1/leaderboards/members?period={key}&unit={unit.id}"),
                ("GET", f"/api/v1/leaderboards/units?period={key}&parent={unit.id}"),
            ]
        usual.append(("GET", f"/api/v1/charts/units.png?period={key}&parent={root.id}"))
        usual.append(("GET", f"/api/v1/charts/members.png?period={key}&unit={branch.id}"))
    usual.append(("GET", f"/api/v1/charts/trend.png?unit={branch.id}&date={day}"))
    seldom = [
        ("GET", f"/api/v1/exports/members.xlsx?period={period_of('week', day).key}&unit={root.id}"),
        ("GET", f"/api/v1/reviews/quarterly.pdf?unit={branch.id}&quarter={day}"),
    ]

    def ask(server, requests, writes=()) -> None:
        for method, path in [*requests, *writes]:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
            body = json.dumps({"total": 12}) if method == "PUT" else None
            conn.request(
                method,
                path,
                body=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status not in (200, 201):
                raise SystemExit(f"{method} {path} answered {response.status}")

    def workers(server) -> dict[int, float]:
        return {pid: rss_mb(pid) or 0.0 for pid in worker_pids(server.pid)}

    with gunicorn(url, 2) as server:
        phases = [("settled, before any request", workers(server))]
        for n in range(passes):
            chunk = members[n * 10 : (n + 1) * 10]
            ask(server, usual, [("PUT", f"/api/v1/reports/{TODAY}?member={m}") for m in chunk])
        phases.append(("after boards, charts, reports", workers(server)))
        for _ in range(passes):
            ask(server, seldom)
        # A worker replaced for its memory has gone: wait until its successor has settled
        # (two workers, whose CPU time stands still).
        used = -1.0
        time.sleep(1)
        while len(workers(server)) < 2 or used != (used := cpu_seconds(server.pid)):
            time.sleep(0.5)
        phases.append(("after an XLSX export and a PDF review too", workers(server)))
        master = rss_mb(server.pid)
    ceiling = os.environ.get("TRACKER_WORKER_MAX_RSS_MB", "200 (gunicorn.conf.py)")
    seen = set(phases[0][1])
    for label, found in phases:
        replaced = len(set(found) - seen)
        seen |= set(found)
        value = sorted(found.values())
        figure = f"web worker RSS {label} (MB)"
        results.append(
            {
                "figure": figure,
                "value": value,
                "baseline": master,
                "replaced": replaced,
                "note": f"{len(usual)} GETs and 10 PUTs, {passes} times; then the whole "
                "organisation's week as XLSX and a quarterly review as PDF, "
                f"{passes} times; workers replaced since the figure before: {replaced} "
                f"(memory ceiling {ceiling} MB); baseline: the gunicorn master (no app loaded)",
            }
        )
        print(f"{figure:62} {value}  master {master}, replaced {replaced}", flush=True)


def worker_pids(master: int) -> list[int]:
    """The processes a gunicorn master has started: its workers."""
    found = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def cpu_seconds(master: int) -> float:
    """User and system CPU time of a gunicorn master's workers so far."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in worker_pids(master):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def bench_charts(db_url: str, results: list, repeat: int, requests: int) -> None:
    """Charts drawn cold: no picture kept, and each sample a chart not drawn before in the
    process (another unit, or another week), so that the strings the canvas keeps help only
    as much as a worker's earlier charts would (ranks, numbers, ticks, legends, the motto)."""
    from tracker.charts import canvas, draw
    from tracker.charts import data as chart_data

    root = org.root_unit()
    admin = bench_admin()
    weeks = [period_of("week", TODAY - timedelta(days=7 * k)) for k in range(1, 4)]
    week = weeks[0]
    parents = (
        db.session.execute(
            select(Unit)
            .where(Unit.id.in_(select(Unit.parent_id).where(Unit.parent_id.is_not(None))))
            .order_by(Unit.id)
        )
        .scalars()
        .all()
    )
    unit_charts = [
        (admin, w, p) for w in weeks for p in parents
    ]  # every branch's children, by week
    t0 = time.perf_counter()
    chart = chart_data.unit_chart(admin, week, root)
    draw.render(chart, "png")
    cold = {"p50_ms": round((time.perf_counter() - t0) * 1000, 3)}
    cold["p95_ms"] = cold["p50_ms"]

    def each(make, charts: list[tuple]) -> Iterator:
        """``make`` for the next of ``charts`` (viewer, week, unit) each time, in turn."""
        for viewer, w, u in charts * (repeat // len(charts) + 1):
            yield partial(make, viewer, w, u)

    def as_served(draw_one, charts: Iterator) -> dict:
        """Timed as a served worker draws: its heap frozen, each figure collected after."""
        samples = []
        for _ in range(repeat):
            made = next(charts)
            t0 = time.perf_counter()
            draw_one(made)
            samples.append((time.perf_counter() - t0) * 1000)
            gc.collect()  # a served chart's collection runs once its response has gone out
        return percentiles(samples)

    def ours(made) -> None:
        draw.render(made(), "png")

    def unaided(made) -> None:
        """The same chart as matplotlib draws it alone: its own canvas, its constrained layout
        engine, Pillow's default zlib level, RGBA."""
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        from tracker.charts import fonts

        with matplotlib.rc_context(fonts.rc()):
            fig = draw.figure(made())
            FigureCanvasAgg(fig)
            fig.set_layout_engine("constrained")
            fig.savefig(io.BytesIO(), format="png", dpi=150, metadata=draw.METADATA["png"])

    data_only, _ = timed(repeat, chart_data.unit_chart, admin, week, root)
    results.append(
        show("unit chart PNG · cold (first in process)", cold, data_only, "baseline: data only")
    )
    # A unit's member chart: a member's version is its top 10, drawn for one of its members;
    # a leader's adds up to 30 of those below target (40 bars, the tallest chart drawn).
    a_member = dict(
        db.session.execute(
            select(Membership.unit_id, func.min(Membership.member_id))
            .join(Member, Member.id == Membership.member_id)
            .where(Membership.valid_to.is_(None), Member.is_admin.is_(False))
            .group_by(Membership.unit_id)
        ).all()
    )
    units = db.session.execute(select(Unit).where(Unit.id.in_(a_member))).scalars().all()
    members = [(db.session.get(Member, a_member[u.id]), w, u) for u in units for w in weeks]
    tall = [u for u in units if len(chart_data.member_chart(admin, week, u).bars) >= 30]
    tall_charts = [(admin, w, u) for u in tall for w in weeks]  # a unit, then its next week

    gc.collect()
    gc.freeze()
    try:
        for label, made, pairs, what in (
            ("unit chart PNG", chart_data.unit_chart, unit_charts, "a branch's children"),
            (
                "member chart PNG, a leader's version",
                chart_data.member_chart,
                tall_charts,
                "a unit's top 10 and up to 30 below target, 30-40 bars",
            ),
            (
                "member chart PNG, a member's version",
                chart_data.member_chart,
                members,
                "a unit's top 10",
            ),
        ):
            canvas.kept.clear()  # as a worker starts: only the sample charts' strings kept
            draw.warm()
            drawn = as_served(ours, each(made, pairs))
            baseline = as_served(unaided, each(made, pairs))
            results.append(
                show(
                    f"{label} · uncached",
                    drawn,
                    baseline,
                    f"{what}, {repeat} charts each of another unit or week; heap frozen and "
                    "each figure collected after, as served; baseline: matplotlib alone (its "
                    "canvas, its constrained layout engine, zlib 6)",
                )
            )
    finally:
        gc.unfreeze()
    from flask import current_app

    client = current_app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {admin_token()}"
    url = f"/api/v1/charts/units.png?period={week.key}&parent={root.id}"
    first = client.get(url)
    etag = first.headers.get("ETag", "")
    cached, response = timed(repeat, client.get, url, headers={"If-None-Match": etag})
    full, _ = timed(max(3, repeat // 3), client.get, url)
    results.append(
        show(
            "unit chart via API · ETag answered (304)",
            cached,
            full,
            f"status {response.status_code}; baseline: the full 200 response",
        )
    )
    db.session.rollback()  # end this process's read snapshot before the server's turn
    unit_urls = [
        f"/api/v1/charts/units.png?period={w.key}&parent={p.id}" for _, w, p in unit_charts
    ]
    member_urls = [
        f"/api/v1/charts/members.png?period={w.key}&unit={u.id}" for _, w, u in tall_charts
    ]
    with tempfile.TemporaryDirectory() as empty:
        plain = Path(empty) / "plain.conf.py"
        plain.write_text("")
        configs = (ROOT / "gunicorn.conf.py", plain)
        served, unsettled = charts_served(db_url, configs, unit_urls, admin_token(), requests)
        served_members, unsettled_members = charts_served(
            db_url, configs, member_urls, admin_token(), requests
        )
    results.append(
        show(
            "member chart via gunicorn, a leader's, not cached",
            served_members,
            unsettled_members,
            f"{requests} GETs one after another of {len(member_urls)} charts in turn (30-40 "
            "bars), 2 workers; baseline: workers started without "
            "gunicorn.conf.py, asked in turn with the same GETs",
        )
    )
    results.append(
        show(
            "unit chart via gunicorn, not cached",
            served,
            unsettled,
            f"{requests} GETs one after another of {len(unit_urls)} charts in turn, 2 workers; "
            "baseline: workers started without "
            "gunicorn.conf.py (no fonts warmed, no heap frozen), asked in turn with the same GETs",
        )
    )


def charts_served(
    db_url: str, configs: tuple[Path, ...], paths: list[str], token: str, requests: int
) -> list[dict]:
    """Latencies of full chart GETs, each on a connection of its own, through one gunicorn per
    config, all running at once and asked in turn, so that each meets the machine as it is.
    The GETs go through ``paths`` in turn."""
    samples: list[list[float]] = [[] for _ in configs]
    with ExitStack() as stack:
        servers = [stack.enter_context(gunicorn(db_url, 2, config=c)) for c in configs]
        for i in range(requests):
            path = paths[i % len(paths)]
            for server, taken in zip(servers, samples, strict=True):
                t0 = time.perf_counter()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
                response = conn.getresponse()
                body = response.read()
                taken.append((time.perf_counter() - t0) * 1000)
                conn.close()
                if response.status != 200 or not body.startswith(b"\x89PNG"):
                    raise SystemExit(f"chart GET answered {response.status}: {body[:200]!r}")
    return [percentiles(taken) for taken in samples]


def reminder_prefs() -> int:
    """Give every tenth member preferences, as members who open the settings page do: some
    opt out, some are on leave, some chose a later time or e-mail. Made on first use."""
    from sqlalchemy import func, insert

    from tracker.models.reminders import ReminderPrefs

    have = db.session.execute(select(func.count()).select_from(ReminderPrefs)).scalar_one()
    if have:
        return have
    ids = db.session.execute(
        select(Member.id).where(Member.id % 10 == 3, Member.is_admin.is_(False))
    ).scalars()
    rows = []
    for i, member_id in enumerate(ids):
        rows.append(
            {
                "member_id": member_id,
                "nudge_opt_out": i % 4 == 0,
                "nudge_time": ("19:00", "21:00", None)[i % 3],
                "channel": "email" if i % 5 == 0 else "inapp",
                "email": f"m{member_id}@example.org" if i % 5 == 0 else None,
                "leave_from": TODAY - timedelta(days=3) if i % 7 == 0 else None,
                "leave_to": TODAY + timedelta(days=4) if i % 7 == 0 else None,
            }
        )
    with tx.write():
        for i in range(0, len(rows), 5_000):
            db.session.execute(insert(ReminderPrefs), rows[i : i + 5_000])
    return len(rows)


def bench_reminders(results: list) -> None:

    from tracker.services.reminders import runs, selection

    with_prefs = reminder_prefs()
    day = TODAY  # a Monday on which nobody has reported yet: everyone is a candidate
    figure, chosen = timed(3, selection.daily, day, None)

    def plain():
        reported = select(DailyReport.member_id).where(DailyReport.day == day)
        return db.session.execute(
            select(func.count())
            .select_from(Member)
            .where(Member.active_to.is_(None), Member.id.not_in(reported))
        ).scalar_one()

    baseline, candidates = timed(3, plain)
    figure["chosen"] = len(chosen.recipients)
    figure["skipped"] = chosen.skipped
    results.append(
        show(
            "daily reminder selection (all members)",
            figure,
            baseline,
            f"{len(chosen.recipients)} chosen, skipped {chosen.skipped}, {with_prefs} with "
            f"preferences; baseline: one SQL count of members without a report ({candidates})",
        )
    )
    # The run as the scheduler starts it, short of writing: selected, then every message
    # rendered from the organisation's template (a dry run writes nothing, so it repeats).
    evening = time_of_day(20, 0)
    run, dry = timed(3, runs.run, "daily", day, at=evening, dry_run=True)
    results.append(
        show(
            "daily reminder run, dry (selected and rendered)",
            run,
            figure,
            f"{len(dry.planned)} messages rendered; baseline: the selection alone",
        )
    )


def bench_counts(results: list) -> None:
    """How many members of the whole organisation met their target, for each period kind:
    counted from the score counts (with members who joined, left or moved looked at one by
    one) beside ranking every member, which is also the check that both counts agree."""
    from tracker.services import rankings

    root = org.root_unit()
    for kind in ("week", "month", "quarter", "year"):
        period = period_of(kind, TODAY - timedelta(days=1))
        fast, met = timed(3, rankings.met_target, period, root, TODAY)

        def plain(period=period):
            board = rankings.member_board(period, root, TODAY)
            return sum(
                1 for s in board.standings if s.points >= rankings.period_target(s.active_days)
            )

        baseline, expected = timed(3, plain)
        mismatch = "" if met == expected else "  MISMATCH"
        figure = show(
            f"members who met the target · {kind} · root",
            fast,
            baseline,
            f"{met} of them{mismatch}; baseline: ranking every member ({expected})",
        )
        results.append({**figure, "same_count": met == expected})


def bench_exports(results: list) -> None:
    """An admin's export of the whole organisation's weekly member ranking: every member on
    the roster, one row each, as XLSX (streamed), beside the same table as CSV."""
    from tracker.services import exports

    week = period_of("week", TODAY - timedelta(days=3))
    table = exports.member_table(bench_admin(), week, org.root_unit())
    xlsx, data = timed(3, exports.render, table, "xlsx")
    csv_, _ = timed(3, exports.render, table, "csv")
    results.append(
        show(
            f"member ranking export, XLSX ({len(table.rows)} rows)",
            xlsx,
            csv_,
            f"{len(data)} bytes; baseline: the same table as CSV",
        )
    )


def bench_import(results: list, rows: int, commit_rows: int, rebuild: bool = True) -> None:
    """A 学习报表-style XLSX of ``rows`` days' points: every member, day after day, back from
    yesterday (many replace stored days, as a re-exported report does)."""
    from openpyxl import Workbook, load_workbook

    from tracker.services import imports

    admin = bench_admin()
    members = db.session.execute(
        select(Member.id, Member.name, Unit.name, Membership.valid_from, Member.active_from)
        .join(Membership, Membership.member_id == Member.id)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(
            Membership.valid_to.is_(None),
            Member.active_to.is_(None),
            Member.is_admin.is_(False),
        )
        .order_by(Member.id)
    ).all()
    rng = random.Random(time.time_ns())  # new points each run, so a rerun replaces days

    days: list[tuple[int, date, int]] = []

    def sheet_of(count: int) -> tuple[bytes, int]:
        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(["姓名", "单位", "日期", "今日积分", "备注"])
        days.clear()
        back = 1
        while len(days) < count and back < 366:
            day = TODAY - timedelta(days=back)
            for member_id, name, unit, joined, active in members:
                if len(days) == count:
                    break
                if joined <= day and active <= day:
                    points = rng.randint(1, 40)
                    sheet.append([name, unit, day, points, ""])
                    days.append((member_id, day, points))
            back += 1
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue(), len(days)

    data, written = sheet_of(rows)
    t0 = time.perf_counter()
    for _ in load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True):
        pass
    read_only = {"p50_ms": round((time.perf_counter() - t0) * 1000, 1)}
    read_only["p95_ms"] = read_only["p50_ms"]
    t0 = time.perf_counter()
    result = imports.preview("reports", "bench.xlsx", data, admin, backfill_days=400)
    preview = {"p50_ms": round((time.perf_counter() - t0) * 1000, 1)}
    preview["p95_ms"] = preview["p50_ms"]
    errors = getattr(result, "errors", []) or []
    results.append(
        show(
            f"XLSX import preview ({written} rows)",
            preview,
            read_only,
            f"{len(errors)} row errors {[str(e) for e in errors[:2]]}; "
            "baseline: reading the sheet with openpyxl",
        )
    )
    if commit_rows < written:  # a commit of the first rows only, said in the figure's name
        data, written = sheet_of(commit_rows)
    t0 = time.perf_counter()
    try:
        done = imports.commit("reports", "bench.xlsx", data, admin, backfill_days=400)
        note = f"committed {dict(done.counts)}"
    except Exception as e:  # report what happened, the figure still stands
        note = f"{e.__class__.__name__}"
    committed = {"p50_ms": round((time.perf_counter() - t0) * 1000, 1)}
    committed["p95_ms"] = committed["p50_ms"]
    results.append(show(f"XLSX import commit ({written} rows)", committed, read_only, note))
    if rebuild:
        bench_import_rollups(results, days)


def bench_import_rollups(results: list, days: list[tuple[int, date, int]]) -> None:
    """The roll-up step of that import alone: bulk deltas against rebuilding each member
    (the path imports took before), each in a transaction that is rolled back."""
    from tracker.services import rollups

    def timed_once(step) -> dict:
        db.session.connection(execution_options={"tracker_write": True})
        t0 = time.perf_counter()
        step()
        elapsed = round((time.perf_counter() - t0) * 1000, 1)
        db.session.rollback()
        return {"p50_ms": elapsed, "p95_ms": elapsed}

    members = {m for m, _, _ in days}
    bulk = timed_once(lambda: rollups.apply_many((m, d, p, 1) for m, d, p in days))
    each = timed_once(lambda: rollups.rebuild_members(members))
    results.append(
        show(
            f"import roll-ups, bulk ({len(days)} days)",
            bulk,
            each,
            f"baseline: rebuilding each of the {len(members)} members' roll-ups",
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--database", help="SQLAlchemy URL (default: the scale's SQLite file)")
    parser.add_argument("--name", help="results name (default: <scale>-<dialect>-extra)")
    parser.add_argument("--writes", type=int, default=5_000, help="at most this many PUTs")
    parser.add_argument("--seconds", type=float, default=20, help="and for at most this long")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--clients", type=int, default=8, help="load generator threads")
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--import-commit-rows", type=int, default=100_000)
    parser.add_argument(
        "--import-rebuild",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time the import's roll-ups against rebuilding each member (minutes on PostgreSQL)",
    )
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument(
        "--chart-requests", type=int, default=100, help="chart GETs through gunicorn, each setup"
    )
    parser.add_argument(
        "--only",
        default="writes,memory,charts,reminders,exports,import,counts",
        help="comma-separated figures to measure (default: all)",
    )
    args = parser.parse_args()
    url = args.database or f"sqlite:///{ROOT / 'benchmarks' / '.data' / (args.scale + '.sqlite')}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": tempfile.mkdtemp(prefix="tracker-bench-"),
            "FIXED_TODAY": TODAY.isoformat(),
            "SECRET_KEY": os.urandom(16).hex(),
        }
    )
    results: list[dict] = []
    with app.app_context():
        dialect = db.engine.dialect.name
        print(
            f"\n{args.scale} on {dialect}: ms\n{'figure':44} {'p50':>9} {'p95':>9} {'p99':>9}"
            f" {'base p50':>9} {'base p95':>9}"
        )
        only = set(args.only.split(","))
        if "writes" in only:
            bench_writes(
                url,
                results,
                args.writes,
                args.seconds,
                args.workers,
                args.threads,
                args.clients,
            )
            db.session.remove()
        if "memory" in only:
            bench_memory(url, results)
            db.session.remove()
        if "charts" in only:
            bench_charts(url, results, args.repeat, args.chart_requests)
        if "reminders" in only:
            bench_reminders(results)
        if "exports" in only:
            bench_exports(results)
        if "import" in only:
            bench_import(results, args.import_rows, args.import_commit_rows, args.import_rebuild)
        if "counts" in only:
            bench_counts(results)
    name = args.name or f"{args.scale}-{dialect}-extra"
    out = ROOT / "benchmarks" / "results" / f"{name}.json"
    out.write_text(
        json.dumps(
            {
                "scale": args.scale,
                "dialect": dialect,
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                f"Python {platform.python_version()}",
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "figures": results,
            },
            ensure_ascii=False,
            indent=2,
            default=str,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"\nwritten {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
