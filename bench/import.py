"""A county going live with 50,000 households: how long its ledger takes to import, beside
floors measured in the same run, whether memory stays flat, and how the API answers a case
page meanwhile.

    .venv/bin/python bench/import.py                       # 50,000 households
    BENCH_HOUSEHOLDS=10000 BENCH_RATE=25 BENCH_BARE=2000 .venv/bin/python bench/import.py

Laid out as in production: a Temporal dev server, a fresh database (embedded PostgreSQL, or
DATABASE_URL's server), the worker in its own process (`python worker.py`), and the API in this
one. The ledger (a CSV, a head and a child per household) is uploaded to POST /ledger/imports,
which stores it and answers 202; the import's workflow checks and writes it in the worker
(status checking → importing) and starts the cases' workflows at BENCH_RATE a second
(DIBAO_LEDGER_IMPORT_RATE) until done, while a client GETs the page of a case imported before
(GET /cases/{id}, which asks its workflow) every 50 ms. Prints:

- the floors: the same households' rows (every table the import writes) COPYed into bare
  tables of the same columns (no index, no constraint); the file parsed and checked alone; the
  rate's own floor (households / rate); BENCH_BARE bare workflows (one task, no activity)
  started at the same rate and concurrency on a worker in this process;
- the import: the upload's answer, the check + write (in the worker), the starts, the worker
  catching up (the last household's case answers its query), per household;
- peak RSS of the API process and of the worker process, overall and at each 10% of the
  starts: flat means neither holds per-household state beyond the file being checked (and the
  worker's workflow cache);
- the p50/p95/max latency of the case page during each phase.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import psutil
import psycopg
from psycopg.types.json import Jsonb
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from bench.bare_start import BareStartWorkflow
from bench.bench_db import seeded_database
from dibao.binaries import find_binary
from dibao.codec import data_converter
from dibao.db import ledger_repo
from dibao.domain.enums import Role
from dibao.domain.ledger import case_id_for, check_ledger, file_sha256
from dibao.ledger_files import ledger_csv, read_ledger
from dibao.messages.case import Actor
from dibao.settings import Settings
from tests.auth import COUNTY as COUNTY_HEADERS
from tests.auth import seed_staff
from tests.conftest import TEST_CODEC_KEYS
from tests.golive import COUNTY, id_number, ledger_rows
from worker import workflow_runner
from workflows import search_attributes as sa
from workflows.case import CaseWorkflow

ROOT = Path(__file__).resolve().parent.parent
HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "50000"))
RATE = float(os.environ.get("BENCH_RATE", "25"))
BARE = int(os.environ.get("BENCH_BARE", str(HOUSEHOLDS)))
CONCURRENCY = 8  # DIBAO_LEDGER_IMPORT_CONCURRENCY's default, for the import and the floor
TASK_QUEUE = "bench-import"
BARE_QUEUE = "bench-import-bare"


def rss_mb(process: psutil.Process) -> float:
    try:
        return float(process.memory_info().rss) / 2**20
    except psutil.NoSuchProcess:
        return 0.0


def start_worker(database_url: str, temporal: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal,
        "DIBAO_TASK_QUEUE": TASK_QUEUE,
        "DIBAO_CODEC_KEYS": TEST_CODEC_KEYS,
        "DIBAO_SDK_METRICS_PORT": "0",
        "DIBAO_WORKER_METRICS_PORT": "0",
        "DIBAO_MAX_CONCURRENT_WORKFLOW_TASKS": os.environ.get("BENCH_WORKFLOW_TASKS", "100"),
    }
    if env.pop("PYTHONDONTWRITEBYTECODE", None):
        # As a deployed worker has: bytecode for the modules its sandbox imports per workflow.
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "dibao-pycache")
    return subprocess.Popen(
        [sys.executable, str(ROOT / "worker.py")], env=env, stdout=subprocess.DEVNULL
    )


def probe_ledger() -> bytes:
    """One household apart from the big file's (their heads have even numbers)."""
    rows = ledger_rows(1)
    rows[0]["certificate_no"] = rows[1]["certificate_no"] = "PROBE-1"
    rows[0]["id_number"], rows[1]["id_number"] = id_number(1), id_number(3)
    return ledger_csv(rows)


def percentiles(label: str, values: list[float]) -> None:
    if not values:
        print(f"{label}: no answers")
        return
    values = sorted(values)
    p95 = values[int(0.95 * (len(values) - 1))]
    print(
        f"{label}: {len(values)} requests, p50 {1000 * statistics.median(values):.0f} ms, "
        f"p95 {1000 * p95:.0f} ms, max {1000 * values[-1]:.0f} ms"
    )


def per_household(seconds: float) -> str:
    return f"{seconds:.1f} s = {1000 * seconds / HOUSEHOLDS:.2f} ms/household"


def copy_floor(database_url: str, content: bytes) -> tuple[float, float, int]:
    """(parse + check seconds, COPY seconds, rows): the import's rows COPYed into bare tables."""
    t0 = time.perf_counter()
    parsed = read_ledger(content, "bench.csv")
    households = check_ledger(parsed.rows, COUNTY, datetime.now(UTC).date()).households
    t1 = time.perf_counter()
    sha = file_sha256(content)
    actor = Actor("chen.gang", Role.COUNTY_APPROVER, COUNTY)
    now = datetime.now(UTC)
    written = 0
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE SCHEMA floor")
        tables = [
            m.__table__.name
            for m, _ in ledger_repo.rows_of(
                households[:1],
                import_id="LI-floor",
                file_sha=sha,
                rule_pack_id="seed-default",
                rule_pack_version=1,
                actor=actor,
                at=now,
            )
        ]
        for table in tables:
            conn.execute(f"CREATE TABLE floor.{table} (LIKE public.{table} INCLUDING DEFAULTS)")
        conn.commit()
        t2 = time.perf_counter()
        with conn.cursor() as cur:
            for start in range(0, len(households), ledger_repo.CHUNK):
                for model, rows in ledger_repo.rows_of(
                    households[start : start + ledger_repo.CHUNK],
                    import_id="LI-floor",
                    file_sha=sha,
                    rule_pack_id="seed-default",
                    rule_pack_version=1,
                    actor=actor,
                    at=now,
                ):
                    columns = list(rows[0])
                    names = ", ".join(columns)
                    with cur.copy(
                        f"COPY floor.{model.__table__.name} ({names}) FROM STDIN"
                    ) as copy:
                        for row in rows:
                            copy.write_row(
                                [
                                    Jsonb(row[c]) if isinstance(row[c], dict) else row[c]
                                    for c in columns
                                ]
                            )
                    written += len(rows)
        conn.commit()
        t3 = time.perf_counter()
        conn.execute("DROP SCHEMA floor CASCADE")
        conn.commit()
    return t1 - t0, t3 - t2, written


async def bare_floor(client: Any, count: int) -> float:
    """Seconds to start `count` bare workflows at RATE, CONCURRENCY at once, and see each
    finish its one task on a worker in this process."""
    gate = asyncio.Semaphore(CONCURRENCY)
    interval = 1.0 / RATE
    handles: list[Any] = []
    async with Worker(
        client,
        task_queue=BARE_QUEUE,
        workflows=[BareStartWorkflow],
        workflow_runner=workflow_runner(),
    ):
        began = time.monotonic()

        async def start(n: int) -> None:
            delay = began + n * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            async with gate:
                handles.append(
                    await client.start_workflow(
                        BareStartWorkflow.run,
                        n,
                        id=f"bare-{n}",
                        task_queue=BARE_QUEUE,
                        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    )
                )

        for first in range(0, count, 200):
            await asyncio.gather(*(start(n) for n in range(first, min(count, first + 200))))
        for handle in handles:
            await handle.result()
        return time.monotonic() - began


async def main(database_url: str) -> None:
    converter = data_converter(Settings(_env_file=None, codec_keys=TEST_CODEC_KEYS))
    env = await WorkflowEnvironment.start_local(
        data_converter=converter,
        dev_server_existing_path=find_binary("temporal"),
        search_attributes=list(sa.ALL_KEYS),
        ui=False,
    )
    temporal = env.client.service_client.config.target_host
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        temporal_address=temporal,
        task_queue=TASK_QUEUE,
        codec_keys=TEST_CODEC_KEYS,
        ledger_import_rate=RATE,
        ledger_import_concurrency=CONCURRENCY,
    )
    await seed_staff(database_url)
    rows = ledger_rows(HOUSEHOLDS)
    content = ledger_csv(rows)
    print(
        f"{HOUSEHOLDS} households, {len(rows)} rows, {len(content) / 2**20:.1f} MB CSV, "
        f"{RATE:g} starts/s, {CONCURRENCY} at once, "
        f"{os.environ.get('BENCH_WORKFLOW_TASKS', '100')} workflow tasks at once, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    check_s, copy_s, copied = copy_floor(database_url, content)
    print(
        f"floor: parse + check alone {per_household(check_s)}; COPY of the same {copied} rows "
        f"into bare tables {per_household(copy_s)}; the rate alone {per_household(HOUSEHOLDS / RATE)}",
        flush=True,
    )
    worker = start_worker(database_url, temporal)
    worker_process = psutil.Process(worker.pid)
    api_process = psutil.Process()
    app = create_app(settings)
    memory: list[tuple[int, str, float, float]] = []
    phase = "idle"
    latencies: dict[str, list[float]] = {
        "upload": [],
        "check + write": [],
        "starts": [],
        "catch-up": [],
    }
    started = 0
    marks: dict[str, float] = {}
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://bench",
                headers=COUNTY_HEADERS,
                timeout=600,
            ) as api,
        ):
            # The case whose page is read throughout: imported and started beforehand.
            probe_content = probe_ledger()
            response = await api.post(
                "/ledger/imports",
                params={"county": COUNTY},
                files={"file": ("probe.csv", probe_content)},
            )
            assert response.status_code == 202, response.text
            probe_import = response.json()["import_id"]
            while not (await api.get(f"/ledger/imports/{probe_import}")).json()["finished"]:
                await asyncio.sleep(0.5)
            probe = case_id_for(file_sha256(probe_content), "PROBE-1")
            while (await api.get(f"/cases/{probe}")).json().get("stage") != "recipient":
                await asyncio.sleep(0.5)
            done = asyncio.Event()

            async def sample_memory() -> None:
                while not done.is_set():
                    memory.append((started, phase, rss_mb(api_process), rss_mb(worker_process)))
                    await asyncio.sleep(0.25)

            async def case_pages() -> None:
                while not done.is_set():
                    t = time.perf_counter()
                    page = await api.get(f"/cases/{probe}")
                    if phase in latencies and page.status_code == 200:
                        latencies[phase].append(time.perf_counter() - t)
                    await asyncio.sleep(0.05)

            watchers = [asyncio.create_task(sample_memory()), asyncio.create_task(case_pages())]
            t0 = time.perf_counter()
            phase = "upload"
            response = await api.post(
                "/ledger/imports", params={"county": COUNTY}, files={"file": ("bench.csv", content)}
            )
            assert response.status_code == 202, response.text[:2000]
            import_id = response.json()["import_id"]
            marks["answered"] = time.perf_counter()
            phase = "check + write"
            print(
                f"upload answered 202 in {marks['answered'] - t0:.2f} s ({import_id}, "
                f"status {response.json()['status']})",
                flush=True,
            )
            shown = 0
            while True:
                body = (await api.get(f"/ledger/imports/{import_id}")).json()
                if body["status"] != "checking" and "checked" not in marks:
                    marks["checked"] = time.perf_counter()
                    phase = "starts"
                    print(
                        f"  {body['status']} after {marks['checked'] - t0:.1f} s "
                        f"(check + write in the worker)",
                        flush=True,
                    )
                started = body["done"]
                if HOUSEHOLDS and started * 10 // HOUSEHOLDS > shown:
                    shown = started * 10 // HOUSEHOLDS
                    pages = sorted(latencies["starts"]) or [0.0]
                    print(
                        f"  {started} started, {time.perf_counter() - marks['checked']:.0f} s; "
                        f"RSS {rss_mb(api_process):.0f} MB (API), "
                        f"{rss_mb(worker_process):.0f} MB (worker); case page p95 so far "
                        f"{1000 * pages[int(0.95 * (len(pages) - 1))]:.0f} ms",
                        flush=True,
                    )
                if body["finished"]:
                    assert body["status"] == "done", body
                    break
                await asyncio.sleep(0.25)
            marks["done"] = time.perf_counter()
            phase = "catch-up"
            last = case_id_for(file_sha256(content), rows[-1]["certificate_no"])
            for _ in range(120):  # a worker short of CPU may miss a query's deadline
                try:
                    await env.client.get_workflow_handle(last).query(
                        CaseWorkflow.state, rpc_timeout=timedelta(seconds=30)
                    )
                    break
                except RPCError:
                    await asyncio.sleep(1)
            marks["caught up"] = time.perf_counter()
            phase = "idle"
            done.set()
            await asyncio.gather(*watchers)
    finally:
        worker.terminate()
        worker.wait(30)
    bare_s = await bare_floor(env.client, BARE) if BARE else 0.0
    await env.shutdown()

    answered, checked = marks["answered"] - t0, marks["checked"] - marks["answered"]
    starts, catch_up = marks["done"] - marks["checked"], marks["caught up"] - marks["done"]
    total = marks["caught up"] - t0
    print()
    print(f"{HOUSEHOLDS} households at {RATE:g} starts/s:")
    print(f"  upload answered (202)            {per_household(answered)}")
    print(f"  check + write (worker)           {per_household(checked)}")
    print(f"    floor: parse + check alone     {per_household(check_s)}")
    print(f"    floor: COPY of the same rows   {per_household(copy_s)}")
    print(f"  starts (rate-limited)            {per_household(starts)}")
    print(f"    floor: households / rate       {per_household(HOUSEHOLDS / RATE)}")
    if BARE:
        print(
            f"    floor: {BARE} bare workflows    {bare_s:.1f} s = "
            f"{1000 * bare_s / BARE:.2f} ms/workflow (same rate and concurrency)"
        )
    print(f"  worker caught up after           {catch_up:.1f} s")
    print(f"  total                            {per_household(total)}")
    print(
        f"peak RSS: API {max(a for *_, a, _ in memory):.0f} MB, "
        f"worker {max(w for *_, w in memory):.0f} MB "
        f"(during check + write: {max([w for _, p, _, w in memory if p == 'check + write'] or [0]):.0f} MB)"
    )
    print("peak RSS by progress of the starts (API, worker):")
    for tenth in range(1, 11):
        upto = [(a, w) for n, p, a, w in memory if p == "starts" and n <= HOUSEHOLDS * tenth // 10]
        if upto:
            print(
                f"  {10 * tenth:3d}%: {max(a for a, _ in upto):.0f} MB, "
                f"{max(w for _, w in upto):.0f} MB"
            )
    for name, values in latencies.items():
        percentiles(f"GET /cases/{{id}} during the {name}", values)


if __name__ == "__main__":
    with seeded_database([], {}, "nothing (the import writes the households)") as url:
        asyncio.run(main(url))
