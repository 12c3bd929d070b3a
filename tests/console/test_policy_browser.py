"""政策与基础数据 in a real browser: a registry upload with one bad line changes nothing and
names the line; rule packs compared side by side; the calendar and the other sections."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Stack
from tests.console.conftest import screenshot, sign_in

pytestmark = pytest.mark.timeout(180)

HEADER = "id_number,kind,amount_yuan,detail,as_of\n"
BAD = HEADER + (
    "61042319850101001X,wage_income,3200.00,某某建材有限公司,2026-10-31\n"
    "612522195803120027,salary,100.00,,2026-10-31\n"
)


async def test_a_registry_upload_with_one_bad_line_changes_nothing_and_names_the_line(
    new_page: Any, dev_stack: Stack, tmp_path: Path
) -> None:
    page = await new_page()
    await sign_in(page, "chen.gang")
    await page.get_by_role("link", name="政策与基础数据").click()
    await page.get_by_role("heading", name="本县使用的规则包").wait_for()
    await screenshot(page, "policy-rule-packs")

    await page.get_by_role("link", name="核对数据").click()
    bad = tmp_path / "tax.csv"
    bad.write_text(BAD, encoding="utf-8")
    await page.get_by_label("数据来源部门").select_option(label="税务部门")
    await page.get_by_label("CSV 文件").set_input_files(str(bad))
    await page.get_by_role("button", name="检查并载入").click()
    alert = page.get_by_role("alert").filter(has_text="未载入任何数据")
    await alert.wait_for()
    assert "第 3 行，记录类别（kind）：“salary”不是可用的记录类别" in await alert.inner_text()
    await screenshot(page, "policy-registry-refused")
    assert dev_stack.sql("SELECT count(*) FROM registry_records") == [(0,)]

    good = tmp_path / "tax-fixed.csv"
    good.write_text(BAD.replace("salary", "pension"), encoding="utf-8")
    await page.get_by_label("数据来源部门").select_option(label="税务部门")
    await page.get_by_label("CSV 文件").set_input_files(str(good))
    await page.get_by_role("button", name="检查并载入").click()
    await page.get_by_role("heading", name="已载入").wait_for()
    assert "2 条" in await page.locator("main").inner_text()
    await screenshot(page, "policy-registry-loaded")
    assert dev_stack.sql("SELECT count(*) FROM registry_records") == [(2,)]
    assert page.console_errors == []


async def test_rule_packs_compare_and_the_other_sections(new_page: Any, dev_stack: Stack) -> None:
    packs = [r[0] for r in dev_stack.sql("SELECT DISTINCT id FROM rule_packs ORDER BY id")]
    page = await new_page()
    await sign_in(page, "chen.gang")
    await page.goto("/console/policy/compare")
    await page.get_by_label("左侧版本").select_option(value=f"{packs[0]}:1")
    await page.get_by_label("右侧版本").select_option(value=f"{packs[1]}:1")
    await page.get_by_role("button", name="比较").click()
    await page.get_by_role("heading", name="项参数不同").wait_for()
    assert await page.locator("tr.differs").count() > 0
    await screenshot(page, "policy-compare")

    for section, heading, name in (
        ("低保标准", "本县低保标准", "policy-standards"),
        ("工作日历", "年工作日历", "policy-calendar"),
        ("近亲属备案", "新增备案", "policy-relatives"),
        ("年度抽查", "年度抽查", "policy-spot-checks"),
        ("行政区划", "本县行政区划", "policy-regions"),
    ):
        await (
            page.get_by_role("navigation", name="政策与基础数据")
            .get_by_role("link", name=section)
            .click()
        )
        await page.get_by_role("heading", name=heading).first.wait_for()
        await screenshot(page, name)
    assert page.console_errors == []
