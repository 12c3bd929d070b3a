"""The 发放 page over HTTP (no browser): a discard needs its reason and is recorded; a build
that cannot go on is shown as it is, on a page that refreshes itself; the county's schedule is
written and shown; a caseworker has no payroll page."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.client import Client

from api.app import create_app
from console.forms.payroll import RUNS_PAGE, building_zh
from dibao.domain.enums import Role
from dibao.domain.payroll import PayrollInput, schedule_id_for, workflow_id_for
from dibao.messages.case import Actor
from tests.auth import Staff
from tests.conftest import Stack
from tests.console.test_forms_http import hidden, signed_in
from tests.console.test_payroll_browser import import_ledger
from workflows.payroll import PayrollWorkflow

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
async def client(dev_stack: Stack, staff: Staff) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dev_stack.settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dibao.test", timeout=60
        ) as http,
    ):
        yield http


def test_build_states_read_in_chinese() -> None:
    assert building_zh("building") == "正在生成花名册和银行文件"
    assert building_zh(
        "building — retrying after an interruption (attempt 3, last error: timeout)"
    ) == ("上次中断，正在重试（第 3 次，上次错误：timeout）")
    assert "另一期花名册" in building_zh(
        "building — retrying after an interruption (attempt 2, last error: PendingDraft)"
    )
    assert "worker" in building_zh(
        "building — waiting for a worker to take it up (is the worker running?)"
    )


async def test_discard_needs_a_reason_and_a_blocked_build_shows_its_state(
    client: httpx.AsyncClient, dev_stack: Stack
) -> None:
    await import_ledger(client, dev_stack, 4)
    dev_stack.started += [
        workflow_id_for("610423", "2026-12"),
        workflow_id_for("610423", "2026-11"),
    ]
    await signed_in(client, "chen.gang")
    page = await client.get("/console/payroll")
    built = await client.post(
        "/console/payroll/runs", data={**hidden(page.text), "period": "2026-12"}
    )
    assert built.status_code == 303
    run_url = built.headers["location"]
    assert run_url == "/console/payroll/runs/PR-610423-2026-12"
    run = await client.get(run_url)
    while "花名册预览" not in run.text:  # still building: the page refreshes itself
        assert '<meta http-equiv="refresh"' in run.text
        run = await client.get(run_url)

    # The downloads need the console's session only, like its pages.
    roster = await client.get(f"{run_url}/roster")
    assert roster.status_code == 200 and "花名册" in roster.text
    assert "script-src" not in roster.headers["content-security-policy"]
    bank = await client.get(f"{run_url}/bank-file")
    assert bank.status_code == 200 and bank.text.splitlines()[-1].startswith("SHA256,")

    # Another period while this one is a draft: refused at the field, with the reason.
    other = await client.post(
        "/console/payroll/runs", data={**hidden(run.text), "period": "2026-11"}
    )
    assert other.status_code == 409 and "尚未审核发放" in other.text

    # A build started anyway (as the schedule would) waits, visibly, for the draft.
    temporal: Client = dev_stack.client
    await temporal.start_workflow(
        PayrollWorkflow.run,
        PayrollInput(
            county_code="610423",
            period="2026-11",
            requested_by=Actor(id="chen.gang", role=Role.COUNTY_APPROVER),
        ),
        id=workflow_id_for("610423", "2026-11"),
        task_queue=dev_stack.settings.task_queue,
    )
    for _ in range(100):
        blocked = await client.get("/console/payroll/runs/PR-610423-2026-11")
        if "PendingDraft" in blocked.text:
            break
        await asyncio.sleep(0.1)
    assert blocked.status_code == 200
    assert '<meta http-equiv="refresh" content="2">' in blocked.text
    assert "PendingDraft" in blocked.text

    # No reason, no discard.
    empty = await client.post(f"{run_url}/discard", data={**hidden(run.text), "reason": " "})
    assert empty.status_code == 303 and empty.headers["location"].endswith("?discard=reason")
    assert "作废须写明理由" in (await client.get(empty.headers["location"])).text
    assert dev_stack.sql("SELECT count(*) FROM payroll_discards") == [(0,)]
    done = await client.post(
        f"{run_url}/discard", data={**hidden(run.text), "reason": "两户停发未录入"}
    )
    assert done.status_code == 200 and "已作废：两户停发未录入" in done.text
    assert dev_stack.sql("SELECT discarded_by, reason FROM payroll_discards") == [
        ("chen.gang", "两户停发未录入")
    ]


async def test_schedule_is_written_and_shown_and_a_caseworker_has_no_payroll(
    client: httpx.AsyncClient, dev_stack: Stack
) -> None:
    await signed_in(client, "chen.gang")
    page = await client.get("/console/payroll")
    assert "本县还没有发放计划" in page.text
    try:
        written = await client.post(
            "/console/payroll/schedule", data={**hidden(page.text), "cadence": "quarterly"}
        )
        assert written.status_code == 303
        page = await client.get("/console/payroll")
        assert "payroll-610423（按季度）" in page.text
    finally:
        handle = dev_stack.client.get_schedule_handle(schedule_id_for("610423"))
        await handle.delete()
    client.cookies.clear()
    await signed_in(client, "zhang.wei")
    assert (await client.get("/console/payroll")).status_code == 403


async def test_the_runs_table_pages_by_key_newest_first(
    client: httpx.AsyncClient, dev_stack: Stack
) -> None:
    total = RUNS_PAGE + 6
    dev_stack.sql(
        f"""
        INSERT INTO payroll_runs (run_id, county_code, period, status, maker, built_at,
            households, total_fen, bank_file, bank_file_sha256, roster_html)
        SELECT 'PR-610423-' || to_char(m, 'YYYY-MM'), '610423', to_char(m, 'YYYY-MM'), 'draft',
            'chen.gang', m, 0, 0, '', '', ''
        FROM generate_series(timestamptz '2024-01-01', timestamptz '2024-01-01'
            + interval '{total - 1} months', interval '1 month') AS m RETURNING 1
        """
    )
    await signed_in(client, "chen.gang")
    seen: list[list[str]] = []
    link: str | None = "/console/payroll"
    while link is not None:
        page = await client.get(link)
        assert page.status_code == 200, page.text
        seen.append(re.findall(r'href="/console/payroll/runs/(PR-610423-[0-9-]+)"', page.text))
        older = re.search(r'href="(/console/payroll\?after=[^"]+)">更早的批次', page.text)
        link = older.group(1).replace("&amp;", "&") if older else None
    assert [len(p) for p in seen] == [RUNS_PAGE, 6]
    months = [run_id.removeprefix("PR-610423-") for p in seen for run_id in p]
    assert months == sorted(months, reverse=True) and len(set(months)) == total
