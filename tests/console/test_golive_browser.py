"""上线 in a real browser: a ledger with errors shows them by row and column with the marked-up
workbook and imports nothing; the clean ledger imports while its progress page reloads itself;
the bank's return reconciles on the page; the 月报 shows its charts and the payroll's total."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dibao.domain.bank_return import return_file
from dibao.domain.money import format_yuan
from dibao.ledger_files import ledger_csv
from tests.api.test_bank_return import case_of, released
from tests.conftest import Stack
from tests.console.conftest import screenshot, sign_in
from tests.golive import ledger_rows

pytestmark = pytest.mark.timeout(240)

HOUSEHOLDS = 6


async def test_going_live_import_bank_return_and_monthly_report(
    new_page: Any, dev_stack: Stack, tmp_path: Path
) -> None:
    page = await new_page()
    await sign_in(page, "chen.gang")
    await page.get_by_role("link", name="上线").click()
    await page.get_by_role("heading", name="台账导入").wait_for()
    await screenshot(page, "golive-index")

    async with page.expect_download() as template:
        await page.get_by_role("link", name="下载台账模板（xlsx）").click()
    assert (await template.value).suggested_filename == "ledger-template.xlsx"

    rows = ledger_rows(HOUSEHOLDS)
    rows[2]["id_number"] = "610423198501010000"  # row 4
    bad = tmp_path / "ledger-bad.csv"
    bad.write_bytes(ledger_csv(rows))
    await page.get_by_label("台账文件").set_input_files(str(bad))
    await page.get_by_role("button", name="检查并导入").click()
    report = page.get_by_role("table", name="台账错误")
    await report.wait_for()
    first = await report.get_by_role("row").nth(1).inner_text()
    assert "第 4 行" in first and "身份证号" in first
    async with page.expect_download() as marked:
        await page.get_by_role("link", name="下载标出错误的台账（xlsx）").click()
    assert (await marked.value).suggested_filename == "ledger-check.xlsx"
    await screenshot(page, "golive-ledger-errors")
    assert dev_stack.sql("SELECT count(*) FROM cases") == [(0,)]

    good = tmp_path / "ledger.csv"
    good.write_bytes(ledger_csv(ledger_rows(HOUSEHOLDS)))
    await page.get_by_label("台账文件").set_input_files(str(good))
    await page.get_by_role("button", name="检查并导入").click()
    await page.get_by_role("heading", name="导入完成").wait_for(timeout=120_000)
    assert f"{HOUSEHOLDS} / {HOUSEHOLDS}" in await page.locator("#started").inner_text()
    await screenshot(page, "golive-import-done")
    dev_stack.started += [r[0] for r in dev_stack.sql("SELECT case_id FROM cases")]

    run_id, bank, sha = await released(dev_stack, "2026-12")
    failing = {case_of(dev_stack, "LD000001"): "账户已销户"}
    answer = tmp_path / "return.csv"
    answer.write_text(return_file(run_id, bank, sha, failing), encoding="utf-8")
    await page.goto("/console/go-live")
    await page.get_by_label("已发放的批次").select_option(value=run_id)
    await page.get_by_label("回盘文件（CSV）").set_input_files(str(answer))
    await page.get_by_role("button", name="载入并对账").click()
    await page.locator("#balance").wait_for()
    assert "平衡" in await page.locator("#balance").inner_text()
    (total,) = dev_stack.sql("SELECT total_fen FROM payroll_runs WHERE run_id = %s", run_id)[0]
    assert format_yuan(total) in await page.locator("#released").inner_text()
    await screenshot(page, "golive-reconciliation")

    await page.goto("/console/go-live")
    await page.get_by_label("月份").fill("2026-12")
    await page.get_by_role("button", name="查看月报").click()
    await page.get_by_role("heading", name="图表").wait_for()
    assert f"{format_yuan(total)} 元" == await page.locator("#t-amount").inner_text()
    charts = page.locator(".chart img")
    assert await charts.count() == 4
    # The SVG images load and draw (a broken image has no natural width).
    assert await charts.first.evaluate("img => img.naturalWidth") > 0
    await screenshot(page, "golive-monthly")
    assert page.console_errors == []
