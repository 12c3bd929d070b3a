"""The CLI says which API it talks to when it cannot sign in, and says in words that an action
is queued when no worker takes it up."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from cli.http import QUEUED_EXIT_CODE
from dibao.settings import get_settings
from tests.auth import seed_staff
from tests.cli.conftest import dibao, free_port, sign_in_as
from tests.conftest import SAMPLE_PATH, Stack, make_settings


async def test_a_refused_sign_in_names_the_api(api_url: str) -> None:
    result = await dibao("login", "li.na", "--password-stdin", input="wrong password\n")
    assert result.exit_code == 2
    assert f"(API {api_url})" in result.output


@pytest.fixture
async def workerless(
    dev_env: WorkflowEnvironment,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Stack]:
    """A live API whose worker the test starts and stops itself."""
    settings = make_settings(database_url, dev_env.client).model_copy(
        update={"update_accept_seconds": 1.0}
    )
    stack = Stack(dev_env, settings)
    await seed_staff(database_url)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    monkeypatch.setenv("DIBAO_API_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("DIBAO_DATA_DIR", str(tmp_path / "data"))
    sign_in_as(monkeypatch, "zhang.wei")
    yield stack
    get_settings.cache_clear()
    server.should_exit = True
    await task
    await stack.settle()
    await stack.engine.dispose()


async def test_an_action_without_a_worker_is_reported_as_queued(workerless: Stack) -> None:
    async with workerless.worker():
        filed = await dibao("case", "new", "--file", str(SAMPLE_PATH), "--json")
        assert filed.exit_code == 0, filed.output
        case_id = json.loads(filed.output)["case_id"]
        workerless.started.append(case_id)

    result = await dibao("case", "withdraw", case_id, "--reason", "外出务工", "--request-id", "w-1")
    assert result.exit_code == QUEUED_EXIT_CODE, result.output
    assert "queued, not applied yet" in result.output
    assert "--request-id w-1" in result.output
