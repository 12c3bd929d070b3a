"""A county going live with 50,000 households: how long its ledger takes to import, whether
memory stays flat, and how the API answers a case page meanwhile.

    .venv/bin/python bench/import.py                       # 50,000 households
    BENCH_HOUSEHOLDS=2000 BENCH_RATE=200 .venv/bin/python bench/import.py

Starts a Temporal dev server, a fresh database (embedded PostgreSQL, or DATABASE_URL's server),
one worker and the API in this process; builds a ledger CSV (a head and a child per household),
imports it as `dibao ledger import` does (check, one transaction, rate-limited workflow starts)
while a client GETs one case page in a loop, and prints:

- check, write and start time, and the time per household;
- peak RSS of this process (worker + API + import) sampled every 0.5 s, at each 10% of the
  starts: flat means the import does not hold per-household state beyond the file;
- the p50/p95/max latency of GET /cases/{id} during the import.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import psutil
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from bench.bench_db import seeded_database
from dibao import ledger_import
from dibao.binaries import find_binary
from dibao.codec import data_converter
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.case import Actor
from dibao.domain.enums import Role
from dibao.domain.ledger import case_id_for
from dibao.ledger_files import ledger_csv
from dibao.settings import Settings
from tests.auth import COUNTY as COUNTY_HEADERS
from tests.auth import seed_staff
from tests.conftest import TEST_CODEC_KEYS
from tests.golive import COUNTY, ledger_rows
from worker import build_activities, build_worker
from workflows import search_attributes as sa

HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "50000"))
RATE = float(os.environ.get("BENCH_RATE", "100"))


def rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


async def main(database_url: str) -> None:
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(Settings(_env_file=None, codec_keys=TEST_CODEC_KEYS)),
        dev_server_existing_path=find_binary("temporal"),
        search_attributes=list(sa.ALL_KEYS),
        ui=False,
    )
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        temporal_address=env.client.service_client.config.target_host,
        task_queue="bench-import",
        codec_keys=TEST_CODEC_KEYS,
    )
    await seed_staff(database_url)
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    worker = build_worker(
        env.client, settings, build_activities(sessions, settings, env.client, []), sessions
    )
    app = create_app(settings)
    rows = ledger_rows(HOUSEHOLDS)
    content = ledger_csv(rows)
    print(f"{HOUSEHOLDS} households, {len(rows)} rows, {len(content) / 2**20:.1f} MB CSV")
    actor = Actor("chen.gang", Role.COUNTY_APPROVER, COUNTY)
    memory: list[tuple[int, float]] = []
    latencies: list[float] = []
    started = 0
    async with (
        worker,
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bench",
            headers=COUNTY_HEADERS,
        ) as api,
    ):
        t0 = time.perf_counter()
        checked = await ledger_import.check_file(sessions, content, "bench.csv", COUNTY)
        assert not checked.errors, checked.errors[:5]
        t1 = time.perf_counter()
        imported = await ledger_import.write(
            sessions, settings, checked, "bench.csv", COUNTY, actor
        )
        t2 = time.perf_counter()
        print(f"check {t1 - t0:.1f} s, write {t2 - t1:.1f} s ({imported.import_id})")
        probe = case_id_for(checked.file_sha, checked.households[0].key)
        done = asyncio.Event()

        def progress(n: int, total: int) -> None:
            nonlocal started
            started = n

        async def sample_memory() -> None:
            while not done.is_set():
                memory.append((started, rss_mb()))
                await asyncio.sleep(0.5)

        async def case_pages() -> None:
            while not done.is_set():
                t = time.perf_counter()
                response = await api.get(f"/cases/{probe}")
                if response.status_code == 200:
                    latencies.append(time.perf_counter() - t)
                await asyncio.sleep(0.05)

        watchers = [asyncio.create_task(sample_memory()), asyncio.create_task(case_pages())]
        await ledger_import.start_workflows(
            sessions,
            env.client,
            settings,
            imported.import_id,
            checked.households,
            checked.file_sha,
            actor,
            rate=RATE,
            progress=progress,
        )
        t3 = time.perf_counter()
        done.set()
        await asyncio.gather(*watchers)
    await engine.dispose()
    await env.shutdown()

    total = t3 - t0
    print(f"start {t3 - t2:.1f} s at {RATE:g}/s; total {total:.1f} s")
    print(
        f"per household: {1000 * total / HOUSEHOLDS:.2f} ms "
        f"(check+write {1000 * (t2 - t0) / HOUSEHOLDS:.2f} ms)"
    )
    print("peak RSS by progress:")
    for tenth in range(1, 11):
        upto = [mb for n, mb in memory if n <= HOUSEHOLDS * tenth // 10]
        if upto:
            print(f"  {10 * tenth:3d}%: {max(upto):.0f} MB")
    if latencies:
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        print(
            f"GET /cases/{{id}} during the import: {len(latencies)} requests, "
            f"p50 {1000 * statistics.median(latencies):.0f} ms, p95 {1000 * p95:.0f} ms, "
            f"max {1000 * latencies[-1]:.0f} ms"
        )


if __name__ == "__main__":
    with seeded_database([], {}, "nothing (the import writes the households)") as url:
        asyncio.run(main(url))
