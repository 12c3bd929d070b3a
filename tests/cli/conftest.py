"""A live API server (uvicorn) over the test's worker, Temporal and PostgreSQL, for the CLI."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner, Result

from api.app import create_app
from cli.main import app as cli_app
from dibao.settings import get_settings
from tests.auth import Staff, token_of
from tests.conftest import Stack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def api_url(
    dev_stack: Stack, staff: Staff, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    """The API's URL; the CLI is signed in as li.na (township caseworker) through DIBAO_TOKEN,
    and keeps any token file of its own in a temporary data directory."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(dev_stack.settings), port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("DIBAO_API_URL", url)
    monkeypatch.setenv("DIBAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", dev_stack.settings.database_url or "")
    sign_in_as(monkeypatch, "li.na")
    yield url
    get_settings.cache_clear()
    server.should_exit = True
    await task


def sign_in_as(monkeypatch: pytest.MonkeyPatch, user_id: str | None) -> None:
    """Make later commands act as the user (tests/auth.py), or as nobody signed in."""
    if user_id is None:
        monkeypatch.delenv("DIBAO_TOKEN", raising=False)
    else:
        monkeypatch.setenv("DIBAO_TOKEN", token_of(user_id))
    get_settings.cache_clear()


async def dibao(*args: str, input: str | None = None) -> Result:
    # The CLI is synchronous; run it off the event loop that serves the API.
    return await asyncio.to_thread(CliRunner().invoke, cli_app, list(args), input)
