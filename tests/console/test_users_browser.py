"""用户 in a real browser: a county user administrator adds a caseworker, who signs in with the
one-time password and must choose a password before anything else; an administrator of
another county cannot add a user here."""

from __future__ import annotations

import re
from typing import Any

import pytest

from dibao.domain.enums import Role
from tests.auth import Staff
from tests.console.conftest import PHONE, screenshot, sign_in

pytestmark = pytest.mark.timeout(180)


async def _add(page: Any, user_id: str, name: str, role: str, place: str) -> None:
    form = page.locator("form[action='/console/users']")
    await form.get_by_label("用户名").fill(user_id)
    await form.get_by_label("姓名").fill(name)
    await form.get_by_label("角色").select_option(role)
    await form.get_by_label("管辖范围代码").fill(place)
    await form.get_by_role("button", name="新增用户").click()


async def test_county_admin_adds_a_caseworker_who_must_change_the_password(
    new_page: Any, staff: Staff
) -> None:
    await staff.add("gao.lei", Role.USER_ADMIN, "610423", name="高磊")
    admin = await new_page()
    await sign_in(admin, "gao.lei")
    await admin.get_by_role("link", name="用户", exact=True).click()
    await admin.get_by_role("heading", name="本县用户").wait_for()
    await screenshot(admin, "users")

    await _add(admin, "xu.ming", "徐明", "village_caseworker", "610423100201")
    otp_box = admin.get_by_test_id("one-time-password")
    await otp_box.wait_for()
    otp = (await otp_box.inner_text()).strip()
    await screenshot(admin, "users-one-time-password")
    await admin.get_by_role("link", name="返回用户列表").click()
    users = admin.locator("section[aria-labelledby='list-h']")
    row = users.get_by_role("row").filter(has_text="xu.ming")
    assert "待改密码" in await row.inner_text()
    assert "新增用户" in await admin.locator("#audit-h + *").inner_text()

    worker = await new_page()
    await worker.goto("/console/sign-in")
    await worker.get_by_label("用户名").fill("xu.ming")
    await worker.get_by_label("密码").fill(otp)
    await worker.get_by_role("button", name="登录").click()
    await worker.wait_for_url(re.compile(r".*/console/password$"))
    await worker.get_by_role("alert").filter(has_text="一次性密码").wait_for()
    # Any other page leads back here until the password is changed.
    await worker.goto("/console/find")
    await worker.wait_for_url(re.compile(r".*/console/password$"))
    await worker.get_by_label("当前密码").fill(otp)
    await worker.locator("#f-new_password").fill("xu ming's own secret")
    await worker.get_by_label("再次输入新密码").fill("xu ming's own secret!")
    await worker.get_by_role("button", name="修改密码").click()
    await worker.get_by_text("两次输入的新密码不一致").wait_for()
    await screenshot(worker, "password-mismatch")
    await worker.get_by_label("当前密码").fill(otp)
    await worker.locator("#f-new_password").fill("xu ming's own secret")
    await worker.get_by_label("再次输入新密码").fill("xu ming's own secret")
    await worker.get_by_role("button", name="修改密码").click()
    await worker.get_by_role("status").filter(has_text="密码已修改").wait_for()
    await worker.get_by_role("link", name="进入工作台").click()
    await worker.get_by_role("heading", name="工作台").wait_for()
    assert "徐明" in await worker.locator("header").inner_text()

    await admin.reload()
    assert "正常" in await users.get_by_role("row").filter(has_text="xu.ming").inner_text()
    phone = await new_page(viewport=PHONE)
    await sign_in(phone, "gao.lei")
    await phone.goto("/console/users/xu.ming")
    await phone.get_by_role("heading", name="账户变动记录").wait_for()
    await screenshot(phone, "user-phone")
    assert admin.console_errors == [] and worker.console_errors == []


async def test_admin_of_county_a_cannot_add_a_user_in_county_b(new_page: Any, staff: Staff) -> None:
    await staff.add("lu.qiang", Role.USER_ADMIN, "610424", name="陆强")
    page = await new_page()
    await sign_in(page, "lu.qiang")
    await page.goto("/console/users")
    await _add(page, "xu.ming", "徐明", "village_caseworker", "610423100201")
    await page.get_by_role("heading", name="无权办理").wait_for()
    assert "不在您所在的县" in await page.locator("main").inner_text()
    await screenshot(page, "users-other-county-refused")
    await page.goto("/console/users")
    assert "xu.ming" not in await page.locator("main").inner_text()
    assert "zhang.wei" not in await page.locator("main").inner_text()
