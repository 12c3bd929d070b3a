"""The console in a real browser: signing in and out, the inbox, the household's file, a
notice's print view, the posting board, recusal and CSRF."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.auth import bearer
from tests.conftest import Stack
from tests.console.conftest import PHONE, file_case, screenshot, sign_in

pytestmark = pytest.mark.timeout(180)

HEAD = "王秀英"
HEAD_ID = "612522195803120027"


async def test_sign_in_session_cookie_and_sign_out(new_page: Any, served: str) -> None:
    page = await new_page()
    await page.goto("/console")
    # Not signed in: the sign-in page, which remembers where the user was going.
    assert "/console/sign-in" in page.url
    await screenshot(page, "sign-in")

    await page.get_by_label("用户名").fill("zhang.wei")
    await page.get_by_label("密码").fill("wrong password!")
    await page.get_by_role("button", name="登录").click()
    await page.get_by_role("alert").filter(has_text="用户名或密码错误").wait_for()

    await sign_in(page, "zhang.wei")
    await page.get_by_role("heading", name="工作台").wait_for()
    header = await page.locator("header").inner_text()
    assert "张伟" in header and "示例县示例镇示例村" in header
    cookie = next(c for c in await page.context.cookies() if c["name"] == "dibao_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"

    response = await page.goto("/console")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"

    await page.get_by_role("button", name="退出登录").click()
    await page.wait_for_url(re.compile(r".*/console/sign-in$"))
    # The session ended on the server: the old cookie, sent again, signs no one in.
    async with httpx.AsyncClient(
        base_url=served, cookies={"dibao_console": cookie["value"]}
    ) as client:
        again = await client.get("/console")
    assert again.status_code == 303 and "/console/sign-in" in again.headers["location"]
    assert page.console_errors == []


async def test_inbox_case_page_notice_and_board(
    new_page: Any, served: str, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    case_id = await file_case(served, sample)
    page = await new_page()
    await sign_in(page, "zhang.wei")
    row = page.get_by_role("row").filter(has_text=case_id)
    await row.wait_for()
    assert HEAD in await row.inner_text()
    await screenshot(page, "inbox")

    await row.get_by_role("link", name=case_id).click()
    await page.get_by_role("heading", name=f"{HEAD}户").wait_for()
    text = await page.locator("main").inner_text()
    assert "家庭成员" in text and "王建军" in text and "示例县示例镇示例村" in text
    assert "当前等待" in text and "可办理事项" in text
    # A village caseworker does not read the audit trail.
    assert "审计日志" not in text
    await screenshot(page, "case")

    notice = page.get_by_role("link", name=re.compile("告知书|通知书")).first
    await notice.click()
    await page.wait_for_url(re.compile(r".*/console/notices/N-"))
    body = await page.locator("body").inner_text()
    assert "示例镇人民政府" in body and "区划代码" not in body
    await screenshot(page, "notice")

    await page.goto("/console/postings/610423100201")
    await page.get_by_role("heading", name="最低生活保障公示").wait_for()
    assert "示例镇人民政府" in await page.locator("main").inner_text()
    await screenshot(page, "postings")

    phone = await new_page(viewport=PHONE)
    await sign_in(phone, "zhang.wei")
    await screenshot(phone, "inbox-phone")
    await phone.goto(f"/console/cases/{case_id}")
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the case page scrolls sideways on a phone"
    await screenshot(phone, "case-phone")

    # The county approver reads the audit trail of the same case.
    county = await new_page()
    await sign_in(county, "chen.gang")
    await county.goto(f"/console/cases/{case_id}")
    assert "审计日志" in await county.locator("main").inner_text()
    assert page.console_errors == [] and phone.console_errors == []


async def test_find_by_name_and_audited_id_number(
    new_page: Any, served: str, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    case_id = await file_case(served, sample)
    page = await new_page()
    await sign_in(page, "li.na")
    await page.get_by_label("案件编号或户主姓名").fill(HEAD)
    await page.get_by_role("button", name="查找").click()
    await page.get_by_role("link", name=case_id).wait_for()

    await page.goto("/console/find")
    await page.get_by_label("户主公民身份号码").fill(HEAD_ID)
    await page.get_by_role("button", name="查找").nth(1).click()
    await page.get_by_role("link", name=case_id).wait_for()
    # The number stays out of the address, and the look-up is in the case's audit log.
    assert HEAD_ID not in page.url
    rows = dev_stack.sql(
        "SELECT actor_id FROM audit_log WHERE case_id = %s AND action = 'lookup_id_number'",
        case_id,
    )
    assert rows == [("li.na",)]


async def test_recused_relative_cannot_open_the_case(
    new_page: Any, served: str, sample: dict[str, Any]
) -> None:
    case_id = await file_case(served, sample)
    async with httpx.AsyncClient(base_url=served, timeout=30) as client:
        registered = await client.post(
            "/staff/zhao.min/relatives",
            json={
                "staff_role": "village_caseworker",
                "relative_name": HEAD,
                "relative_id_number": HEAD_ID,
                "relation": "母亲",
            },
            headers=bearer("li.na"),
        )
    assert registered.status_code == 201, registered.text
    page = await new_page()
    await sign_in(page, "zhao.min")
    assert case_id not in await page.locator("main").inner_text()
    response = await page.goto(f"/console/cases/{case_id}")
    assert response.status == 403
    text = await page.locator("main").inner_text()
    assert "无权办理" in text and "近亲属" in text and HEAD not in text
    await screenshot(page, "recused")


async def test_form_without_csrf_token_is_refused(new_page: Any) -> None:
    page = await new_page()
    await sign_in(page, "zhang.wei")
    # A forged form: the sign-out form without its CSRF token.
    await page.locator("form[action='/console/sign-out'] input[name='csrf']").evaluate(
        "input => input.remove()"
    )
    async with page.expect_response(re.compile(".*/console/sign-out$")) as answer:
        await page.get_by_role("button", name="退出登录").click()
    assert (await answer.value).status == 403
    assert "安全校验码" in await page.locator("main").inner_text()
    # Nothing was done: still signed in.
    await page.goto("/console")
    await page.get_by_role("heading", name="工作台").wait_for()
