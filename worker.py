"""The Temporal worker: runs the workflows (cases, payroll, standard changes, ledger imports)
and their activities on the configured task queue.

Run as many as the load needs (`dibao worker` on each machine); they share the task queue.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta
from typing import Any

from prometheus_client import start_http_server
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.case_activities import CaseActivities
from activities.household_activities import HouseholdActivities
from activities.interceptor import StepFailureInterceptor
from activities.ledger_activities import LedgerImportActivities
from activities.ops_activities import OpsActivities
from activities.payroll_activities import PayrollActivities
from activities.procedure_activities import ProcedureActivities
from activities.standard_change_activities import StandardChangeActivities
from activities.verification.activity import VerificationActivities
from activities.verification.connectors import Connector, default_connectors
from dibao import logs
from dibao.db.engine import make_engine, make_sessionmaker
from dibao.metrics import WORKER_REGISTRY
from dibao.settings import Settings
from dibao.temporal_client import connect, startup_settings
from workflows.case import CaseWorkflow
from workflows.ledger_import import LedgerImportWorkflow
from workflows.payroll import PayrollWorkflow
from workflows.standard_change import StandardChangeWorkflow

WORKFLOWS = [CaseWorkflow, PayrollWorkflow, StandardChangeWorkflow, LedgerImportWorkflow]


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
        *OpsActivities(sessions).all(),
        *HouseholdActivities(sessions).all(),
        *LedgerImportActivities(sessions, settings, client).all(),
    ]


def workflow_runner() -> SandboxedWorkflowRunner:
    # Pure libraries the domain rules use: loaded once, outside the sandbox, so validators
    # (which check ID numbers) do not re-import them on every workflow task.
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            "stdnum", "chinese_calendar", "dibao.domain"
        )
    )


def build_worker(
    client: Client,
    settings: Settings,
    activities: list[Any],
    sessions: async_sessionmaker[AsyncSession],
) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=activities,
        workflow_runner=workflow_runner(),
        interceptors=[StepFailureInterceptor(sessions, settings.drill_poll_seconds)],
        max_cached_workflows=settings.max_cached_workflows,
        sticky_queue_schedule_to_start_timeout=timedelta(
            seconds=settings.sticky_queue_timeout_seconds
        ),
        max_concurrent_workflow_tasks=settings.max_concurrent_workflow_tasks,
        max_concurrent_activities=settings.max_concurrent_activities,
    )


def metrics_runtime(settings: Settings) -> Runtime | None:
    """The SDK's own metrics (workflow task latency, schedule-to-start, poll counts…) in
    Prometheus format on DIBAO_SDK_METRICS_PORT; None when that port is 0."""
    if not settings.sdk_metrics_port:
        return None
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(
                bind_address=f"{settings.metrics_host}:{settings.sdk_metrics_port}"
            )
        )
    )


def start_metrics_server(settings: Settings) -> Any:
    """Activity latency and failures, counted by the interceptor (dibao.metrics), on
    DIBAO_WORKER_METRICS_PORT; None when that port is 0."""
    if not settings.worker_metrics_port:
        return None
    server, _ = start_http_server(
        settings.worker_metrics_port, addr=settings.metrics_host, registry=WORKER_REGISTRY
    )
    return server


async def run(settings: Settings) -> None:
    client = await connect(settings, metrics_runtime(settings))
    metrics_server = start_metrics_server(settings)
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    activities = build_activities(sessions, settings, client)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    worker = build_worker(client, settings, activities, sessions)
    logging.info(
        "worker polling task queue %s on %s; metrics on %s:%s (SDK) and :%s (activities)",
        settings.task_queue,
        settings.temporal_target,
        settings.metrics_host,
        settings.sdk_metrics_port,
        settings.worker_metrics_port,
    )
    async with worker:
        await stop.wait()
    await engine.dispose()
    if metrics_server is not None:
        # Stopped before the interpreter finalizes: a serving thread left running then
        # aborts the process (exit 134) instead of a clean exit.
        metrics_server.shutdown()
        metrics_server.server_close()


def main() -> None:
    settings = startup_settings("dibao worker")
    logs.configure("worker", settings.log_format)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
