"""Two worker processes and two API processes (real subprocesses: `python -m worker` and
uvicorn) against one Temporal server and one PostgreSQL share the work with no duplicate
effect: every notice and audit row exists once, whichever process took each step, also when a
worker stops halfway and the other replays its cases.

PostgreSQL is the machine's own server at 127.0.0.1:5432 when it answers (external mode, as
production), in a database made for this test; otherwise the tests' embedded PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from temporalio.testing import WorkflowEnvironment

from dibao.db.migrate import upgrade
from dibao.settings import PROJECT_ROOT
from tests.auth import COUNTY, TOWNSHIP, VILLAGE, seed_staff
from tests.conftest import TEST_CODEC_KEYS, _with_database
from tests.workflows.helpers import another_household

LOCAL_POSTGRES = "postgresql://root@127.0.0.1:5432/postgres"
HOUSEHOLDS = 6


def _local_postgres() -> str | None:
    try:
        with psycopg.connect(LOCAL_POSTGRES, connect_timeout=2):
            return LOCAL_POSTGRES
    except psycopg.OperationalError:
        return None


@pytest.fixture
def shared_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated database of this test's own, on the external server where there is one."""
    admin = _local_postgres() or str(request.getfixturevalue("pg_admin_url"))
    name = f"dibao_scale_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(admin, name)
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Processes:
    """The worker and API subprocesses of one test, all on one task queue."""

    def __init__(self, database_url: str, env: WorkflowEnvironment, tmp: Path) -> None:
        self.tmp = tmp
        self.environ = {
            **os.environ,
            "PYTHONPATH": str(PROJECT_ROOT),
            "DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "TEMPORAL_NAMESPACE": env.client.namespace,
            "DIBAO_TASK_QUEUE": f"dibao-scale-{secrets.token_hex(4)}",
            "DIBAO_CODEC_KEYS": TEST_CODEC_KEYS,
            "DIBAO_DATA_DIR": str(tmp),
            "DIBAO_DRILL_POLL_SECONDS": "0",
            "DIBAO_SDK_METRICS_PORT": "0",
            "DIBAO_WORKER_METRICS_PORT": "0",
            "DIBAO_LOG_FORMAT": "text",
            "DIBAO_UPDATE_ACCEPT_SECONDS": "30",
            # A stopped worker's cases go to the other one after a second, not ten.
            "DIBAO_STICKY_QUEUE_TIMEOUT_SECONDS": "1",
        }
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, args: list[str]) -> None:
        log = (self.tmp / f"{name}.log").open("ab")
        self.running[name] = subprocess.Popen(
            [sys.executable, *args],
            cwd=PROJECT_ROOT,
            env=self.environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def worker(self, name: str) -> None:
        self.start(name, ["-m", "worker"])

    def api(self, name: str) -> str:
        port = _free_port()
        self.start(
            name,
            [
                "-m",
                "uvicorn",
                "--factory",
                "api.app:app_factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
        )
        return f"http://127.0.0.1:{port}"

    def stop(self, name: str) -> None:
        proc = self.running.pop(name)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)


@pytest.fixture
async def processes(
    dev_env: WorkflowEnvironment, shared_database: str, tmp_path: Path
) -> AsyncIterator[Processes]:
    await seed_staff(shared_database)
    procs = Processes(shared_database, dev_env, tmp_path)
    try:
        yield procs
    finally:
        procs.stop_all()


async def _until_up(url: str, procs: Processes, name: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        for _ in range(300):
            try:
                if (await client.get("/health")).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{name} did not start:\n{procs.log(name)}")


async def _until(
    api: httpx.AsyncClient, case_id: str, predicate: Any, who: dict[str, str]
) -> dict[str, Any]:
    case: dict[str, Any] = {}
    for _ in range(600):
        case = (await api.get(f"/cases/{case_id}", headers=who)).json()
        if predicate(case):
            return case
        await asyncio.sleep(0.1)
    raise AssertionError(f"case {case_id} never reached the state wanted: {case}")


def _sql(url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


async def test_two_workers_and_two_apis_share_cases_and_every_effect_happens_once(
    processes: Processes, shared_database: str, dev_env: WorkflowEnvironment, sample: Any
) -> None:
    urls = [processes.api("api-a"), processes.api("api-b")]
    processes.worker("worker-a")
    processes.worker("worker-b")
    for name, url in zip(("api-a", "api-b"), urls, strict=True):
        await _until_up(url, processes, name)
    async with (
        httpx.AsyncClient(base_url=urls[0], timeout=60) as a,
        httpx.AsyncClient(base_url=urls[1], timeout=60) as b,
    ):
        apis = [a, b]
        households = [another_household(sample, n) for n in range(HOUSEHOLDS)]

        # Filed through both APIs alternately; each filing repeated through the other API
        # with its key answers the same case.
        case_ids: list[str] = []
        for n, body in enumerate(households):
            key = {"Idempotency-Key": f"scale-file-{n}", **VILLAGE}
            first, again = apis[n % 2], apis[(n + 1) % 2]
            filed = await first.post("/cases", json=body, headers=key)
            assert filed.status_code == 201, filed.text
            repeat = await again.post("/cases", json=body, headers=key)
            assert repeat.status_code == 200, repeat.text
            assert repeat.json()["case_id"] == filed.json()["case_id"]
            case_ids.append(filed.json()["case_id"])
        for n, case_id in enumerate(case_ids):
            await _until(apis[n % 2], case_id, lambda c: c["notices"], VILLAGE)

        # One worker stops: the other takes up every case (replaying those it never held).
        processes.stop("worker-a")
        for n, case_id in enumerate(case_ids):
            supplement = {"materials": ["disability_certificate"], "verification_authorised": True}
            key = {"Idempotency-Key": f"scale-supplement-{n}", **VILLAGE}
            done = await apis[(n + 1) % 2].post(
                f"/cases/{case_id}/materials", json=supplement, headers=key
            )
            assert done.status_code == 200, done.text
            repeat = await apis[n % 2].post(
                f"/cases/{case_id}/materials", json=supplement, headers=key
            )
            assert repeat.status_code == 200, repeat.text
        processes.worker("worker-a")
        for n, case_id in enumerate(case_ids):
            await _until(
                apis[n % 2],
                case_id,
                lambda c: c["stage"] == "survey" and len(c["notices"]) == 2,
                TOWNSHIP,
            )
        # Read through both APIs: the same case, whichever worker answers the query.
        for case_id in case_ids:
            seen = [(await api.get(f"/cases/{case_id}", headers=COUNTY)).json() for api in apis]
            assert seen[0]["stage"] == seen[1]["stage"] == "survey"
            assert seen[0]["notices"] == seen[1]["notices"]

    notices = _sql(
        shared_database,
        "SELECT case_id, kind, count(*) FROM notices GROUP BY case_id, kind ORDER BY 1, 2",
    )
    assert sorted(notices) == sorted(
        (c, kind, 1) for c in case_ids for kind in ("acceptance", "materials_incomplete")
    )
    audit = _sql(
        shared_database,
        "SELECT case_id, action, count(*) FROM audit_log GROUP BY case_id, action",
    )
    assert sorted(audit) == sorted(
        (c, action, 1) for c in case_ids for action in ("file_application", "materials")
    )
    assert _sql(shared_database, "SELECT count(*) FROM cases") == [(HOUSEHOLDS,)]

    # Both workers took part: the histories name each worker process that ran a task.
    identities: set[str] = set()
    for case_id in case_ids:
        history = await dev_env.client.get_workflow_handle(case_id).fetch_history()
        for event in history.events:
            if event.HasField("workflow_task_started_event_attributes"):
                identities.add(event.workflow_task_started_event_attributes.identity)
            if event.HasField("activity_task_started_event_attributes"):
                identities.add(event.activity_task_started_event_attributes.identity)
    assert len(identities) >= 2, identities
    for case_id in case_ids:
        await dev_env.client.get_workflow_handle(case_id).terminate("test finished")
