"""A case walked to approval (through the API, on the time-skipping server) as the console
shows it: the assessment's arithmetic in words, the postings, the decision, the entitlement,
and the approval notice issued in the county bureau's name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.api.test_procedure_api import EVALUATION, complete, posting_open, survey_body, until
from tests.auth import COUNTY, TOWNSHIP, VILLAGE, Staff
from tests.conftest import Stack
from tests.console.conftest import screenshot, serve, sign_in

pytestmark = pytest.mark.timeout(240)
YESTERDAY = EVALUATION["held_on"]


@pytest.fixture
def served(ts_stack: Stack, staff: Staff) -> Iterator[str]:
    yield from serve(ts_stack)


async def pass_posting(api: httpx.AsyncClient, stack: Stack, case_id: str, stage: str) -> None:
    await until(api, case_id, posting_open(stage))
    await stack.env.sleep(timedelta(days=7, minutes=1))
    await until(api, case_id, lambda c: c["stage"] != stage)


async def test_an_approved_case_as_the_console_shows_it(
    new_page: Any, served: str, ts_stack: Stack, sample: dict[str, Any]
) -> None:
    async with httpx.AsyncClient(base_url=served, headers=VILLAGE, timeout=30) as api:
        filed = await api.post("/cases", json=complete(sample))
        case_id = filed.json()["case_id"]
        await until(api, case_id, lambda c: c["stage"] == "survey")
        assert (await api.post(f"/cases/{case_id}/survey", json=survey_body(sample))).is_success
        await until(api, case_id, lambda c: c["stage"] == "evaluation")
        page = await new_page()
        await sign_in(page, "zhang.wei")
        await page.goto(f"/console/cases/{case_id}")
        assessment = await page.locator("section", has_text="家庭经济状况认定").inner_text()
        assert "农村低保标准每人每年 3710.00 元，自2020年1月起执行" in assessment
        assert "转移性收入 200.00 元" in assessment  # counted
        assert "不计入家庭收入：奖学金、助学金 100.00 元" in assessment  # exempt
        assert "＝ 727.50 元" in assessment
        assert "录入民主评议" in await page.locator("aside").inner_text()

        assert (await api.post(f"/cases/{case_id}/evaluation", json=EVALUATION)).is_success
        await pass_posting(api, ts_stack, case_id, "posting_before_review")
        review = await api.post(
            f"/cases/{case_id}/township-review", json={"opinion": "approve"}, headers=TOWNSHIP
        )
        assert review.is_success, review.text
        await pass_posting(api, ts_stack, case_id, "posting_before_approval")
        await until(api, case_id, lambda c: c["stage"] == "county_approval")
        visit = {"visited_on": YESTERDAY, "visitors": ["chen.gang", "sun.li"], "findings": "属实"}
        assert (
            await api.post(f"/cases/{case_id}/county-visit", json=visit, headers=COUNTY)
        ).is_success
        decided = await api.post(
            f"/cases/{case_id}/county-decision", json={"opinion": "approve"}, headers=COUNTY
        )
        assert decided.is_success, decided.text

    county = await new_page()
    await sign_in(county, "chen.gang")
    await county.goto(f"/console/cases/{case_id}")
    text = await county.locator("main").inner_text()
    assert "县级审批" in text and "批准" in text and "727.50" in text
    assert "第一榜公示" in text and "期满无异议" in text
    assert "审计日志" in text and "县级审批" in await county.locator("#audit-h + div").inner_text()
    await screenshot(county, "case-approved")
    await county.get_by_role("link", name="最低生活保障审批通知书").click()
    await county.wait_for_url(re.compile(r".*/console/notices/N-"))
    notice = await county.locator("body").inner_text()
    assert "示例县民政局" in notice and "区划代码" not in notice
    await screenshot(county, "notice-approval")
    # Printed, it is one A4 page (the stylesheet's @page), without the console's links.
    pdf = await county.pdf(prefer_css_page_size=True)
    sizes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert len(sizes) == 1, "the notice does not fit one page"
    width, height = (float(v) for v in sizes[0])
    assert abs(width - 595.3) < 2 and abs(height - 841.9) < 2  # A4 in points
