"""Ranking benchmarks: the roll-up path beside the plain aggregate and a Redis sorted set.

    .venv/bin/python benchmarks/run.py --scale small            # CI smoke run (SQLite)
    .venv/bin/python benchmarks/run.py --scale province         # 100,000 members, 5,000 units
    .venv/bin/python benchmarks/run.py --database postgresql+psycopg://postgres@127.0.0.1/bench

Every figure is printed beside its baselines measured in the same run, and the run checks
that the fast path returns the same ranking as the plain aggregate. Results go to
benchmarks/results/<name>.json. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Date, bindparam, func, literal, or_, select, text, union_all  # noqa: E402

from tracker import create_app  # noqa: E402
from tracker.domain.periods import period_of  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.models import Adjustment, DailyReport, Member, Membership, Unit  # noqa: E402
from tracker.services import rankings, seed, synthetic  # noqa: E402

SCALES = {
    "small": {"members": 2_000, "units": 100, "levels": 5, "days": 120},
    "medium": {"members": 20_000, "units": 1_000, "levels": 5, "days": 180},
    "province": {"members": 100_000, "units": 5_000, "levels": 5, "days": 365},
}
TODAY = date(2026, 11, 23)


def timed(repeat: int, fn, *args, **kwargs) -> tuple[dict, object]:
    samples, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        samples.append((time.perf_counter() - t0) * 1000)
        db.session.rollback()  # each sample in a transaction of its own, as each request is
        for arg in args:  # reload what the rollback expired, outside the timing
            if hasattr(arg, "_sa_instance_state"):
                db.session.refresh(arg)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    return {"p50_ms": round(statistics.median(samples), 3), "p95_ms": round(p95, 3)}, result


def _plain_sums(period, unit: Unit):
    """Each member's points from dated rows on the days they belonged to the subtree: daily
    reports' totals and leaders' awards and deductions, each summed with its own joins (so
    each keeps the plan it would have alone), then added up."""
    parts = []
    for table, points in ((DailyReport, DailyReport.total), (Adjustment, Adjustment.points)):
        parts.append(
            select(table.member_id, func.sum(points).label("points"))
            .join(Membership, Membership.member_id == table.member_id)
            .join(Unit, Unit.id == Membership.unit_id)
            .join(Member, Member.id == table.member_id)
            .where(
                table.day >= period.start,
                table.day <= period.end,
                table.day >= Membership.valid_from,
                or_(Membership.valid_to.is_(None), table.day <= Membership.valid_to),
                table.day >= Member.active_from,
                or_(Member.active_to.is_(None), table.day <= Member.active_to),
                Unit.path.startswith(unit.path),
            )
            .group_by(table.member_id)
        )
    both = union_all(*parts).subquery()
    return select(both.c.member_id, func.sum(both.c.points).label("points")).group_by(
        both.c.member_id
    )


def plain_top(period, unit: Unit, limit: int = 20) -> list[tuple[int, int]]:
    """The baseline: sum dated rows of the days each member belonged to the subtree."""
    sums = _plain_sums(period, unit).subquery()
    q = select(sums.c.member_id, sums.c.points).order_by(sums.c.points.desc(), sums.c.member_id)
    return [(m, int(p)) for m, p in db.session.execute(q.limit(limit))]


def plain_rank(period, unit: Unit, points: int) -> int:
    """One plus the members above ``points``; below zero, members without rows count too."""
    sums = _plain_sums(period, unit).subquery()
    above, with_rows = db.session.execute(
        select(func.count().filter(sums.c.points > points), func.count()).select_from(sums)
    ).one()
    if points < 0:
        above += plain_roster(period, unit) - with_rows
    return above + 1


def plain_roster(period, unit: Unit) -> int:
    """Members who belonged to the subtree while active on some day of the period: the
    three spans (membership, active dates, period) meet where each starts before the others
    end."""
    starts = [Membership.valid_from, Member.active_from, literal(period.start, Date)]
    ends = [
        func.coalesce(Membership.valid_to, literal(period.end, Date)),
        func.coalesce(Member.active_to, literal(period.end, Date)),
        literal(period.end, Date),
    ]
    q = (
        select(func.count(Membership.member_id.distinct()))
        .join(Member, Member.id == Membership.member_id)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(Unit.path.startswith(unit.path), *[a <= b for a in starts for b in ends])
    )
    return db.session.execute(q).scalar_one()


def redis_client():
    try:
        import redis
    except ImportError:
        return None, "the redis package is not installed"
    try:
        client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=0.5)
        client.ping()
        return client, ""
    except Exception as e:  # no server: the column is skipped with the reason
        return None, f"no Redis at 127.0.0.1:6379 ({e.__class__.__name__})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument("--database", help="SQLAlchemy URL (default: a SQLite file per scale)")
    parser.add_argument("--repeat", type=int, default=0, help="samples per figure")
    parser.add_argument("--name", help="results file name (default: <scale>-<dialect>)")
    parser.add_argument("--days", type=int, help="days of history (default: the scale's)")
    parser.add_argument(
        "--baseline-samples",
        type=int,
        default=3,
        help="samples of each baseline (the whole board, the plain aggregate); at province "
        "scale a plain unit board takes minutes",
    )
    parser.add_argument(
        "--no-unit-baseline",
        action="store_true",
        help="skip the plain unit aggregate (minutes a board on a year of province data); "
        "unit boards are then not checked",
    )
    args = parser.parse_args()
    scale = dict(SCALES[args.scale])
    if args.days:
        scale["days"] = args.days
    # A p95 wants samples enough that one stray sample does not set it: of 15 it was the
    # second largest. The fast paths take about a millisecond, so 100 cost little.
    repeat = args.repeat or (30 if args.scale == "small" else 100)
    data_dir = ROOT / "benchmarks" / ".data"
    data_dir.mkdir(exist_ok=True)
    url = args.database or f"sqlite:///{data_dir / (args.scale + '.sqlite')}"
    instance = tempfile.mkdtemp(prefix="tracker-bench-")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": instance,
            "FIXED_TODAY": TODAY.isoformat(),
            "SECRET_KEY": os.urandom(16).hex(),
        }
    )
    with app.app_context():
        from tracker.schema import upgrade

        upgrade()
        dialect = db.engine.dialect.name
        build = None
        if seed.is_empty():
            seed.load_rules()
            t0 = time.perf_counter()
            done = [0]

            def progress(n: int) -> None:
                done[0] += n
                if done[0] % 10_000 == 0:
                    print(f"  {done[0]} members, {time.perf_counter() - t0:.0f} s", flush=True)

            counts = synthetic.generate(today=TODAY, progress=progress, **scale)
            build = {
                "seconds": round(time.perf_counter() - t0, 1),
                "rows": counts,
                "scale": scale,
            }
            print(f"built {args.scale} data in {build['seconds']} s: {counts}", flush=True)
        results = run(
            args.scale, repeat, dialect, build, args.baseline_samples, not args.no_unit_baseline
        )
    name = args.name or f"{args.scale}-{dialect}"
    out = ROOT / "benchmarks" / "results" / f"{name}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten {out}")
    return 0 if results["correct"] else 1


PLAIN_UNITS = text(
    "SELECT c.id, SUM(d.points) FROM (SELECT member_id, day, total AS points FROM daily_report "
    "UNION ALL SELECT member_id, day, points FROM adjustment) d "
    "JOIN membership ms ON ms.member_id = d.member_id AND d.day >= ms.valid_from "
    "AND (ms.valid_to IS NULL OR d.day <= ms.valid_to) "
    "JOIN member m ON m.id = d.member_id AND d.day >= m.active_from "
    "AND (m.active_to IS NULL OR d.day <= m.active_to) "
    "JOIN unit u ON u.id = ms.unit_id "
    "JOIN unit c ON c.parent_id = :parent AND u.path >= c.path "
    "AND u.path < substr(c.path, 1, length(c.path) - 1) || '0' "
    "WHERE d.day >= :start AND d.day <= :end GROUP BY c.id"
).bindparams(bindparam("start", type_=Date), bindparam("end", type_=Date))


def plain_units(period, parent: Unit) -> dict[int, int]:
    """The baseline for unit boards: each child's points summed from dated rows in one query."""
    sums = dict(
        db.session.execute(
            PLAIN_UNITS, {"parent": parent.id, "start": period.start, "end": period.end}
        ).all()
    )
    children = db.session.execute(select(Unit.id).where(Unit.parent_id == parent.id)).scalars()
    return {c: int(sums.get(c, 0)) for c in children}


def run(
    scale: str, repeat: int, dialect: str, build, few: int = 3, unit_baseline: bool = True
) -> dict:
    units = list(db.session.execute(select(Unit).order_by(Unit.depth, Unit.id)).scalars())
    root = units[0]
    deep = max(units, key=lambda u: (u.depth, -u.id))
    mid = next(u for u in units if u.depth == 2)
    probes = {"root": root, "mid": mid, "deep": deep}
    r, why_no_redis = redis_client()
    rows, correct = [], True
    header = (
        f"{'figure':52} {'fast p50':>9} {'fast p95':>9} {'rows p95':>9} "
        f"{'plain p95':>10} {'redis p95':>9} {'×plain':>7}"
    )
    print(f"\n{scale} on {dialect}: p50/p95 in ms; fast over {repeat} samples, others {few}")
    print("rows = the whole board ranked from the roll-ups (the path before subtree roll-ups)")
    print(header)
    api = _api_client()
    for kind in ("day", "week", "month", "quarter", "year"):
        period = period_of(kind, TODAY - timedelta(days=1))
        for label, unit in probes.items():
            whole, board = timed(few, rankings.member_board, period, unit)
            fast, cut = timed(repeat, rankings.member_slice, period, unit, None, limit=20)
            plain, top = timed(few, plain_top, period, unit)
            fast_top = [(s.member_id, s.points) for s in cut.top if s.points > 0]
            same = [p for _, p in fast_top] == [p for _, p in top[: len(fast_top)]]
            same &= _facts(cut.top) == _facts(board.standings[:20])
            correct &= same
            redis_figure = redis_rank = None
            if r is not None:
                key = f"bench:{scale}:{kind}:{unit.id}"
                pipe = r.pipeline()
                pipe.delete(key)
                scores = {str(s.member_id): s.points for s in board.standings}
                for i in range(0, len(scores), 10_000):
                    pipe.zadd(key, dict(list(scores.items())[i : i + 10_000]))
                pipe.execute()
                redis_figure, _ = timed(repeat, r.zrevrange, key, 0, 19, withscores=True)
            rows.append(
                _row(
                    f"members top 20 · {kind} · {label} ({len(board.standings)})",
                    fast,
                    plain,
                    redis_figure,
                    same,
                    whole,
                )
            )
            if board.standings:
                me = _reporting_member(board)
                fast_rank, got = timed(
                    repeat, rankings.member_slice, period, unit, me.member_id, limit=0
                )
                plain_r, want = timed(few, plain_rank, period, unit, me.points)
                i = board.position(me.member_id)
                ok = got.me is not None and got.me.rank == want
                ok &= _facts(got.window) == _facts(board.standings[max(0, i - 2) : i + 3])
                correct &= ok
                if r is not None:
                    redis_rank, _ = timed(repeat, r.zrevrank, key, str(me.member_id))
                rows.append(
                    _row(
                        f"member rank+neighbours · {kind} · {label}",
                        fast_rank,
                        plain_r,
                        redis_rank,
                        ok,
                        whole,
                    )
                )
                # Most members early in a period hold no points and have no rows; those with
                # deductions rank below them all. Both are found next to them by id.
                for what, other in (
                    ("a member without points", _member_without_points(board)),
                    ("a member with deductions", _member_with_deductions(board)),
                ):
                    if other is None:
                        continue
                    fast_o, got = timed(
                        repeat, rankings.member_slice, period, unit, other.member_id, limit=0
                    )
                    plain_o, want = timed(few, plain_rank, period, unit, other.points)
                    i = board.position(other.member_id)
                    ok = got.me is not None and got.me.rank == want == other.rank
                    ok &= _facts(got.window) == _facts(board.standings[max(0, i - 2) : i + 3])
                    correct &= ok
                    rows.append(
                        _row(f"rank of {what} · {kind} · {label}", fast_o, plain_o, None, ok, whole)
                    )
            if r is not None:
                r.delete(key)
        for label, parent in (("root", root), ("mid", mid)):
            plain_u, want = None, None
            if unit_baseline:
                plain_u, want = timed(few, plain_units, period, parent)
            for metric in ("avg", "participation", "activity", "total"):
                fast, got = timed(repeat, rankings.unit_board, period, parent, metric)
                ok = {s.unit.id: s.stats.points for s in got} == want if unit_baseline else None
                correct &= ok is not False
                rows.append(
                    _row(f"units · {kind} · {metric} · {label}", fast, plain_u, None, ok, None)
                )
    if api is not None:
        rows.extend(_api_figures(api, probes, repeat))
    return {
        "scale": scale,
        "dialect": dialect,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build": build,
        "samples": {"fast": repeat, "baselines": few},
        "unit_baseline": unit_baseline,
        "redis": "measured" if r is not None else f"skipped: {why_no_redis}",
        "correct": correct,
        "figures": rows,
    }


def _facts(standings) -> list[tuple]:
    return [
        (s.member_id, s.points, s.reported_days, s.active_days, s.rank, s.change) for s in standings
    ]


def _reporting_member(board):
    """A member in the middle of those with points (who look at their rank)."""
    with_points = [s for s in board.standings if s.points > 0] or board.standings
    return with_points[len(with_points) // 2]


def _member_without_points(board):
    """A member in the middle of those without points, if any."""
    zeros = [s for s in board.standings if s.points == 0]
    return zeros[len(zeros) // 2] if zeros else None


def _member_with_deductions(board):
    """The member with deductions nearest zero (their neighbours above hold no points), if any."""
    below = [s for s in board.standings if s.points < 0]
    return below[0] if below else None


def _api_client():
    """A test client with a plain member's API token (None if the data has no such member)."""
    from flask import current_app

    from tracker.models import LeaderRole
    from tracker.security import issue_token

    leaders = select(LeaderRole.member_id)
    member = db.session.execute(
        select(Member)
        .where(Member.is_admin.is_(False), Member.id.not_in(leaders), Member.active_to.is_(None))
        .order_by(Member.id)
        .limit(1)
    ).scalar_one_or_none()
    if member is None:
        return None
    token = issue_token(member)
    client = current_app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def _api_figures(client, probes, repeat) -> list[dict]:
    """Whole requests through the WSGI app (routing, auth, JSON), without a network."""
    out = []
    print("\nthrough the HTTP API (Flask test client, bearer token, no network)")
    for kind, key in (
        ("week", period_of("week", TODAY - timedelta(days=1)).key),
        ("year", str(TODAY.year)),
    ):
        for label in ("root", "deep"):
            url = f"/api/v1/leaderboards/members?period={key}&unit={probes[label].id}&limit=20"
            figure, response = timed(repeat, client.get, url)
            ok = response.status_code == 200
            out.append(_row(f"API members · {kind} · {label}", figure, None, None, ok, None))
        url = f"/api/v1/leaderboards/units?period={key}&parent={probes['root'].id}&metric=avg"
        figure, response = timed(repeat, client.get, url)
        ok = response.status_code == 200
        out.append(_row(f"API units · {kind} · root", figure, None, None, ok, None))
    return out


def _row(name, fast, plain, redis_figure, same, whole) -> dict:
    speedup = round(plain["p95_ms"] / fast["p95_ms"], 1) if plain and fast["p95_ms"] else None
    print(
        f"{name:52} {fast['p50_ms']:>9.3f} {fast['p95_ms']:>9.3f} "
        f"{(whole or {}).get('p95_ms', float('nan')):>9.1f} "
        f"{(plain or {}).get('p95_ms', float('nan')):>10.1f} "
        f"{(redis_figure or {}).get('p95_ms', float('nan')):>9.3f} "
        f"{speedup if speedup is not None else '':>7}"
        f"{'  not checked' if same is None else '' if same else '  MISMATCH'}",
        flush=True,
    )
    return {
        "figure": name,
        "fast": fast,
        "rows": whole,
        "plain": plain,
        "redis": redis_figure,
        "speedup_vs_plain": speedup,
        "same_ranking": same,
    }


if __name__ == "__main__":
    raise SystemExit(main())
