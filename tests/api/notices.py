"""Waiting for a filed case's first notice, as a client does: a filing answers once the case is
saved and its workflow started, with `notices_url` to poll until the notice is issued."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


async def until_notice(
    api: httpx.AsyncClient,
    filed: httpx.Response | dict[str, Any],
    headers: dict[str, str] | None = None,
    *,
    seconds: float = 30,
) -> dict[str, Any]:
    """The case (GET /cases/{id}) once its notices list holds at least one notice."""
    answer = filed.json() if isinstance(filed, httpx.Response) else filed
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        listed = await api.get(answer["notices_url"], headers=headers)
        assert listed.status_code == 200, listed.text
        if listed.json():
            break
        assert asyncio.get_running_loop().time() < deadline, "no notice issued in time"
        await asyncio.sleep(0.05)
    case = await api.get(f"/cases/{answer['case_id']}", headers=headers)
    assert case.status_code == 200, case.text
    shown: dict[str, Any] = case.json()
    return shown
