from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from tests.auth import VILLAGE, Staff
from tests.conftest import Stack

# Requests without headers of their own are the sample village's caseworker's.
CLERK = VILLAGE


@pytest.fixture
async def api(dev_stack: Stack, staff: Staff) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dev_stack.settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dibao.test", headers=CLERK
        ) as client,
    ):
        yield client


@pytest.fixture
async def ts_api(ts_stack: Stack, staff: Staff) -> AsyncIterator[httpx.AsyncClient]:
    """The API over the time-skipping server, for walking cases through 7-day postings."""
    app = create_app(ts_stack.settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dibao.test", headers=CLERK
        ) as client,
    ):
        yield client
