"""Lists through the API at county scale, beside the bare query under them.

    .venv/bin/python -m bench.lists            # embedded PostgreSQL; BENCH_CASES=100000 open
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.lists

Seeds bench/stuck_100k.py's cases (BENCH_CASES open, four times as many closed: 500,000 in
all by default), then asks the API in this process (ASGI, no network) for a cases page (the
first, and one 10,000 cases deep by its `after=` cursor) and a stuck-list page, `--requests`
times each, and runs the bare indexed query of a cases page and the stuck statement itself
the same number of times. Printed: p50/p95 of each and the ratio of API to bare, beside the
goals (stuck page p95 ≤ 10 ms, cases page p95 ≤ 30 ms); a signed-in GET /auth/me, what any
request costs before its own query; this process's CPU per request (the app and its
in-process client: what the request costs whatever else runs); the SQL statements one request
runs; and the machine's load average over the run (other processes on the same cores show up
in the p95). Timings live here, never in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Engine

from api.app import create_app
from api.paging import decode_after
from bench.bench_db import seeded_database
from bench.stuck_100k import CLOSED, OPEN, SEED
from dibao.codec import new_key
from dibao.db import supervision_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.settings import Settings
from tests.auth import COUNTY, SUPERVISOR, seed_staff


class Took(list[float]):
    """Wall milliseconds of each call, and this process's CPU milliseconds per call: the CPU
    part does not grow with other processes' load the way the wall times do."""

    cpu_ms: float = 0.0


# httpx's in-process transport tries `import sniffio` on every request (to detect trio); not
# installed here, the failed import costs each request a search of sys.path that a client over
# the network never pays. Marked absent, the import fails at once.
sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]


async def timed(n: int, call: Callable[[], Awaitable[Any]]) -> Took:
    await call()  # warm
    took = Took()
    cpu = time.process_time()
    for _ in range(n):
        started = time.perf_counter()
        await call()
        took.append((time.perf_counter() - started) * 1000)
    took.cpu_ms = (time.process_time() - cpu) * 1000 / n
    return took


def p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def row(label: str, api: Took, bare: Took, goal_ms: float) -> str:
    return (
        f"{label:<28} API p50/p95 {p(api, 50):6.1f}/{p(api, 95):6.1f} ms "
        f"(Python CPU {api.cpu_ms:4.1f} ms)  "
        f"bare {p(bare, 50):5.2f}/{p(bare, 95):5.2f} ms  "
        f"API/bare p95 {p(api, 95) / p(bare, 95):5.1f}×  "
        f"(goal p95 ≤ {goal_ms:.0f} ms: {'met' if p(api, 95) <= goal_ms else 'NOT met'})"
    )


class Statements:
    """Counts the SQL statements the app's engines run (checkout pings aside)."""

    def __init__(self) -> None:
        self.n = 0
        event.listen(Engine, "before_cursor_execute", self.seen)

    def seen(self, *_: Any) -> None:
        self.n += 1

    async def per_request(self, call: Callable[[], Awaitable[Any]]) -> int:
        before = self.n
        await call()
        return self.n - before


async def measure(url: str, requests: int) -> None:
    await seed_staff(url)
    settings = Settings(_env_file=None, database_url=url, codec_keys=new_key())
    app = create_app(settings)
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dibao.bench"
        ) as client,
    ):

        async def cases_page(after: str | None = None) -> dict[str, Any]:
            params: dict[str, Any] = {"limit": 50, **({"after": after} if after else {})}
            response = await client.get("/cases", params=params, headers=COUNTY)
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            return body

        # A cursor 10,000 cases deep, reached by key as a client walks there.
        deep = None
        for _ in range(200):
            deep = (await cases_page(deep))["next"]

        async def stuck_page() -> None:
            response = await client.get(
                "/supervision/stuck", params={"limit": 50}, headers=SUPERVISOR
            )
            response.raise_for_status()

        async def me() -> None:
            (await client.get("/auth/me", headers=SUPERVISOR)).raise_for_status()

        statements = Statements()
        per_cases = await statements.per_request(cases_page)
        per_stuck = await statements.per_request(stuck_page)
        load_before = os.getloadavg()[0]
        # What any signed-in request costs here: the app, its token look-up, the client.
        api_me = await timed(requests, me)
        api_first = await timed(requests, cases_page)
        api_deep = await timed(requests, lambda: cases_page(deep))
        api_stuck = await timed(requests, stuck_page)

    assert deep is not None
    deep_at, deep_id = decode_after(deep)
    with psycopg.connect(url, autocommit=True) as conn:

        async def bare_cases() -> None:
            conn.execute(
                "SELECT * FROM cases WHERE county_code = '610423' "
                "ORDER BY filed_at DESC, case_id LIMIT 51"
            ).fetchall()

        async def bare_deep() -> None:
            # The page after the key as its two ranges of ix_cases_county_filed.
            conn.execute(
                "SELECT * FROM ("
                "(SELECT * FROM cases WHERE county_code = '610423' AND filed_at = %(at)s "
                "AND case_id > %(id)s ORDER BY case_id LIMIT 51) UNION ALL "
                "(SELECT * FROM cases WHERE county_code = '610423' AND filed_at < %(at)s "
                "ORDER BY filed_at DESC, case_id LIMIT 51)"
                ") page ORDER BY filed_at DESC, case_id LIMIT 51",
                {"at": deep_at, "id": deep_id},
            ).fetchall()

        bare_first = await timed(requests, bare_cases)
        bare_deep_ms = await timed(requests, bare_deep)

    async def bare_stuck() -> None:
        async with sessions() as session:
            await supervision_repo.stuck_cases(
                session, supervision_repo.StuckFilter(now=datetime.now(UTC)), limit=50
            )

    bare_stuck_ms = await timed(requests, bare_stuck)
    await engine.dispose()
    print(
        f"{'signed-in GET /auth/me':<28} API p50/p95 {p(api_me, 50):6.1f}/{p(api_me, 95):6.1f}"
        f" ms (Python CPU {api_me.cpu_ms:4.1f} ms): the floor of every page below"
    )
    print(row("cases, first page", api_first, bare_first, 30))
    print(row("cases, 10,000 deep (after=)", api_deep, bare_deep_ms, 30))
    print(row("stuck list, first page", api_stuck, bare_stuck_ms, 10))
    print(
        f"SQL statements per request: cases page {per_cases}, stuck page {per_stuck}; "
        f"load average (1 min) {load_before:.2f} before the timed requests, "
        f"{os.getloadavg()[0]:.2f} after, on {os.cpu_count()} cores"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with seeded_database(
        SEED, {"open": OPEN, "closed": CLOSED}, f"{OPEN} open + {CLOSED} closed cases"
    ) as url:
        asyncio.run(measure(url, args.requests))


if __name__ == "__main__":
    main()
