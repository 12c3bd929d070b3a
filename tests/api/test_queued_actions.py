"""An action sent while no worker runs answers within seconds (202, queued, with its request
ID) instead of hanging, and applies exactly once when a worker is back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from tests.api.conftest import CLERK
from tests.api.notices import until_notice
from tests.auth import Staff, seed_staff
from tests.conftest import Stack, make_settings


@pytest.fixture
async def stack(dev_env: WorkflowEnvironment, database_url: str) -> AsyncIterator[Stack]:
    """A stack whose worker the test starts and stops itself."""
    settings = make_settings(database_url, dev_env.client).model_copy(
        update={"update_accept_seconds": 2.0}
    )
    stack = Stack(dev_env, settings)
    yield stack
    await stack.settle()
    await stack.engine.dispose()


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    staff: Staff = await seed_staff(stack.settings.database_url or "")
    assert staff
    app = create_app(stack.settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dibao.test", headers=CLERK
        ) as client,
    ):
        yield client


async def test_action_without_a_worker_is_queued_and_applies_once_when_one_returns(
    api: httpx.AsyncClient, stack: Stack, sample: dict[str, Any]
) -> None:
    async with stack.worker():
        filed = await api.post("/cases", json=sample)
        assert filed.status_code == 201, filed.text
        case_id = filed.json()["case_id"]
        stack.started.append(case_id)
        # Filing answers before the worker's first stage; the worker leaves once it is written.
        await until_notice(api, filed)

    # No worker: the API answers within seconds, saying the action is kept.
    began = time.monotonic()
    sent = await api.post(
        f"/cases/{case_id}/withdraw",
        json={"reason": "外出务工"},
        headers={"Idempotency-Key": "withdraw-0001"},
    )
    assert time.monotonic() - began < 10
    assert sent.status_code == 202, sent.text
    body = sent.json()
    assert body["status"] == "queued" and body["request_id"] == "withdraw-0001"
    assert body["case_id"] == case_id
    assert "worker" in body["reason"] and "withdraw-0001" in body["reason"]

    # A repeat while still no worker runs is queued again, not a second action.
    again = await api.post(
        f"/cases/{case_id}/withdraw",
        json={"reason": "外出务工"},
        headers={"Idempotency-Key": "withdraw-0001"},
    )
    assert again.status_code == 202, again.text

    async with stack.worker():
        for _ in range(200):
            shown = await api.get(f"/cases/{case_id}")
            if shown.json()["status"] == "withdrawn":
                break
            await asyncio.sleep(0.05)
        assert shown.json()["status"] == "withdrawn", shown.text
        # The repeat now answers the outcome; the case withdrew once, with one notice.
        repeat = await api.post(
            f"/cases/{case_id}/withdraw",
            json={"reason": "外出务工"},
            headers={"Idempotency-Key": "withdraw-0001"},
        )
        assert repeat.status_code == 200, repeat.text
        assert repeat.json()["status"] == "withdrawn"
        kinds = [n["kind"] for n in repeat.json()["notices"]]
        assert kinds.count("withdrawal") == 1
        audit = stack.sql(
            "SELECT count(*) FROM audit_log WHERE case_id = %s AND action = 'withdraw'",
            case_id,
        )
        assert audit == [(1,)]
