"""The Temporal worker: runs CaseWorkflow and its activities on the configured task queue.

Run as many as the load needs (`dibao worker` on each machine); they share the task queue.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.case_activities import CaseActivities
from activities.payroll_activities import PayrollActivities
from activities.procedure_activities import ProcedureActivities
from activities.standard_change_activities import StandardChangeActivities
from activities.verification.activity import VerificationActivities
from activities.verification.connectors import Connector, default_connectors
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.settings import Settings, get_settings
from dibao.temporal_client import connect
from workflows.case import CaseWorkflow
from workflows.payroll import PayrollWorkflow
from workflows.standard_change import StandardChangeWorkflow

WORKFLOWS = [CaseWorkflow, PayrollWorkflow, StandardChangeWorkflow]


def build_activities(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    client: Client,
    connectors: list[Connector] | None = None,
) -> list[Any]:
    """Every activity, bound to its dependencies. Tests pass their own registry connectors."""
    return [
        *StandardChangeActivities(sessions, client).all(),
        *CaseActivities(sessions, settings).all(),
        *ProcedureActivities(sessions, settings).all(),
        *PayrollActivities(sessions, settings).all(),
        *VerificationActivities(sessions, connectors or default_connectors(sessions)).all(),
    ]


def workflow_runner() -> SandboxedWorkflowRunner:
    # Pure libraries the domain rules use: loaded once, outside the sandbox, so validators
    # (which check ID numbers) do not re-import them on every workflow task.
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            "stdnum", "chinese_calendar", "dibao.domain"
        )
    )


def build_worker(client: Client, settings: Settings, activities: list[Any]) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=activities,
        workflow_runner=workflow_runner(),
    )


async def run(settings: Settings) -> None:
    client = await connect(settings)
    engine = make_engine(settings)
    activities = build_activities(make_sessionmaker(engine), settings, client)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    worker = build_worker(client, settings, activities)
    logging.info(
        "worker polling task queue %s on %s", settings.task_queue, settings.temporal_target
    )
    async with worker:
        await stop.wait()
    await engine.dispose()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    asyncio.run(run(get_settings()))


if __name__ == "__main__":
    main()
