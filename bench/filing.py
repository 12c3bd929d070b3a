"""Filing under load: POST /cases at 50 concurrent, answered when the case is saved and its
workflow started, never waiting on the notice.

    .venv/bin/python -m bench.filing [--filings 250] [--concurrency 50]

One Temporal dev server (started here), PostgreSQL (DATABASE_URL's server or an embedded one),
one worker and the API in this process (ASGI, no network). Files distinct households, at most
`concurrency` requests in flight, and prints requests/s, answer p50/p95/max, how many answers
came before their notice existed, and how long the notices took to appear after the answers
(the worker's backlog). Beside it, the floor: a bare `start_workflow` of a no-op workflow at
the same concurrency.

Timings live here, never in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from temporalio.worker import Worker

from bench.bare_workflow import BareCaseWorkflow, BareInput, bare_step
from bench.bench_db import seeded_database
from bench.lifecycle import connect, dev_server, household
from dibao import auth
from dibao.codec import new_key
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.settings import Settings
from dibao.temporal_client import register_search_attributes
from worker import build_activities, build_worker
from workflows import search_attributes as sa

TOKEN = "bench-filing-token"


def seed_clerk(url: str) -> None:
    now = datetime.now(UTC)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (user_id, display_name, role, jurisdiction_code, password_hash) "
            "VALUES ('zhang.wei', '张伟', 'village_caseworker', '610423100201', %s)",
            (auth.hash_password(secrets.token_urlsafe(16)),),
        )
        conn.execute(
            "INSERT INTO api_tokens (token_sha256, user_id, issued_at, expires_at) "
            "VALUES (%s, 'zhang.wei', %s, %s)",
            (auth.token_digest(TOKEN), now, now + timedelta(hours=2)),
        )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def bounded(n: int, concurrency: int, one: Any) -> tuple[float, list[Any]]:
    gate = asyncio.Semaphore(concurrency)

    async def run(i: int) -> Any:
        async with gate:
            return await one(i)

    started = time.perf_counter()
    results = await asyncio.gather(*(run(i) for i in range(n)))
    return time.perf_counter() - started, list(results)


async def main(filings: int, concurrency: int) -> None:
    with seeded_database([], {}, "nothing") as url, dev_server() as (target, _server):
        seed_clerk(url)
        settings = Settings(
            _env_file=None,
            codec_keys=new_key(),
            drill_poll_seconds=0,
            database_url=url,
            temporal_address=target,
            task_queue=f"bench-filing-{secrets.token_hex(4)}",
            sdk_metrics_port=0,
            worker_metrics_port=0,
        )
        client = await connect(target, settings)
        await register_search_attributes(client, client.namespace, sa.ALL_KEYS)

        # The floor: a bare start_workflow of a no-op workflow at the same concurrency.
        floor_queue = f"bench-floor-{secrets.token_hex(4)}"
        async with Worker(
            client, task_queue=floor_queue, workflows=[BareCaseWorkflow], activities=[bare_step]
        ):

            async def bare_start(i: int) -> float:
                began = time.perf_counter()
                await client.start_workflow(
                    BareCaseWorkflow.run,
                    BareInput(case_id=f"BARE-{i:06d}", timer_seconds=0.0),
                    id=f"BARE-{secrets.token_hex(6)}",
                    task_queue=floor_queue,
                )
                return (time.perf_counter() - began) * 1000

            floor_s, floor_ms = await bounded(filings, concurrency, bare_start)

        from api.app import create_app

        engine = make_engine(settings)
        sessions = make_sessionmaker(engine)
        app = create_app(settings)
        answered_at: dict[str, float] = {}
        async with (
            build_worker(client, settings, build_activities(sessions, settings, client), sessions),
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://dibao.bench",
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=120,
            ) as api,
        ):

            async def file(i: int) -> tuple[float, bool]:
                began = time.perf_counter()
                response = await api.post("/cases", json=household(i))
                took = (time.perf_counter() - began) * 1000
                assert response.status_code == 201, response.text[:300]
                body = response.json()
                answered_at[body["case_id"]] = time.time()
                return took, not body["notices"]

            wall, results = await bounded(filings, concurrency, file)
            # Then wait for the worker to issue every first notice.
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                with psycopg.connect(url) as conn:
                    issued = conn.execute("SELECT count(DISTINCT case_id) FROM notices").fetchone()
                if issued and issued[0] >= filings:
                    break
                await asyncio.sleep(0.5)
            with psycopg.connect(url) as conn:
                firsts = conn.execute(
                    "SELECT case_id, min(issued_at) FROM notices GROUP BY case_id"
                ).fetchall()
        await engine.dispose()

    times = [t for t, _ in results]
    before_notice = sum(1 for _, pending in results if pending)
    lag = [
        max(0.0, at.timestamp() - answered_at[case_id])
        for case_id, at in firsts
        if case_id in answered_at
    ]
    print(f"{filings} filings, {concurrency} concurrent")
    print(f"{'':<34} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    print(
        f"{'POST /cases':<34} {filings / wall:8.1f} {statistics.median(times):8.1f} "
        f"{pct(times, 0.95):8.1f} {max(times):8.1f}"
    )
    print(
        f"{'floor: bare start_workflow':<34} {filings / floor_s:8.1f} "
        f"{statistics.median(floor_ms):8.1f} {pct(floor_ms, 0.95):8.1f} {max(floor_ms):8.1f}"
    )
    print(f"p95 ratio to the floor: {pct(times, 0.95) / max(pct(floor_ms, 0.95), 0.001):.1f}x")
    print(f"answered before their notice existed: {before_notice} of {filings}")
    if lag:
        print(
            f"notice issued after the answer: p50 {statistics.median(lag):.2f} s, "
            f"p95 {pct(lag, 0.95):.2f} s ({len(lag)} of {filings} issued)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--filings", type=int, default=250)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.filings, args.concurrency))
