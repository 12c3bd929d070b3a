"""A dependency that is down: requests answer 503 naming it, never a bare 500, and the health
endpoints tell a monitor or load balancer which one."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.app import create_app
from dibao.db import outage_repo
from dibao.settings import Settings
from tests.api.conftest import CLERK
from tests.auth import COUNTY, SUPERVISOR, Staff
from tests.conftest import Stack


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens on it once the socket is closed


async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dibao.test", headers=CLERK
        ) as client,
    ):
        yield client


@pytest.fixture
async def no_database(dev_stack: Stack, staff: Staff) -> AsyncIterator[httpx.AsyncClient]:
    url = f"postgresql://postgres@127.0.0.1:{closed_port()}/dibao"
    async for client in client_for(dev_stack.settings.model_copy(update={"database_url": url})):
        yield client


@pytest.fixture
async def no_temporal(dev_stack: Stack, staff: Staff) -> AsyncIterator[httpx.AsyncClient]:
    address = f"127.0.0.1:{closed_port()}"
    async for client in client_for(
        dev_stack.settings.model_copy(update={"temporal_address": address})
    ):
        yield client


async def test_health_reports_each_dependency_up(api: httpx.AsyncClient) -> None:
    for path in ("/health", "/health/ready"):
        response = await api.get(path)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "ok"
        assert body["database"] == {"status": "up", "reason": None}
        assert body["temporal"] == {"status": "up", "reason": None}
        assert body["worker"] == {"status": "up", "reason": None}


async def test_database_down_is_503_with_a_reason_and_named_by_health(
    no_database: httpx.AsyncClient,
) -> None:
    signed_in = await no_database.post(
        "/auth/token", json={"user_id": "zhang.wei", "password": "whatever"}
    )
    me = await no_database.get("/auth/me")
    case = await no_database.get("/cases/DB-0000000000AB")
    listing = await no_database.get("/cases")
    for response in (signed_in, me, case, listing):
        assert response.status_code == 503, response.text
        detail = response.json()["detail"]
        assert detail["dependency"] == "database"
        assert "PostgreSQL" in detail["message"] and detail["reason"]
        assert response.headers["retry-after"]

    ready = await no_database.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["status"] == "degraded"
    assert ready.json()["database"]["status"] == "down"
    assert ready.json()["database"]["reason"]
    assert ready.json()["temporal"]["status"] == "up"
    # Liveness stays 200 (the process is fine), but says what is wrong.
    health = await no_database.get("/health")
    assert health.status_code == 200 and health.json()["database"]["status"] == "down"


async def test_temporal_down_is_named_by_health_and_actions_answer_503(
    no_temporal: httpx.AsyncClient, sample: dict[str, Any]
) -> None:
    filed = await no_temporal.post("/cases", json=sample)
    assert filed.status_code == 503, filed.text
    assert "repeat the request" in filed.json()["detail"]["message"]
    me = await no_temporal.get("/auth/me")
    assert me.status_code == 200  # what needs only the database still works
    standard_change = await no_temporal.get(
        "/standard-changes/SC-610423-2099-01-unknown", headers=COUNTY
    )
    assert standard_change.status_code == 503, standard_change.text
    assert standard_change.json()["detail"]["dependency"] == "temporal"
    ready = await no_temporal.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["temporal"]["status"] == "down"
    assert ready.json()["database"]["status"] == "up"


async def test_an_outage_a_worker_saw_is_shown_by_health_and_the_stuck_list(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    assert (await api.get("/health")).json()["last_database_outage"] is None
    seen = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    async with dev_stack.sessions() as session:
        await outage_repo.record_outage(
            session,
            outage_repo.Outage(
                worker="host:1",
                first_seen_at=seen,
                last_seen_at=seen + timedelta(minutes=4),
                unrecorded_failures=3,
                activity_types=("close_posting", "issue_notice"),
            ),
            seen + timedelta(minutes=5),
        )
    outage = (await api.get("/health")).json()["last_database_outage"]
    assert outage["unrecorded_failures"] == 3
    assert outage["activity_types"] == ["close_posting", "issue_notice"]
    assert "between 2026-12-01 09:30:00 and 2026-12-01 09:34:00 UTC" in outage["message"]
    assert "stuck list" in outage["message"]
    stuck = await api.get("/supervision/stuck", headers=SUPERVISOR)
    assert stuck.json()["database_outage"] == outage


async def test_health_says_when_no_worker_polls_but_stays_ready(
    dev_stack: Stack, staff: Staff
) -> None:
    nobody = dev_stack.settings.model_copy(update={"task_queue": "dibao-no-worker-here"})
    async for client in client_for(nobody):
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["worker"]["status"] == "down"
        assert "dibao-no-worker-here" in ready.json()["worker"]["reason"]
