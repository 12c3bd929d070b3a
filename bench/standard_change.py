"""A county's standard change over real recipient cases, beside a bare batch of the same shape.

    .venv/bin/python -m bench.standard_change [--recipients 20000] [--cases-per-run 2000]
        [--concurrency 20] [--page-size 500]

One Temporal dev server (started here) and an embedded PostgreSQL (or DATABASE_URL's server),
one worker in this process. One household is walked through the whole procedure into the
recipient phase (bench/lifecycle.py's walkthrough); `--recipients` real CaseWorkflows are then
started from its recipient state (the path a case takes when its recipient phase continues as
new), each with its own case row. The standard change runs over them as the API starts it.

The floor: a bare batch workflow reaching the same number of bare recipient workflows with the
same window, continuing as new as often, each reached by an activity sending it one update (no
codec, database or rules).

Printed: seconds and cases/s of each, dibao's ratio to the floor, the batch's runs and the most
history events in any one run (bounded by --cases-per-run, not by the county), and whether
every household was changed exactly once (one apply_standard audit row per case).
A test-sized run: --recipients 300 --cases-per-run 100. Timings live here, never in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import psycopg
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.worker import Worker

from bench.bare_batch import (
    BareBatch,
    BareBatchWorkflow,
    BareRecipientWorkflow,
    bare_id,
    bare_reach,
)
from bench.bench_db import seeded_database
from bench.lifecycle import PACK, Driver, connect, dev_server
from dibao.codec import new_key
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.enums import Role
from dibao.messages.case import Actor, CaseInput, StandardChangeInput, StandardChangeProgress
from dibao.settings import Settings
from dibao.temporal_client import register_search_attributes
from tests.workflows import helpers
from worker import build_activities, build_worker
from workflows import search_attributes as sa
from workflows.case import CaseWorkflow
from workflows.standard_change import StandardChangeWorkflow

APPROVER = Actor(id="chen.gang", role=Role.COUNTY_APPROVER, jurisdiction="610423")

# --- the floor ----------------------------------------------------------------------------------


async def floor(client: Client, recipients: int, concurrency: int, per_run: int) -> float:
    queue = f"bare-batch-{secrets.token_hex(4)}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[BareRecipientWorkflow, BareBatchWorkflow],
        activities=[bare_reach],
        max_concurrent_activities=concurrency * 2,
    ):
        prefix = f"BARE-R-{queue}-"
        ids = [bare_id(prefix, n) for n in range(recipients)]
        gate = asyncio.Semaphore(50)

        async def start(workflow_id: str) -> None:
            async with gate:
                await client.start_workflow(
                    BareRecipientWorkflow.run, id=workflow_id, task_queue=queue
                )

        await asyncio.gather(*(start(i) for i in ids))
        started = time.perf_counter()
        await client.execute_workflow(
            BareBatchWorkflow.run,
            BareBatch(prefix, 0, recipients, concurrency, per_run),
            id=f"BARE-BATCH-{queue}",
            task_queue=queue,
        )
        return time.perf_counter() - started


# --- dibao's standard change over real cases ----------------------------------------------------


def clone_rows(url: str, template: str, recipients: int) -> list[str]:
    """Case and application rows of `recipients` households like the template's, each its own
    case (the application is the template's: a notice reads it)."""
    replaced = {
        "cases": {"head_id_number": "'X' || lpad(n::text, 17, '0')"},
        "applications": {"idempotency_key": "NULL"},
    }
    with psycopg.connect(url, autocommit=True) as conn:
        for table, own in replaced.items():
            columns = [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = %s ORDER BY ordinal_position",
                    (table,),
                )
            ]
            values = {c: own.get(c, c) for c in columns}
            values["case_id"] = "'DB-SC' || lpad(n::text, 9, '0')"
            conn.execute(
                f"INSERT INTO {table} ({', '.join(values)}) "
                f"SELECT {', '.join(values.values())} "
                f"FROM {table}, generate_series(1, %s) AS n WHERE case_id = %s",
                (recipients, template),
            )
    return [f"DB-SC{n:09d}" for n in range(1, recipients + 1)]


async def start_recipients(
    client: Client, settings: Settings, template: CaseInput, view: Any, ids: list[str]
) -> None:
    assert view.recipient is not None
    # The state a recipient run resumes from, without the template's own requests and notices.
    state = dataclasses.replace(view.recipient, handled_requests=(), notice_ids=())
    gate = asyncio.Semaphore(50)

    async def start(case_id: str) -> None:
        case = dataclasses.replace(
            template, case_id=case_id, request_id=f"file-{case_id}", recipient=state
        )
        async with gate:
            await client.start_workflow(
                CaseWorkflow.run, case, id=case_id, task_queue=settings.task_queue
            )

    await asyncio.gather(*(start(c) for c in ids))


async def history_per_run(client: Client, batch_id: str) -> list[int]:
    counts: list[int] = []
    run_id: str | None = None
    while True:
        events = [
            e
            async for e in client.get_workflow_handle(
                batch_id, run_id=run_id
            ).fetch_history_events()
        ]
        counts.append(len(events))
        attrs = events[0].workflow_execution_started_event_attributes
        assert events[0].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
        if not attrs.continued_execution_run_id:
            return counts[::-1]
        run_id = attrs.continued_execution_run_id


async def main(args: argparse.Namespace) -> None:
    base = Settings(_env_file=None, codec_keys=new_key(), drill_poll_seconds=0)
    with seeded_database([], {}, "nothing") as url, dev_server() as (target, _server):
        plain = await connect(target, None)
        bare_seconds = await floor(plain, args.recipients, args.concurrency, args.cases_per_run)
        settings = base.model_copy(
            update={"database_url": url, "temporal_address": target, "task_queue": "sc-bench"}
        )
        client = await connect(target, settings)
        await register_search_attributes(client, client.namespace, sa.ALL_KEYS)
        engine = make_engine(settings)
        sessions = make_sessionmaker(engine)
        async with build_worker(
            client, settings, build_activities(sessions, settings, client), sessions
        ):
            driver = Driver(client, settings, sessions)
            first: WorkflowHandle[Any, Any] = await driver.walk(0, [])
            view = await helpers.state(first)
            template: CaseInput = CaseInput(
                case_id=first.id,
                application=view.application,
                rule_pack_id=PACK.id,
                rule_pack_version=PACK.version,
                filed_at=datetime.now(UTC),
                filed_by=helpers.VILLAGE,
                request_id="file",
                rule_pack=PACK,
            )
            ids = clone_rows(url, first.id, args.recipients)
            started = time.perf_counter()
            await start_recipients(client, settings, template, view, ids)
            print(
                f"started {len(ids)} recipient CaseWorkflows in "
                f"{time.perf_counter() - started:.1f} s"
            )
            batch_id = f"SC-610423-2027-01-{secrets.token_hex(4)}"
            started = time.perf_counter()
            await client.start_workflow(
                StandardChangeWorkflow.run,
                StandardChangeInput(
                    batch_id=batch_id,
                    county_code="610423",
                    urban_standard_fen_month=56_000,
                    rural_standard_fen_year=400_000,
                    effective_month="2027-01",
                    requested_by=APPROVER,
                    page_size=args.page_size,
                    concurrency=args.concurrency,
                    cases_per_run=args.cases_per_run,
                ),
                id=batch_id,
                task_queue=settings.task_queue,
            )
            progress: StandardChangeProgress | None = None
            while progress is None or not progress.finished:
                await asyncio.sleep(5)
                try:
                    progress = await client.get_workflow_handle(batch_id).query(
                        StandardChangeWorkflow.progress
                    )
                except RPCError as err:  # a worker busy with the batch may answer late
                    print(f"  (progress not answered: {err.message})")
                    continue
                print(
                    f"  {progress.done}/{progress.total} done, {progress.in_flight} in flight, "
                    f"run {progress.runs}"
                )
            seconds = time.perf_counter() - started
            runs = await history_per_run(client, batch_id)
        await engine.dispose()
        with psycopg.connect(url) as conn:
            audit = conn.execute(
                "SELECT count(*), count(DISTINCT case_id) FROM audit_log "
                "WHERE action = 'apply_standard' AND case_id LIKE 'DB-SC%%'"
            ).fetchone()
        assert audit is not None
        total = progress.total
        print(
            f"dibao  {seconds:7.1f} s  {total / seconds:6.1f} cases/s  "
            f"applied {progress.applied} skipped {progress.skipped_count}"
        )
        print(f"bare   {bare_seconds:7.1f} s  {args.recipients / bare_seconds:6.1f} cases/s")
        print(
            f"dibao / bare: time {seconds / bare_seconds:.2f}× (floor 1×); "
            f"runs {len(runs)}, most events in a run {max(runs)} "
            f"(bound ~{6 * args.cases_per_run + 50} for {args.cases_per_run} cases a run: an "
            "activity's 3 events a case, and as many of workflow tasks at most; "
            f"the 51,200-event limit is {51_200 / max(runs):.0f}× away); "
            f"apply_standard audit rows {audit[0]} over {audit[1]} households of "
            f"{args.recipients} (goal: each once)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--cases-per-run", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--page-size", type=int, default=500)
    asyncio.run(main(parser.parse_args()))
