"""A county going live with 50,000 households: how long its ledger takes to import, whether
memory stays flat, and how the API answers a case page meanwhile.

    .venv/bin/python bench/import.py                       # 50,000 households
    BENCH_HOUSEHOLDS=10000 BENCH_RATE=25 .venv/bin/python bench/import.py

Laid out as in production: a Temporal dev server, a fresh database (embedded PostgreSQL, or
DATABASE_URL's server), the worker in its own process (`python worker.py`), and the API in this
one. The ledger (a CSV, a head and a child per household) is uploaded to POST /ledger/imports,
so the check and the write run in the API's request and the workflow starts in its background
task at BENCH_RATE a second (DIBAO_LEDGER_IMPORT_RATE), while a client GETs the page of a case
imported before (GET /cases/{id}, which asks its workflow) every 50 ms. Prints:

- the upload's time (check + one transaction) and the starts' time, per household;
- when the worker has caught up: the last household's case answers its query;
- peak RSS of the API process and of the worker process at each 10% of the starts: flat means
  neither holds per-household state beyond the file (and the worker's workflow cache);
- the p50/p95/max latency of the case page during the upload and during the starts.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import psutil
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from bench.bench_db import seeded_database
from dibao.binaries import find_binary
from dibao.codec import data_converter
from dibao.domain.ledger import case_id_for, file_sha256
from dibao.ledger_files import ledger_csv
from dibao.settings import Settings
from tests.auth import COUNTY as COUNTY_HEADERS
from tests.auth import seed_staff
from tests.conftest import TEST_CODEC_KEYS
from tests.golive import COUNTY, id_number, ledger_rows
from workflows import search_attributes as sa
from workflows.case import CaseWorkflow

ROOT = Path(__file__).resolve().parent.parent
HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "50000"))
RATE = float(os.environ.get("BENCH_RATE", "25"))
TASK_QUEUE = "bench-import"


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


async def until_finished(api: httpx.AsyncClient, import_id: str, on_progress: object) -> None:
    while True:
        body = (await api.get(f"/ledger/imports/{import_id}")).json()
        assert callable(on_progress)
        on_progress(body["started"])
        if body["finished"]:
            return
        await asyncio.sleep(1)


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
    )
    await seed_staff(database_url)
    worker = start_worker(database_url, temporal)
    worker_process = psutil.Process(worker.pid)
    api_process = psutil.Process()
    app = create_app(settings)
    rows = ledger_rows(HOUSEHOLDS)
    content = ledger_csv(rows)
    print(
        f"{HOUSEHOLDS} households, {len(rows)} rows, {len(content) / 2**20:.1f} MB CSV, "
        f"{RATE:g} starts/s, {os.environ.get('BENCH_WORKFLOW_TASKS', '100')} workflow tasks "
        f"at once, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    memory: list[tuple[int, float, float]] = []
    phase = "idle"
    latencies: dict[str, list[float]] = {"upload": [], "starts": [], "catch-up": []}
    started = 0
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
            await until_finished(api, response.json()["import_id"], lambda n: None)
            probe = case_id_for(file_sha256(probe_content), "PROBE-1")
            while (await api.get(f"/cases/{probe}")).json().get("stage") != "recipient":
                await asyncio.sleep(0.5)
            done = asyncio.Event()

            async def sample_memory() -> None:
                while not done.is_set():
                    memory.append((started, rss_mb(api_process), rss_mb(worker_process)))
                    await asyncio.sleep(0.5)

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
            t1 = time.perf_counter()
            phase = "starts"
            print(f"upload (check + write) {t1 - t0:.1f} s ({import_id})", flush=True)

            shown = 0

            def progress(n: int) -> None:
                nonlocal started, shown
                started = n
                if n * 10 // HOUSEHOLDS > shown:
                    shown = n * 10 // HOUSEHOLDS
                    pages = sorted(latencies["starts"]) or [0.0]
                    print(
                        f"  {n} started, {time.perf_counter() - t1:.0f} s; RSS "
                        f"{rss_mb(api_process):.0f} MB (API), {rss_mb(worker_process):.0f} MB "
                        f"(worker); case page p95 so far "
                        f"{1000 * pages[int(0.95 * (len(pages) - 1))]:.0f} ms",
                        flush=True,
                    )

            await until_finished(api, import_id, progress)
            t2 = time.perf_counter()
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
            t3 = time.perf_counter()
            phase = "idle"
            done.set()
            await asyncio.gather(*watchers)
    finally:
        worker.terminate()
        worker.wait(30)
        await env.shutdown()

    print(
        f"starts {t2 - t1:.1f} s ({HOUSEHOLDS / (t2 - t1):.1f}/s); the worker caught up "
        f"{t3 - t2:.1f} s later; total {t3 - t0:.1f} s"
    )
    print(
        f"per household: {1000 * (t3 - t0) / HOUSEHOLDS:.1f} ms "
        f"(upload {1000 * (t1 - t0) / HOUSEHOLDS:.2f} ms)"
    )
    print("peak RSS by progress (API + import process, worker process):")
    for tenth in range(1, 11):
        upto = [(a, w) for n, a, w in memory if n <= HOUSEHOLDS * tenth // 10]
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
