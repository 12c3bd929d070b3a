"""What touching a recipient case costs when it is not in the worker's cache, what a cached case
costs in memory, and how long a recipient's history grows per review cycle.

    .venv/bin/python -m bench.uncached_case [--recipients 300] [--sample 20]

One Temporal dev server (started here), PostgreSQL (DATABASE_URL's server or an embedded one),
the worker in this process. One household is walked into the recipient phase
(bench/lifecycle.py); `--recipients` CaseWorkflows are started from its recipient state, as a
county's recipients sleep between reviews.

Printed:
- memory per cached workflow: the worker's RSS growth with every recipient cached, divided by
  their number (what DIBAO_MAX_CACHED_WORKFLOWS costs);
- a recipient run's history (events, bytes) at the start of a cycle, and the replay CPU of that
  history (temporalio's Replayer, the work a worker does before it can answer an uncached case);
- query and update round trips on cached cases (worker cache on) beside uncached ones (a worker
  with max_cached_workflows=0: every task replays the history first);
- two review cycles on `--sample` cases (income change reported, re-review submitted, the run
  continues as new): events at the end of each cycle's run, which stay the same from cycle to
  cycle (bounded per cycle, not growing with the years).

Timings live here, never in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import psutil
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Replayer

from bench.bench_db import seeded_database
from bench.lifecycle import PACK, Driver, connect, dev_server
from bench.standard_change import clone_rows, start_recipients
from dibao.codec import new_key
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.domain.recipient import CircumstanceKind
from dibao.messages.case import CaseInput, CaseView, ReportCircumstance, SubmitSurvey
from dibao.settings import Settings
from dibao.temporal_client import register_search_attributes
from tests.workflows import helpers
from worker import WORKFLOWS, build_activities, build_worker, workflow_runner
from workflows import search_attributes as sa
from workflows.case import CaseWorkflow


def rss_mb() -> float:
    gc.collect()
    return float(psutil.Process().memory_info().rss) / 2**20


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def line(label: str, values: list[float]) -> str:
    return (
        f"{label:<44} p50 {statistics.median(values):7.1f}  p95 {pct(values, 0.95):7.1f}  "
        f"max {max(values):7.1f} ms"
    )


async def timed(sink: list[float], call: Any) -> Any:
    started = time.perf_counter()
    result = await call
    sink.append((time.perf_counter() - started) * 1000)
    return result


async def run_id(client: Client, case_id: str) -> str:
    described = await client.get_workflow_handle(case_id).describe()
    return str(described.run_id)


async def events_of(client: Client, case_id: str, run: str | None = None) -> tuple[int, int]:
    history = await client.get_workflow_handle(case_id, run_id=run).fetch_history()
    return len(history.events), sum(e.ByteSize() for e in history.events)


async def queries_and_updates(client: Client, ids: list[str]) -> tuple[list[float], list[float]]:
    """A query, and an update: the income change that opens the first review cycle (sent on
    cached cases first, then repeated with its request ID on uncached ones: a repeat answers
    the first's outcome and changes nothing, but still needs the workflow's state)."""
    queries: list[float] = []
    updates: list[float] = []
    for case_id in ids:
        handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(case_id)
        await timed(queries, handle.query(CaseWorkflow.state))
        await timed(
            updates, handle.execute_update(CaseWorkflow.report_circumstance, income_change(0))
        )
    return queries, updates


def income_change(cycle: int) -> ReportCircumstance:
    return ReportCircumstance(
        request_id=f"income-{cycle}",
        actor=helpers.VILLAGE,
        kind=CircumstanceKind.INCOME_CHANGE,
        details="收入情况有变化，申请复核",
    )


async def review_cycle(client: Client, case_id: str, cycle: int) -> tuple[int, int, str]:
    """Report an income change (the review falls due), submit the re-review: the run ends with
    continue-as-new. Answers the finished run's history (events, bytes) and its run ID."""
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(case_id)
    before = await run_id(client, case_id)
    view: CaseView = await handle.execute_update(
        CaseWorkflow.report_circumstance, income_change(cycle)
    )
    report = helpers.survey_of(view.application)
    await handle.execute_update(
        CaseWorkflow.submit_review,
        SubmitSurvey(request_id=f"review-{cycle}", actor=helpers.VILLAGE, report=report),
    )
    for _ in range(400):
        if await run_id(client, case_id) != before:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"{case_id} did not continue as new after its review")
    events, size = await events_of(client, case_id, before)
    return events, size, before


async def main(args: argparse.Namespace) -> None:
    base = Settings(
        _env_file=None,
        codec_keys=new_key(),
        drill_poll_seconds=0,
        sdk_metrics_port=0,
        worker_metrics_port=0,
    )
    with seeded_database([], {}, "nothing") as url, dev_server() as (target, _server):
        settings = base.model_copy(
            update={
                "database_url": url,
                "temporal_address": target,
                "task_queue": "uncached-bench",
                "max_cached_workflows": args.recipients + 100,
            }
        )
        client = await connect(target, settings)
        await register_search_attributes(client, client.namespace, sa.ALL_KEYS)
        engine = make_engine(settings)
        sessions = make_sessionmaker(engine)
        activities = build_activities(sessions, settings, client)
        sample: list[str]
        async with build_worker(client, settings, activities, sessions):
            driver = Driver(client, settings, sessions)
            first = await driver.walk(0, [])
            view = await helpers.state(first)
            template = CaseInput(
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
            rss_before = rss_mb()
            await start_recipients(client, settings, template, view, ids)
            # Every recipient run answers once: each is then in this worker's cache.
            for case_id in ids:
                await client.get_workflow_handle(case_id).query(CaseWorkflow.state)
            rss_after = rss_mb()
            sample = ids[: args.sample]
            warm_q, warm_u = await queries_and_updates(client, sample)

        per_case_kb = (rss_after - rss_before) * 1024 / len(ids)
        events, size = await events_of(client, sample[0])
        history = await client.get_workflow_handle(sample[0]).fetch_history()
        replayer = Replayer(
            workflows=WORKFLOWS,
            workflow_runner=workflow_runner(),
            data_converter=client.data_converter,
        )
        replays: list[float] = []
        cpu: list[float] = []
        for _ in range(args.sample):
            began, began_cpu = time.perf_counter(), time.process_time()
            await replayer.replay_workflow(history)
            replays.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)

        # The same cases through a worker that caches nothing: every task replays first.
        cold = settings.model_copy(update={"max_cached_workflows": 0})
        async with build_worker(client, cold, build_activities(sessions, cold, client), sessions):
            cold_q, cold_u = await queries_and_updates(client, sample)
            cycles: list[list[tuple[int, int, str]]] = [[], []]
            for case_id in sample:
                for cycle in (0, 1):
                    cycles[cycle].append(await review_cycle(client, case_id, cycle))
            after_events, _ = await events_of(client, sample[0])
        # Replaying a whole finished cycle: the most an uncached case can cost before answering.
        full = await client.get_workflow_handle(sample[0], run_id=cycles[0][0][2]).fetch_history()
        full_cpu: list[float] = []
        for _ in range(args.sample):
            began_cpu = time.process_time()
            await replayer.replay_workflow(full)
            full_cpu.append((time.process_time() - began_cpu) * 1000)
        await engine.dispose()

    print(f"{len(ids)} recipient cases cached; sample of {len(sample)}")
    print(
        f"memory per cached workflow: {per_case_kb:.0f} KB "
        f"(worker RSS {rss_before:.0f} -> {rss_after:.0f} MB)"
    )
    print(f"a recipient run at the start of its cycle: {events} events, {size / 1024:.1f} KB")
    print(line("replay of that history (wall)", replays))
    print(line("replay of that history (CPU)", cpu))
    print(line("query, cached", warm_q))
    print(line("query, uncached (replays first)", cold_q))
    print(line("update (income change), cached", warm_u))
    print(line("update (its repeat), uncached (replays first)", cold_u))
    for n, runs in enumerate(cycles, start=1):
        counts = [e for e, _, _ in runs]
        sizes = [b / 1024 for _, b, _ in runs]
        print(
            f"review cycle {n}: events in the finished run min {min(counts)} max {max(counts)}, "
            f"{statistics.median(sizes):.1f} KB"
        )
    print(line(f"replay of a finished cycle ({len(full.events)} events, CPU)", full_cpu))
    print(f"the run after two cycles starts with {after_events} events (bounded per cycle)")
    print(
        f"uncached touch costs {pct(cold_q, 0.95) / max(pct(warm_q, 0.95), 0.001):.1f}x a cached "
        "query (p95)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=300)
    parser.add_argument("--sample", type=int, default=20)
    asyncio.run(main(parser.parse_args()))
