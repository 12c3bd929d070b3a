"""The console's sign-in: the API's lock-out, idle and absolute expiry, no open redirect."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest

from api.app import create_app
from dibao.settings import Settings
from tests.auth import PASSWORD, Staff
from tests.conftest import TEST_CODEC_KEYS


@pytest.fixture
async def console(database_url: str, staff: Staff) -> AsyncIterator[httpx.AsyncClient]:
    # Pages that read no case need no Temporal (the app connects to it lazily).
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        codec_keys=TEST_CODEC_KEYS,
        temporal_address="127.0.0.1:9",
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dibao.test"
        ) as client,
    ):
        yield client


async def attempt(
    client: httpx.AsyncClient, password: str, next_path: str = "/console"
) -> httpx.Response:
    page = await client.get("/console/sign-in")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match
    return await client.post(
        "/console/sign-in",
        data={
            "csrf": match.group(1),
            "user_id": "zhang.wei",
            "password": password,
            "next": next_path,
        },
    )


async def test_wrong_passwords_lock_out_as_the_api_does(console: httpx.AsyncClient) -> None:
    for _ in range(5):
        refused = await attempt(console, "not the password")
        assert refused.status_code == 401
        assert "用户名或密码错误" in refused.text
    # Locked for a while from this address: even the right password is refused.
    locked = await attempt(console, PASSWORD)
    assert locked.status_code == 401
    assert "dibao_console=" not in locked.headers.get("set-cookie", "")


async def test_an_idle_session_ends(console: httpx.AsyncClient, database_url: str) -> None:
    signed_in = await attempt(console, PASSWORD)
    assert signed_in.status_code == 303
    assert (await console.get("/console")).status_code == 200
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE console_sessions SET last_seen_at = last_seen_at - interval '31 minutes', "
            "issued_at = issued_at - interval '31 minutes'"
        )
    idle = await console.get("/console/cases/DB-0000000000AB")
    assert idle.status_code == 303
    assert idle.headers["location"] == "/console/sign-in?next=/console/cases/DB-0000000000AB"


async def test_a_session_ends_at_its_absolute_expiry(
    console: httpx.AsyncClient, database_url: str
) -> None:
    await attempt(console, PASSWORD)
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE console_sessions SET expires_at = now() - interval '1 second', "
            "issued_at = now() - interval '10 hours'"
        )
    assert (await console.get("/console")).status_code == 303


async def test_sign_in_returns_only_to_console_pages(console: httpx.AsyncClient) -> None:
    away = await attempt(console, PASSWORD, next_path="https://evil.example/")
    assert away.headers["location"] == "/console"


async def test_only_the_hash_of_the_cookie_is_stored(
    console: httpx.AsyncClient, database_url: str
) -> None:
    await attempt(console, PASSWORD)
    token = console.cookies["dibao_console"]
    with psycopg.connect(database_url) as conn:
        stored = conn.execute("SELECT token_sha256 FROM console_sessions").fetchall()
    assert stored and all(token not in row[0] for row in stored)
