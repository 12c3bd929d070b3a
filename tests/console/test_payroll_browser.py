"""发放 in a real browser: a county approver builds the county's payroll and watches it build,
previews the roster with its totals and checksum and downloads the bank file; as its maker they
are not offered the release, and a forged release is refused with the workflow's reason; a
second approver releases it. Households without an account are listed with why."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from dibao.domain.enums import Role
from dibao.domain.payroll import PayrollInput, workflow_id_for
from dibao.ledger_files import ledger_csv
from dibao.messages.case import Actor
from tests.api.test_ledger_import import until_started
from tests.auth import COUNTY
from tests.conftest import Stack
from tests.console.conftest import screenshot, sign_in
from tests.golive import ledger_rows
from workflows.payroll import PayrollWorkflow

pytestmark = pytest.mark.timeout(240)

PERIOD = "2026-12"
RUN_ID = f"PR-610423-{PERIOD}"


async def import_ledger(api: httpx.AsyncClient, stack: Stack, households: int) -> None:
    """The county's households through the API's ledger import (receiving, paid to October)."""
    response = await api.post(
        "/ledger/imports",
        params={"county": "610423"},
        files={"file": ("ledger.csv", ledger_csv(ledger_rows(households)))},
        headers=COUNTY,
    )
    assert response.status_code == 202, response.text
    await until_started(api, response.json()["import_id"])
    stack.started += [r[0] for r in stack.sql("SELECT case_id FROM cases")]
    # The fourth household's account is missing (as a ledger of an office may have it): it is
    # held back from the bank file.
    stack.sql(
        "UPDATE applications SET payload = jsonb_set(payload, '{payee,account_no}', '\"\"') "
        "WHERE case_id = (SELECT case_id FROM entitlement_changes WHERE certificate_no = %s "
        "LIMIT 1) RETURNING case_id",
        "LD000003",
    )


async def test_maker_builds_second_user_releases_and_a_forged_release_is_refused(
    new_page: Any, served: str, dev_stack: Stack
) -> None:
    async with httpx.AsyncClient(base_url=served, timeout=60) as api:
        await import_ledger(api, dev_stack, 7)
    dev_stack.started.append(workflow_id_for("610423", PERIOD))
    maker = await new_page()
    await sign_in(maker, "chen.gang")
    await maker.get_by_role("link", name="发放", exact=True).click()
    await maker.get_by_role("heading", level=1, name=re.compile("^发放")).wait_for()
    await screenshot(maker, "payroll")
    await maker.get_by_role("link", name=re.compile("暂不能发放的家庭")).click()
    held = maker.locator("section[aria-labelledby='held-h']")
    assert "户主3" in await held.inner_text() and "没有收款账户" in await held.inner_text()
    await screenshot(maker, "payroll-held")
    await maker.get_by_role("link", name="返回发放").click()

    await maker.get_by_label("发放期间").fill(PERIOD)
    await maker.get_by_role("button", name="生成", exact=True).click()
    await maker.wait_for_url(re.compile(rf".*/console/payroll/runs/{RUN_ID}$"))
    # The progress page reloads itself until the roster is stored.
    await maker.get_by_role("heading", name="花名册预览").wait_for(timeout=90_000)
    households = await maker.get_by_test_id("households").inner_text()
    assert households.strip() == "6 户"
    checksum = (await maker.get_by_test_id("checksum").inner_text()).strip()
    assert re.fullmatch(r"[0-9a-f]{64}", checksum)
    preview = maker.locator("section[aria-labelledby='roster-h']")
    assert await preview.get_by_role("row").count() == 7  # header and six households
    assert "正常发放" in await preview.inner_text()
    # The maker is not offered the release.
    assert await maker.get_by_role("button", name="审核发放").count() == 0
    assert "您是本花名册的制表人" in await maker.locator("main").inner_text()
    await screenshot(maker, "payroll-run-maker")

    async with maker.expect_download() as download_info:
        await maker.get_by_role("link", name="下载银行文件（CSV）").click()
    download = await download_info.value
    content = Path(await download.path()).read_text(encoding="utf-8")
    assert content.rstrip("\n").splitlines()[-1] == f"SHA256,{checksum}"
    assert content.count("\n") == 1 + 6 + 1 + 1  # header, rows, TOTAL, SHA256

    # Forging the release (the form's own fields, posted by hand) is refused with the reason.
    csrf = await maker.locator("input[name='csrf']").first.get_attribute("value")
    forged = await maker.request.post(
        f"/console/payroll/runs/{RUN_ID}/release",
        form={"csrf": csrf, "request_id": "6f1c2b1e-5a5c-4b8e-9d3e-1a2b3c4d5e6f"},
    )
    assert forged.status == 403
    assert "制表人，不能同时审核" in await forged.text()
    assert dev_stack.sql("SELECT status FROM payroll_runs WHERE run_id = %s", RUN_ID) == [
        ("draft",)
    ]

    # A build started meanwhile (as the schedule would) waits for this draft, visibly; its page
    # refreshes itself (a <meta refresh>, no script).
    dev_stack.started.append(workflow_id_for("610423", "2026-11"))
    await dev_stack.client.start_workflow(
        PayrollWorkflow.run,
        PayrollInput(
            county_code="610423",
            period="2026-11",
            requested_by=Actor(id="chen.gang", role=Role.COUNTY_APPROVER),
        ),
        id=workflow_id_for("610423", "2026-11"),
        task_queue=dev_stack.settings.task_queue,
    )
    await maker.goto("/console/payroll/runs/PR-610423-2026-11")
    await (
        maker.get_by_test_id("build-status")
        .filter(has_text="另一期花名册")
        .wait_for(timeout=60_000)
    )
    await screenshot(maker, "payroll-building")

    checker = await new_page()
    await sign_in(checker, "sun.li")
    await checker.goto(f"/console/payroll/runs/{RUN_ID}")
    await checker.get_by_role("button", name="审核发放").click()
    await checker.get_by_text("已由 sun.li 审核发放").wait_for()
    assert "已发放" in await checker.get_by_role("heading", level=1).inner_text()
    await screenshot(checker, "payroll-run-released")
    assert maker.console_errors == [] and checker.console_errors == []
