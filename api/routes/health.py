"""/health and /health/ready: whether the API's dependencies answer, for a monitor or a load
balancer. Public, like a load balancer's probe: they say which dependency is down and the
error's kind, never anything stored."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Literal

import sqlalchemy.exc
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from api import errors
from api.outage import OutageOut, last_outage
from dibao.settings import Settings

router = APIRouter(tags=["ops"])

# A probe must answer before the load balancer's own timeout, whatever hangs behind it.
CHECK_TIMEOUT = 3.0
# A worker long-polls continuously (a poll lasts up to a minute): one not seen for longer is gone.
WORKER_SEEN_WITHIN = 90.0


class DependencyOut(BaseModel):
    status: Literal["up", "down"]
    reason: str | None = Field(default=None, description="why it is down: the error's kind")


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description="ok when every dependency answers; degraded when one does not"
    )
    database: DependencyOut
    temporal: DependencyOut
    worker: DependencyOut = Field(
        description="whether a worker polls the task queue; not part of readiness: the API "
        "serves reads without one, and actions sent meanwhile are queued (202)"
    )
    last_database_outage: OutageOut | None = Field(
        default=None,
        description="the last time a worker could not reach PostgreSQL, written once it could "
        "again, and how many step failures it could not record meanwhile",
    )


async def _database(
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[DependencyOut, OutageOut | None]:
    outage = None
    try:
        async with asyncio.timeout(CHECK_TIMEOUT), sessions() as session:
            await session.execute(text("SELECT 1"))
            try:
                outage = await last_outage(session)
            except sqlalchemy.exc.ProgrammingError:  # migrations not applied yet: no table
                await session.rollback()
    except TimeoutError:
        return DependencyOut(status="down", reason=f"no answer within {CHECK_TIMEOUT:.0f} s"), None
    except Exception as err:  # any failure to answer is the answer
        return DependencyOut(status="down", reason=errors.error_kind(err)), None
    return DependencyOut(status="up"), outage


async def _temporal(client: Client) -> DependencyOut:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            healthy = await client.service_client.check_health(
                timeout=timedelta(seconds=CHECK_TIMEOUT)
            )
    except TimeoutError:
        return DependencyOut(status="down", reason=f"no answer within {CHECK_TIMEOUT:.0f} s")
    except Exception as err:
        return DependencyOut(status="down", reason=errors.error_kind(err))
    return (
        DependencyOut(status="up") if healthy else DependencyOut(status="down", reason="unhealthy")
    )


async def _worker(client: Client, settings: Settings) -> DependencyOut:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            described = await client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=client.namespace,
                    task_queue=TaskQueue(name=settings.task_queue),
                    task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                ),
                timeout=timedelta(seconds=CHECK_TIMEOUT),
            )
    except TimeoutError:
        return DependencyOut(status="down", reason=f"no answer within {CHECK_TIMEOUT:.0f} s")
    except Exception as err:
        return DependencyOut(status="down", reason=errors.error_kind(err))
    now = datetime.now(UTC)
    recent = [
        p
        for p in described.pollers
        if (now - p.last_access_time.ToDatetime(tzinfo=UTC)).total_seconds() < WORKER_SEEN_WITHIN
    ]
    if not recent:
        return DependencyOut(
            status="down",
            reason=f"no worker polled task queue {settings.task_queue} in the last "
            f"{WORKER_SEEN_WITHIN:.0f} s",
        )
    return DependencyOut(status="up")


async def check(request: Request) -> HealthOut:
    (database, outage), temporal, worker = await asyncio.gather(
        _database(request.app.state.sessions),
        _temporal(request.app.state.temporal),
        _worker(request.app.state.temporal, request.app.state.settings),
    )
    ok = database.status == temporal.status == "up"
    return HealthOut(
        status="ok" if ok else "degraded",
        database=database,
        temporal=temporal,
        worker=worker,
        last_database_outage=outage,
    )


@router.get(
    "/health",
    response_model=HealthOut,
    summary="Liveness, and the state of each dependency (always 200 while the API runs)",
)
async def health(request: Request) -> HealthOut:
    return await check(request)


@router.get(
    "/health/ready",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "a dependency is down: it is named"}},
    summary="Readiness: 200 when the database and Temporal answer, 503 naming the one that does not",
)
async def ready(request: Request, response: Response) -> HealthOut:
    result = await check(request)
    if result.status != "ok":
        response.status_code = 503
    return result
