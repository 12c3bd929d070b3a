"""Server time of the console's 监督 (stuck list with its charts and alerts) and 运维 (incident
list) pages at 100,000 open cases, beside the bare indexed query each page is built on.

    .venv/bin/python bench/console_ops.py            # embedded PostgreSQL
    BENCH_CASES=20000 .venv/bin/python bench/console_ops.py

Seeds the cases of bench/stuck_100k.py (100,000 open in county 610423 over 20 townships,
400,000 closed, a failing or given-up step on every 199th open case) plus alerts over the last
twelve weeks, a supervisor and an ops user with console sessions. Then times, through the app
in process (no network, no Temporal: neither page asks it), each page's answer; and the bare
repository call of its list. Target: p95 ≤ 100 ms per page; the ratio says what the page adds
(charts, alerts, place names, the template) on top of the list itself.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import os
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_db import seeded_database
from bench.stuck_100k import SEED as STUCK_SEED
from dibao import auth
from dibao.settings import Settings

OPEN = int(os.environ.get("BENCH_CASES", "100000"))
CLOSED = int(os.environ.get("BENCH_CLOSED", str(4 * OPEN)))
RUNS = int(os.environ.get("BENCH_RUNS", "100"))
TARGET_MS = 100.0

SEED = [
    *STUCK_SEED[:-1],
    # An alert for every 50th open case with a deadline, raised over the last 12 weeks.
    """
    INSERT INTO supervisor_alerts (case_id, step_key, kind, county_code, township_code, stage,
        due_at, message, raised_at)
    SELECT case_id, 'overdue-1', 'overdue', county_code, township_code, stage, due_at,
        'bench', now() - (row_number() OVER (ORDER BY case_id) %% 84) * interval '1 day'
    FROM cases WHERE closed_at IS NULL AND due_at IS NOT NULL
        AND right(case_id, 2) IN ('00', '50')
    """,
    "VACUUM ANALYZE",
]

USERS = [
    ("wang.jian", "supervisor", "610423", "王健"),
    ("ma.chao", "ops", "610423", "马超"),
]


def _seed_users(url: str) -> dict[str, str]:
    import psycopg

    now = datetime.now(UTC)
    password_hash = auth.hash_password(secrets.token_urlsafe(16))
    cookies: dict[str, str] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for user_id, role, place, name in USERS:
            conn.execute(
                "INSERT INTO users (user_id, display_name, role, jurisdiction_code, "
                "password_hash) VALUES (%s, %s, %s, %s, %s)",
                (user_id, name, role, place, password_hash),
            )
            token = auth.new_token()
            conn.execute(
                "INSERT INTO console_sessions (token_sha256, user_id, issued_at, last_seen_at, "
                "expires_at) VALUES (%s, %s, %s, %s, %s)",
                (auth.token_digest(token), user_id, now, now, now + timedelta(hours=10)),
            )
            cookies[user_id] = token
    return cookies


def _p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


async def _timed(call: Callable[[], Awaitable[object]]) -> list[float]:
    for _ in range(5):  # warm caches and connections
        await call()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return times


async def measure(url: str) -> bool:
    from api.app import create_app
    from dibao.db import ops_repo, supervision_repo
    from dibao.domain.enums import Stage
    from dibao.domain.ops import StuckReason

    cookies = _seed_users(url)
    # Temporal is connected lazily and never asked by these pages: a key the codec accepts.
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    settings = Settings(
        _env_file=None,
        database_url=url,
        temporal_address="127.0.0.1:1",
        codec_keys=f"bench:{key}",
    )
    app = create_app(settings)
    ok = True
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dibao.bench"
        ) as client,
    ):
        sessions = app.state.sessions

        async def bare_stuck(flt: supervision_repo.StuckFilter) -> None:
            async with sessions() as session:
                await supervision_repo.stuck_cases(session, flt, 51)

        async def bare_failures() -> None:
            async with sessions() as session:
                await ops_repo.list_failures(session, county_code="610423", limit=51)

        now = datetime.now(UTC)
        targets: list[tuple[str, str, str, Callable[[], Awaitable[object]]]] = [
            (
                "监督, first page",
                "wang.jian",
                "/console/supervision",
                lambda: bare_stuck(supervision_repo.StuckFilter(now=now, county_code="610423")),
            ),
            (
                "监督, one township",
                "wang.jian",
                "/console/supervision?township=610423107",
                lambda: bare_stuck(
                    supervision_repo.StuckFilter(
                        now=now, county_code="610423", township_code="610423107"
                    )
                ),
            ),
            (
                "监督, overdue at a stage",
                "wang.jian",
                "/console/supervision?reason=overdue&stage=survey",
                lambda: bare_stuck(
                    supervision_repo.StuckFilter(
                        now=now,
                        county_code="610423",
                        reason=StuckReason.OVERDUE,
                        stage=Stage.SURVEY,
                    )
                ),
            ),
            ("运维, incidents", "ma.chao", "/console/ops", bare_failures),
        ]

        async def part(name: str) -> None:
            async with sessions() as session:
                fn = getattr(supervision_repo, name)
                if name == "alerts_with_state":
                    await fn(session, county_code="610423", limit=20)
                else:
                    await fn(session, now, county_code="610423")

        for name in ("overdue_by_stage", "weekly_counts", "alerts_with_state"):
            times = await _timed(functools.partial(part, name))
            print(f"  part of 监督: {name:<20} p50 {statistics.median(times):6.1f} ms")
        print(
            f"{'page':<26} {'p50':>7} {'p95':>7} {'max':>7}   {'bare p95':>8} {'ratio':>6}"
            f"   (ms, {RUNS} runs)"
        )
        for label, user, path, bare in targets:
            client.cookies.set("dibao_console", cookies[user])

            async def page(path: str = path) -> None:
                response = await client.get(path)
                assert response.status_code == 200, (path, response.status_code, response.text)

            times = await _timed(page)
            bare_times = await _timed(bare)
            p95, bare_p95 = _p(times, 0.95), _p(bare_times, 0.95)
            ok = ok and p95 <= TARGET_MS
            print(
                f"{label:<26} {statistics.median(times):7.1f} {p95:7.1f} {max(times):7.1f}   "
                f"{bare_p95:8.1f} {p95 / bare_p95:6.1f}"
                f"{'' if p95 <= TARGET_MS else '   over target'}"
            )
    return ok


def main() -> None:
    with seeded_database(
        SEED, {"open": OPEN, "closed": CLOSED}, f"{OPEN} open + {CLOSED} closed cases"
    ) as url:
        ok = asyncio.run(measure(url))
    print(f"p95 target {TARGET_MS:g} ms: {'met' if ok else 'MISSED'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
