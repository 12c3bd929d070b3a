"""/health and /health/ready: whether the API's dependencies answer, for a monitor or a load
balancer. Public, like a load balancer's probe: they say which dependency is down and the
error's kind, never anything stored."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api import errors
from api.outage import OutageOut, last_outage

router = APIRouter(tags=["ops"])

# A probe must answer before the load balancer's own timeout, whatever hangs behind it.
CHECK_TIMEOUT = 3.0


class DependencyOut(BaseModel):
    status: Literal["up", "down"]
    reason: str | None = Field(default=None, description="why it is down: the error's kind")


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description="ok when every dependency answers; degraded when one does not"
    )
    database: DependencyOut
    temporal: DependencyOut
    last_database_outage: OutageOut | None = Field(
        default=None,
        description="the last time a worker could not reach PostgreSQL, written once it could "
        "again, and how many step failures it could not record meanwhile",
    )


async def _database(
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[DependencyOut, OutageOut | None]:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT), sessions() as session:
            await session.execute(text("SELECT 1"))
            outage = await last_outage(session)
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


async def check(request: Request) -> HealthOut:
    (database, outage), temporal = await asyncio.gather(
        _database(request.app.state.sessions), _temporal(request.app.state.temporal)
    )
    ok = database.status == temporal.status == "up"
    return HealthOut(
        status="ok" if ok else "degraded",
        database=database,
        temporal=temporal,
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
