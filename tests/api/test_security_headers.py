"""Pages built from what caseworkers typed run no script in the browser that shows them."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from api.security_headers import SecurityHeaders
from tests.api.notices import until_notice
from tests.conftest import Stack


def assert_locked_down(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # falls back to 'none': no script at all


async def test_a_notice_page_may_run_no_script_nor_be_sniffed(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    filed = await api.post("/cases", json=sample)
    assert filed.status_code == 201, filed.text
    page = await api.get((await until_notice(api, filed))["notices"][0]["url"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert_locked_down(page)
    # JSON answers are not sniffed either, and need no page policy.
    case = await api.get(f"/cases/{filed.json()['case_id']}")
    assert case.headers["x-content-type-options"] == "nosniff"


async def test_every_html_response_gets_the_page_policy() -> None:
    # The roster page (GET /payroll/runs/{id}/roster) and any later page go through the same
    # middleware; a bare app shows it without building a payroll.
    app = FastAPI()

    @app.get("/page", response_class=HTMLResponse)
    async def page() -> str:
        return "<p>花名册</p>"

    app.add_middleware(SecurityHeaders)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://dibao.test"
    ) as client:
        assert_locked_down(await client.get("/page"))
        # The interactive docs load their scripts from a CDN: left as FastAPI serves them.
        docs = await client.get("/docs")
        assert "content-security-policy" not in docs.headers
