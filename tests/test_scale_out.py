"""Two worker processes and two API processes (real subprocesses: `python -m worker` and
uvicorn) against one Temporal server and one PostgreSQL share the work with no duplicate
effect: every notice and audit row exists once, whichever process took each step, also when a
worker stops halfway and the other replays its cases; a county's payroll built and released
through both APIs at once pays every household once, its bank file's total the sum of its lines.

PostgreSQL is the machine's own server at 127.0.0.1:5432 when it answers (external mode, as
production), in a database made for this test; otherwise the tests' embedded PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from dibao.db.migrate import upgrade
from dibao.domain.payroll import verify_bank_file, workflow_id_for
from dibao.settings import PROJECT_ROOT
from tests.auth import COUNTY, TOWNSHIP, VILLAGE, seed_staff
from tests.conftest import TEST_CODEC_KEYS, _with_database
from tests.db.test_payroll_repo import seed_case
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


PAID_HOUSEHOLDS = 40
PERIOD = "2026-11"


def _seed_recipients(url: str) -> dict[str, int]:
    """Recipient households of the county, a third of them owed October as arrears; returns
    what each is owed in fen for the period."""
    owed: dict[str, int] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for n in range(PAID_HOUSEHOLDS):
            case_id, fen = f"DB-SCL{n:07d}", 30_000 + 137 * n
            start = "2026-10" if n % 3 == 0 else PERIOD
            seed_case(conn, case_id, f"户主{n}", [(start, fen, "start")])
            owed[case_id] = fen * (2 if start == "2026-10" else 1)
    return owed


async def _until_built(api: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = {}
    for _ in range(600):
        run = (await api.get(f"/payroll/runs/{run_id}", headers=COUNTY)).json()
        if run.get("status") == "draft":
            return run
        await asyncio.sleep(0.1)
    raise AssertionError(f"payroll {run_id} never built: {run}")


async def _last_worker(env: WorkflowEnvironment, workflow_id: str, procs: Processes) -> str:
    """The name of the worker process that ran the workflow's latest task (SDK identities
    are pid@host)."""
    history = await env.client.get_workflow_handle(workflow_id).fetch_history()
    identities = [
        event.workflow_task_started_event_attributes.identity
        for event in history.events
        if event.HasField("workflow_task_started_event_attributes")
    ]
    pids = {str(proc.pid): name for name, proc in procs.running.items()}
    return pids[identities[-1].split("@", 1)[0]]


async def test_a_payroll_built_and_released_through_both_apis_pays_each_household_once(
    processes: Processes, shared_database: str, dev_env: WorkflowEnvironment
) -> None:
    owed = _seed_recipients(shared_database)
    urls = [processes.api("api-a"), processes.api("api-b")]
    processes.worker("worker-a")
    processes.worker("worker-b")
    for name, url in zip(("api-a", "api-b"), urls, strict=True):
        await _until_up(url, processes, name)
    workflow_id = workflow_id_for("610423", PERIOD)
    try:
        async with (
            httpx.AsyncClient(base_url=urls[0], timeout=60) as a,
            httpx.AsyncClient(base_url=urls[1], timeout=60) as b,
        ):
            # The township builds the roster through both APIs at once: one run, one build.
            body = {"county_code": "610423", "period": PERIOD}
            built = await asyncio.gather(
                *(api.post("/payroll/runs", json=body, headers=TOWNSHIP) for api in (a, b))
            )
            assert all(r.status_code in (200, 201, 202) for r in built), [r.text for r in built]
            (run_id,) = {r.json()["run_id"] for r in built}
            draft = await _until_built(b, run_id)
            assert draft["households"] == PAID_HOUSEHOLDS

            # The worker that holds the payroll workflow stops: the other replays it to release.
            holder = await _last_worker(dev_env, workflow_id, processes)
            processes.stop(holder)

            # Two release clicks (a double click, two tabs) reach both APIs at once, each
            # repeated through the other API with its key: one release, its repeat answers the
            # same, the other click is told the run is released already.
            clicks = [("scale-release-0", a), ("scale-release-1", b)]
            answers = await asyncio.gather(
                *(
                    api.post(
                        f"/payroll/runs/{run_id}/release",
                        headers={**COUNTY, "Idempotency-Key": key},
                    )
                    for key, first in clicks
                    for api in (first, b if first is a else a)
                )
            )
            by_click = [[r.status_code for r in answers[i : i + 2]] for i in (0, 2)]
            assert sorted(by_click) == [[200, 200], [409, 409]], [r.text for r in answers]
            winner = answers[0] if by_click[0] == [200, 200] else answers[2]
            assert (winner.json()["status"], winner.json()["checker"]) == ("released", "chen.gang")
            assert all("already released" in r.text for r in answers if r.status_code == 409)
            bank_files = [
                await api.get(f"/payroll/runs/{run_id}/bank-file", headers=COUNTY) for api in (a, b)
            ]
        assert bank_files[0].text == bank_files[1].text
        bank = bank_files[0].text
        # The other worker took the release, replaying the workflow it had never held.
        other = "worker-b" if holder == "worker-a" else "worker-a"
        assert await _last_worker(dev_env, workflow_id, processes) == other
    finally:
        with contextlib.suppress(RPCError):
            await dev_env.client.get_workflow_handle(workflow_id).terminate("test finished")

    # Every household's line exists once per month owed, and nobody else's.
    lines = _sql(
        shared_database,
        "SELECT case_id, month, kind, count(*), sum(amount_fen) FROM payroll_lines "
        "GROUP BY case_id, month, kind",
    )
    assert all(count == 1 for _, _, _, count, _ in lines), lines
    paid: dict[str, int] = {}
    for case_id, _, _, _, fen in lines:
        paid[case_id] = paid.get(case_id, 0) + int(fen)
    assert paid == owed
    assert _sql(
        shared_database, "SELECT run_id, status, households, total_fen FROM payroll_runs"
    ) == [(run_id, "released", PAID_HOUSEHOLDS, sum(owed.values()))]

    # The bank file: one row per household, its total the sum of the lines, its checksum good.
    assert verify_bank_file(bank)
    rows = [row.split(",") for row in bank.splitlines()[1:-1]]
    payments, (total_row,) = rows[:-1], rows[-1:]
    assert sorted(row[1] for row in payments) == sorted(owed)
    total_fen = sum(owed.values())
    assert total_row == ["TOTAL", str(PAID_HOUSEHOLDS), f"{total_fen // 100}.{total_fen % 100:02d}"]
    cents = sum(int(row[6].replace(".", "")) for row in payments)
    assert cents == total_fen
