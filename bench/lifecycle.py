"""A case's whole life beside a bare workflow of its shape, on one dev server, in one run.

    .venv/bin/python -m bench.lifecycle [--cases 60] [--concurrency 50] [--light 10]

Both run against the same Temporal dev server (started here, SQLite file) with one worker in
this process: first the bare workflow (bench/bare_workflow.py: 12 no-op activities, 4 updates,
3 one-second timers), then dibao's walkthrough case (filing with missing materials, supplement,
survey, evaluation, three postings of one second, township review, county visit when drawn,
approval, into the recipient phase) through the Temporal client as the API drives it, on an
embedded PostgreSQL, with production settings. Between steps the driver waits on the case row
that each stage change writes (as a caseworker's 工作台 list does), not by querying the
workflow. Printed per kind: cases/s at saturation, update round trip p50/p95 at light load
(one case at a time) and under load, history events and activities (local ones counted by
their markers) per case, CPU per case (Temporal server, and this process: worker + client;
PostgreSQL's own CPU is in neither); then dibao's ratios to the floor.

Timings live here, never in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import dataclasses
import json
import os
import secrets
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import select
from stdnum.cn import ric
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from api.schemas import ApplicationIn
from bench.bare_workflow import BareCaseWorkflow, BareInput, bare_step
from bench.bench_db import seeded_database
from dibao.binaries import find_binary
from dibao.codec import data_converter, new_key
from dibao.db import cases_repo
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.db.models import CaseRow
from dibao.domain.application import Application
from dibao.domain.enums import Material, Stage
from dibao.domain.rulepacks import TRAINING_SEED_DEFAULT
from dibao.messages.case import CaseInput, SupplementMaterials
from dibao.settings import PROJECT_ROOT, Settings
from dibao.temporal_client import register_search_attributes
from tests.workflows import helpers
from worker import build_activities, build_worker
from workflows import search_attributes as sa
from workflows.case import CaseWorkflow

PACK = dataclasses.replace(TRAINING_SEED_DEFAULT, posting_seconds=1)
SAMPLE = json.loads((PROJECT_ROOT / "examples" / "household.json").read_text(encoding="utf-8"))


@dataclass
class Run:
    """What one kind of workflow cost: per-update latencies, events and CPU."""

    name: str
    cases: int = 0
    seconds: float = 0.0
    light_updates_ms: list[float] = field(default_factory=list)
    load_updates_ms: list[float] = field(default_factory=list)
    events: int = 0
    activities: int = 0
    server_cpu: float = 0.0
    self_cpu: float = 0.0

    @property
    def throughput(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0

    def p(self, which: list[float], q: int) -> float:
        if len(which) < 2:
            return which[0] if which else 0.0
        return statistics.quantiles(which, n=100, method="inclusive")[q - 1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def dev_server() -> Iterator[tuple[str, psutil.Process]]:
    port = free_port()
    db = Path(tempfile.mkdtemp(prefix="dibao-lifecycle-")) / "temporal.db"
    args = [find_binary("temporal"), "server", "start-dev", "--headless", "--log-level", "error"]
    args += ["--port", str(port), "--db-filename", str(db)]
    args += sa.cli_flags()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield f"127.0.0.1:{port}", psutil.Process(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def connect(target: str, settings: Settings | None) -> Client:
    converter = data_converter(settings) if settings else None
    for _ in range(100):
        try:
            if converter is None:
                return await Client.connect(target)
            return await Client.connect(target, data_converter=converter)
        except Exception:  # the server is still starting
            await asyncio.sleep(0.2)
    raise RuntimeError(f"Temporal dev server at {target} did not start")


def cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system) + sum(
        float(c.cpu_times().user + c.cpu_times().system) for c in proc.children(recursive=True)
    )


def self_cpu() -> float:
    t = os.times()
    return t.user + t.system


async def timed(sink: list[float], call: Awaitable[Any]) -> Any:
    started = time.perf_counter()
    result = await call
    sink.append((time.perf_counter() - started) * 1000)
    return result


async def count_events(handle: WorkflowHandle[Any, Any]) -> tuple[int, int]:
    history = await handle.fetch_history()
    # Local activities leave a marker each instead of a scheduled-started-completed triple.
    kinds = (EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, EventType.EVENT_TYPE_MARKER_RECORDED)
    return len(history.events), sum(1 for e in history.events if e.event_type in kinds)


# --- the floor ----------------------------------------------------------------------------------


async def bare_case(
    client: Client, queue: str, n: int, sink: list[float]
) -> WorkflowHandle[Any, Any]:
    handle = await client.start_workflow(
        BareCaseWorkflow.run,
        BareInput(case_id=f"BARE-{n:06d}", timer_seconds=1.0),
        id=f"BARE-{secrets.token_hex(6)}",
        task_queue=queue,
    )
    for u in range(4):
        await timed(sink, handle.execute_update(BareCaseWorkflow.act, u))
    await handle.result()
    return handle


# --- dibao's walkthrough case --------------------------------------------------------------------


def household(n: int) -> dict[str, Any]:
    """The example household under other valid ID numbers: one open case per household."""
    body: dict[str, Any] = copy.deepcopy(SAMPLE)
    for member in body["members"]:
        first17 = member["id_number"][:14] + f"{n % 1000:03d}"
        member["id_number"] = first17 + ric.calc_check_digit(first17 + "0")
    if body.get("payee"):
        body["payee"]["account_holder"] = body["members"][0]["name"]
    return body


class Driver:
    """Files a case and answers each step as the walkthrough's caseworkers do."""

    def __init__(self, client: Client, settings: Settings, sessions: Any) -> None:
        self.client = client
        self.settings = settings
        self.sessions = sessions

    async def file(self, n: int) -> tuple[WorkflowHandle[Any, Any], Application]:
        parsed = ApplicationIn.model_validate(household(n))
        case_id = "DB-" + secrets.token_hex(6).upper()
        case = CaseInput(
            case_id=case_id,
            application=parsed.to_domain(),
            rule_pack_id=PACK.id,
            rule_pack_version=PACK.version,
            filed_at=datetime.now(UTC),
            filed_by=helpers.VILLAGE,
            request_id=f"file-{case_id}",
            rule_pack=PACK,
        )
        async with self.sessions() as session:
            outcome = await cases_repo.reserve_case(
                session, case, parsed.model_dump(mode="json"), None, secrets.token_hex(8)
            )
        assert isinstance(outcome, cases_repo.Reserved), outcome
        handle = await self.client.start_workflow(
            CaseWorkflow.run, case, id=case_id, task_queue=self.settings.task_queue
        )
        return handle, case.application

    async def walk(self, n: int, sink: list[float]) -> WorkflowHandle[Any, Any]:
        handle, application = await self.file(n)
        case_id = handle.id
        await self._row(case_id, lambda stage, status: status == "materials_incomplete")
        await timed(
            sink,
            handle.execute_update(
                CaseWorkflow.supplement_materials,
                SupplementMaterials(
                    request_id="m1",
                    actor=helpers.VILLAGE,
                    materials=(Material.DISABILITY_CERTIFICATE,),
                    verification_authorised=True,
                ),
            ),
        )
        await self._at(case_id, Stage.SURVEY)
        await timed(sink, helpers.survey(handle, helpers.survey_of(application)))
        await self._at(case_id, Stage.EVALUATION)
        await timed(sink, helpers.evaluate(handle))
        await self._through(case_id, Stage.POSTING_BEFORE_REVIEW)
        await timed(sink, helpers.township(handle))
        await self._through(case_id, Stage.POSTING_BEFORE_APPROVAL)
        await self._at(case_id, Stage.COUNTY_APPROVAL)
        # The one question the case row cannot answer: whether the spot check drew this case.
        view = await helpers.state(handle)
        if view.procedure is not None and view.procedure.county_visit_required:
            await timed(sink, helpers.county_visit(handle))
        await timed(sink, helpers.decide(handle))
        await self._through(case_id, Stage.POSTING_AFTER_APPROVAL)
        await self._at(case_id, Stage.RECIPIENT)
        return handle

    async def _at(self, case_id: str, stage: Stage) -> None:
        await self._row(case_id, lambda s, _status: s == stage.value)

    async def _through(self, case_id: str, posting: Stage) -> None:
        # The opinion's update answers once recorded, before the posting opens.
        await self._at(case_id, posting)
        await self._row(case_id, lambda s, _status: s != posting.value)

    async def _row(self, case_id: str, ok: Callable[[str, str], bool]) -> None:
        """Wait, as a caseworker's 工作台 does, on the case row (the projection each stage
        change writes in its transaction), not by querying the workflow: queries would make
        the driver, not the case, what is measured."""
        for _ in range(1200):
            async with self.sessions() as session:
                row = (
                    await session.execute(
                        select(CaseRow.stage, CaseRow.status).where(CaseRow.case_id == case_id)
                    )
                ).one()
            if ok(row.stage, row.status):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"case {case_id} never got there; last {row.stage} {row.status}")


# --- running both ---------------------------------------------------------------------------------


async def measure(
    run: Run,
    one: Callable[[int, list[float]], Awaitable[WorkflowHandle[Any, Any]]],
    server: psutil.Process,
    cases: int,
    concurrency: int,
    light: int,
) -> None:
    # Light load: cases one after another, for the update round trip (enough of them that
    # the p95 is not simply the slowest update).
    handle = None
    for n in range(light):
        handle = await one(n, run.light_updates_ms)
    assert handle is not None
    run.events, run.activities = await count_events(handle)
    # Saturation: `cases` cases, `concurrency` at a time.
    gate = asyncio.Semaphore(concurrency)

    async def gated(n: int) -> None:
        async with gate:
            await one(n, run.load_updates_ms)

    server_before, self_before = cpu(server), self_cpu()
    started = time.perf_counter()
    await asyncio.gather(*(gated(100 + n) for n in range(cases)))
    run.seconds = time.perf_counter() - started
    run.cases = cases
    run.server_cpu = (cpu(server) - server_before) / cases
    run.self_cpu = (self_cpu() - self_before) / cases


def report(bare: Run, case: Run) -> None:
    def row(r: Run) -> str:
        return (
            f"{r.name:<6} {r.throughput:6.2f} cases/s  "
            f"update p50/p95 light {r.p(r.light_updates_ms, 50):6.1f}/{r.p(r.light_updates_ms, 95):6.1f} ms"
            f"  load {r.p(r.load_updates_ms, 50):7.1f}/{r.p(r.load_updates_ms, 95):7.1f} ms  "
            f"{r.events:4d} events {r.activities:3d} activities  "
            f"CPU/case server {r.server_cpu:.2f} + worker&client {r.self_cpu:.2f} core-s"
        )

    print(row(bare))
    print(row(case))

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}×" if b else "n/a"

    print(
        "dibao / bare: throughput "
        + ratio(case.throughput, bare.throughput)
        + " (goal ≥ 0.70×), update p95 at light load "
        + ratio(case.p(case.light_updates_ms, 95), bare.p(bare.light_updates_ms, 95))
        + " (goal ≤ 2×), events "
        + ratio(case.events, bare.events)
        + f" (goal: ≤ 130 events, ≤ 14 activities; now {case.events}, {case.activities}), CPU "
        + ratio(case.server_cpu + case.self_cpu, bare.server_cpu + bare.self_cpu)
    )


async def main(cases: int, concurrency: int, light: int) -> None:
    # Production settings (drills read every few seconds, not per activity as in tests).
    settings_base = Settings(_env_file=None, codec_keys=new_key())
    with seeded_database([], {}, "nothing") as url, dev_server() as (target, server):
        plain = await connect(target, None)
        queue = f"bare-{secrets.token_hex(4)}"
        bare = Run("bare")
        async with Worker(
            plain, task_queue=queue, workflows=[BareCaseWorkflow], activities=[bare_step]
        ):

            async def one_bare(n: int, sink: list[float]) -> WorkflowHandle[Any, Any]:
                return await bare_case(plain, queue, n, sink)

            await measure(bare, one_bare, server, cases, concurrency, light)

        settings = settings_base.model_copy(
            update={"database_url": url, "temporal_address": target, "task_queue": "lifecycle"}
        )
        client = await connect(target, settings)
        await register_search_attributes(client, client.namespace, sa.ALL_KEYS)
        engine = make_engine(settings)
        sessions = make_sessionmaker(engine)
        driver = Driver(client, settings, sessions)
        case = Run("dibao")
        async with build_worker(
            client, settings, build_activities(sessions, settings, client), sessions
        ):
            await measure(case, driver.walk, server, cases, concurrency, light)
        await engine.dispose()
        report(bare, case)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--light", type=int, default=10, help="cases run one at a time")
    args = parser.parse_args()
    asyncio.run(main(args.cases, args.concurrency, args.light))
