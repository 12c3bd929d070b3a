"""监督 in a real browser: a supervisor finds an overdue case from the chart and opens the
household's file, where nothing is offered to act on; another role is refused the page."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from tests.conftest import Stack
from tests.console.conftest import PHONE, file_case, screenshot, sign_in
from tests.workflows.helpers import another_household, complete

pytestmark = pytest.mark.timeout(180)


async def test_supervisor_finds_an_overdue_case_from_the_chart_and_reads_it(
    new_page: Any, served: str, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    on_time = await file_case(served, another_household(complete(copy.deepcopy(sample)), 1))
    case_id = await file_case(served, complete(sample))
    # The first case's survey is past its deadline (as the deadline timer would leave it).
    dev_stack.sql(
        "UPDATE cases SET due_at = now() - interval '3 days' WHERE case_id = %s RETURNING 1",
        case_id,
    )
    page = await new_page()
    await sign_in(page, "wang.jian")
    await page.get_by_role("navigation", name="主导航").get_by_role("link", name="监督").click()
    await page.get_by_role("heading", name="监督", exact=True).wait_for()
    await page.get_by_role("figure", name="超期案件（按环节）").wait_for()
    await screenshot(page, "supervision")

    # The red bar of the survey stage: a link to the list of exactly those cases.
    chart = page.get_by_role("figure", name="超期案件（按环节）")
    await chart.get_by_role("link", name=re.compile("入户调查")).click()
    await page.wait_for_url(re.compile(r".*/console/supervision\?.*reason=overdue"))
    rows = page.locator("section[aria-labelledby=list-h] tbody tr")
    assert await rows.count() == 1
    row = rows.first
    assert case_id in await row.inner_text() and "超期" in await row.inner_text()
    assert on_time not in await page.locator("section[aria-labelledby=list-h]").inner_text()
    await screenshot(page, "supervision-overdue")

    await row.get_by_role("link", name=case_id).click()
    await page.wait_for_url(re.compile(rf".*/console/cases/{case_id}$"))
    text = await page.locator("main").inner_text()
    assert "当前没有您可以办理的事项" in text and "家庭成员" in text
    # Read only: no action link, no form but signing out.
    assert await page.locator("main a[href*='/act/']").count() == 0
    assert await page.locator("main form").count() == 0
    await screenshot(page, "supervision-case-read-only")

    phone = await new_page(viewport=PHONE)
    await sign_in(phone, "liu.yang")  # an auditor reads the same page
    await phone.goto("/console/supervision")
    await phone.get_by_role("figure", name="各乡镇（街道）滞留案件数").wait_for()
    await screenshot(phone, "supervision-phone")
    assert page.console_errors == [] and phone.console_errors == []


async def test_a_caseworker_is_refused_the_supervision_page(new_page: Any, served: str) -> None:
    page = await new_page()
    await sign_in(page, "zhang.wei")
    nav = await page.get_by_role("navigation", name="主导航").inner_text()
    assert "监督" not in nav and "运维" not in nav
    response = await page.goto("/console/supervision")
    assert response.status == 403
    await page.get_by_role("heading", name="无权办理").wait_for()
    await screenshot(page, "supervision-refused")
