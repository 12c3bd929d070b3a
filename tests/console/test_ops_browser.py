"""运维 in a real browser: an ops user starts a failure drill, sees the incident it makes,
reads the case as Temporal sees it, stops the drill, retries the selection and watches the
step succeed; a supervisor is refused the page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import Stack
from tests.console.conftest import file_case, screenshot, sign_in
from tests.workflows.helpers import complete

pytestmark = pytest.mark.timeout(180)


async def test_ops_retries_an_incident_made_by_a_drill_and_sees_it_succeed(
    new_page: Any, served: str, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    page = await new_page()
    await sign_in(page, "ma.chao")
    await page.get_by_role("navigation", name="主导航").get_by_role("link", name="运维").click()
    await page.get_by_role("heading", name="运维", exact=True).wait_for()

    drills = page.get_by_role("form", name="开始演练")
    await drills.get_by_label("演练步骤").fill("issue_notice")
    await drills.get_by_label("错误信息").fill("printer offline")
    await drills.get_by_role("button", name="开始演练").click()
    await page.get_by_role("button", name="停止演练 issue_notice").wait_for()

    case_id = await file_case(served, complete(sample), written=False)
    row = page.get_by_role("row").filter(has_text=case_id)
    # The row shows the step 重试中 from its first failed attempt, and 故障（待处理） once the
    # workflow has opened the incident: under load, a moment later.
    for _ in range(100):
        await page.goto("/console/ops")
        if await row.count() and "故障（待处理）" in await row.inner_text():
            break
        await page.wait_for_timeout(200)
    assert "printer offline" in await row.inner_text()
    assert "故障（待处理）" in await row.inner_text()
    web_ui = await row.get_by_role("link", name="Web UI").get_attribute("href")
    assert (web_ui or "").endswith(f"/workflows/{case_id}")
    await screenshot(page, "ops")

    # The case as Temporal sees it, and its page in the Web UI.
    await row.get_by_role("link", name=case_id).click()
    await page.get_by_role("heading", name=re.compile(f"运维 · {case_id}")).wait_for()
    ui = page.get_by_role("link", name="在 Temporal Web UI 中打开")
    assert (await ui.get_attribute("href") or "").endswith(f"/workflows/{case_id}")
    text = await page.locator("main").inner_text()
    assert "issue_notice" in text and "printer offline" in text
    await screenshot(page, "ops-case")

    await page.get_by_role("link", name="返回运维").click()
    await page.get_by_role("button", name="停止演练 issue_notice").click()
    await page.get_by_text("没有进行中的演练").wait_for()

    # Retry the selection: a blank reason first (the browser stops an empty one), refused at
    # the field by the server, nothing retried.
    await row.get_by_role("checkbox").check()
    await page.get_by_label("重试原因").fill("   ")
    await page.get_by_role("button", name="重试所选").click()
    await page.get_by_text("请填写重试原因").wait_for()
    assert dev_stack.sql("SELECT status FROM step_failures") == [("incident",)]
    await row.get_by_role("checkbox").check()
    await page.get_by_label("重试原因").fill("打印机已恢复")
    await page.get_by_role("button", name="重试所选").click()
    await page.wait_for_url(re.compile(r".*/console/ops/batch\?"))
    result = page.get_by_role("row").filter(has_text=case_id)
    # The page refreshes itself until the step has actually run through.
    await result.get_by_text("已成功").wait_for(timeout=30_000)
    await screenshot(page, "ops-batch")
    assert page.console_errors == []


async def test_a_supervisor_is_refused_the_ops_page(new_page: Any, served: str) -> None:
    page = await new_page()
    await sign_in(page, "wang.jian")
    response = await page.goto("/console/ops")
    assert response.status == 403
    await page.get_by_role("heading", name="无权办理").wait_for()
