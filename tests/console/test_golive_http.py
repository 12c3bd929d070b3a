"""上线 over HTTP (no browser): a ledger with errors shows them by row and column and imports
nothing (checked at once when only checked; on the import's page, which follows the check in
the background, when imported), a clean one imports with its progress page; both are listed
among the county's past imports; the bank's return reconciles on the page; the 月报 page's
totals are the released payroll's."""

from __future__ import annotations

import asyncio
import base64
import io
import re

import httpx
from openpyxl import load_workbook

from dibao.domain.bank_return import return_file
from dibao.domain.money import format_yuan
from dibao.ledger_files import XLSX_MEDIA_TYPE, ledger_csv
from tests.api.test_bank_return import case_of, released
from tests.conftest import Stack
from tests.console.test_forms_http import browser_like, hidden, signed_in
from tests.golive import ledger_rows

__all__ = ["browser_like"]

HOUSEHOLDS = 10


async def import_through_console(
    client: httpx.AsyncClient, stack: Stack, rows: list[dict[str, str]]
) -> str:
    page = await client.get("/console/go-live")
    sent = await client.post(
        "/console/go-live/ledger",
        data={**hidden(page.text), "action": "import"},
        files={"file": ("ledger.csv", ledger_csv(rows), "text/csv")},
    )
    assert sent.status_code == 303, sent.text
    location = sent.headers["location"]
    for _ in range(600):
        progress = await client.get(location)
        if "导入完成" in progress.text:
            break
        assert '<meta http-equiv="refresh"' in progress.text
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the import never finished")
    stack.started += [r[0] for r in stack.sql("SELECT case_id FROM cases")]
    return progress.text


async def until_checked(client: httpx.AsyncClient, location: str) -> httpx.Response:
    """The import's page once its check is over: it reloads itself while checking."""
    for _ in range(600):
        page = await client.get(location)
        if "正在检查台账" not in page.text:
            return page
        assert '<meta http-equiv="refresh"' in page.text
        await asyncio.sleep(0.1)
    raise AssertionError("the check never finished")


async def test_a_ledger_with_errors_imports_nothing_and_a_clean_one_imports(
    browser_like: httpx.AsyncClient, dev_stack: Stack
) -> None:
    client = browser_like
    await signed_in(client, "chen.gang")
    page = await client.get("/console/go-live")
    assert page.status_code == 200
    template = await client.get("/console/go-live/template")
    assert template.headers["content-type"] == XLSX_MEDIA_TYPE
    assert load_workbook(io.BytesIO(template.content)).active is not None

    rows = ledger_rows(HOUSEHOLDS)
    rows[0]["id_number"] = "610423198501010000"  # wrong check digit: row 2
    rows[4]["amount"] = "abc"  # row 6
    workbooks: list[bytes] = []
    for action in ("check", "import"):
        sent = await client.post(
            "/console/go-live/ledger",
            data={**hidden(page.text), "action": action},
            files={"file": ("ledger.csv", ledger_csv(rows), "text/csv")},
        )
        if action == "check":
            assert sent.status_code == 422
            refused = sent
            # The marked-up workbook comes with the page.
            marked = re.search(r'href="data:[^;]+;base64,([^"]+)" download', refused.text)
            assert marked
            workbooks.append(base64.b64decode(marked.group(1)))
        else:
            # Stored at once; the import's page shows the check's outcome.
            assert sent.status_code == 303, sent.text
            refused = await until_checked(client, sent.headers["location"])
            assert refused.status_code == 200
            assert '<meta http-equiv="refresh"' not in refused.text
            report_link = re.search(
                r'href="(/console/go-live/imports/LI-[0-9a-f]+/errors\.xlsx)"', refused.text
            )
            assert report_link
            report = await client.get(report_link.group(1))
            assert report.headers["content-type"] == XLSX_MEDIA_TYPE
            workbooks.append(report.content)
            # The corrected file can be uploaded from there.
            assert 'action="/console/go-live/ledger"' in refused.text
        assert "未导入任何数据" in refused.text
        assert re.search(r"第 2 行</td><td[^>]*>身份证号", refused.text), refused.text
        assert re.search(r"第 6 行</td><td[^>]*>", refused.text)
    assert dev_stack.sql("SELECT count(*) FROM cases") == [(0,)]
    assert dev_stack.sql("SELECT count(*) FROM ledger_import_households") == [(0,)]
    for workbook in workbooks:
        sheet = load_workbook(io.BytesIO(workbook)).active
        assert sheet is not None and any(c.comment for row in sheet.iter_rows() for c in row)

    clean = ledger_rows(HOUSEHOLDS)
    checked = await client.post(
        "/console/go-live/ledger",
        data={**hidden(page.text), "action": "check"},
        files={"file": ("ledger.csv", ledger_csv(clean), "text/csv")},
    )
    assert checked.status_code == 200 and f"{HOUSEHOLDS} 户" in checked.text
    assert dev_stack.sql("SELECT count(*) FROM cases") == [(0,)]
    done = await import_through_console(client, dev_stack, clean)
    assert f"{HOUSEHOLDS} / {HOUSEHOLDS}" in done
    assert dev_stack.sql("SELECT count(*) FROM cases") == [(HOUSEHOLDS,)]

    # Both imports among the county's past ones, newest first.
    listed = await client.get("/console/go-live")
    table = listed.text[listed.text.index('aria-label="导入记录"') :]
    rows_shown = re.findall(r"<tr>\s*<td data-label=\"上传时间\">.*?</tr>", table, re.S)
    assert len(rows_shown) == 2
    assert "已完成" in rows_shown[0] and f'class="num">{HOUSEHOLDS}</td>' in rows_shown[0]
    assert (
        "有错误，未导入" in rows_shown[1]
        and 'data-label="错误" class="num">2</td>' in rows_shown[1]
    )
    assert all("chen.gang" in r and "ledger.csv" in r for r in rows_shown)

    # The imported household's papers, linked from its case page.
    case_id = case_of(dev_stack, "LD000001")
    case_page = await client.get(f"/console/cases/{case_id}")
    for link in ("certificate", "letter", "file.pdf"):
        assert f'href="/console/cases/{case_id}/{link}"' in case_page.text
    certificate = await client.get(f"/console/cases/{case_id}/certificate")
    assert certificate.status_code == 200 and "LD000001" in certificate.text
    assert "script-src" not in certificate.headers["content-security-policy"]
    form = await client.get(f"/console/cases/{case_id}/letter")
    short = await client.post(
        f"/console/cases/{case_id}/letter", data={**hidden(form.text), "purpose": "学"}
    )
    assert short.status_code == 422 and "请写明用途" in short.text
    letter = await client.post(
        f"/console/cases/{case_id}/letter",
        data={**hidden(form.text), "purpose": "子女入学减免学费"},
    )
    assert letter.status_code == 303, letter.text
    for _ in range(2):  # a reload shows the same letter and issues no second one
        shown = await client.get(letter.headers["location"])
        assert shown.status_code == 200 and "子女入学减免学费" in shown.text
    assert dev_stack.sql(
        "SELECT printed_by FROM certificate_letters WHERE case_id = %s", case_id
    ) == [("chen.gang",)]
    pdf = await client.get(f"/console/cases/{case_id}/file.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def test_a_bank_return_reconciles_on_the_page_and_the_monthly_report_equals_the_payroll(
    browser_like: httpx.AsyncClient, dev_stack: Stack
) -> None:
    client = browser_like
    await signed_in(client, "chen.gang")
    await import_through_console(client, dev_stack, ledger_rows(HOUSEHOLDS))
    run_id, bank, sha = await released(dev_stack, "2026-12")
    failing = {
        case_of(dev_stack, f"LD{h:06d}"): why
        for h, why in ((0, "账户已销户"), (3, "户名不符"), (6, "账户冻结"))
    }
    content = return_file(run_id, bank, sha, failing)
    page = await client.get("/console/go-live")
    assert run_id in page.text

    tampered = content.replace(f"TOTAL,{HOUSEHOLDS},", f"TOTAL,{HOUSEHOLDS + 1},")
    refused = await client.post(
        "/console/go-live/bank-return",
        data={**hidden(page.text), "run_id": run_id},
        files={"file": ("r.csv", tampered.encode())},
    )
    assert refused.status_code == 422 and "回盘文件与该批次不符" in refused.text
    assert dev_stack.sql("SELECT count(*) FROM bank_returns") == [(0,)]

    for _ in range(2):  # the same file twice: one return
        loaded = await client.post(
            "/console/go-live/bank-return",
            data={**hidden(page.text), "run_id": run_id},
            files={"file": ("r.csv", content.encode())},
        )
        assert loaded.status_code == 303
    shown = await client.get(loaded.headers["location"])
    (total,) = dev_stack.sql("SELECT total_fen FROM payroll_runs WHERE run_id = %s", run_id)[0]
    returned = sum(
        a
        for (a,) in dev_stack.sql(
            "SELECT amount_fen FROM payroll_lines WHERE run_id = %s AND case_id = ANY(%s)",
            run_id,
            list(failing),
        )
    )
    text = shown.text
    assert f'id="released">{format_yuan(total)} 元' in text
    assert f'id="paid">{format_yuan(total - returned)} 元' in text
    assert f'id="returned">{format_yuan(returned)} 元（3 户）' in text
    assert "平衡：入账 + 退票 = 发放总额" in text
    assert all(reason in text for reason in failing.values())
    assert dev_stack.sql("SELECT count(*) FROM bank_returns") == [(1,)]

    monthly = await client.get("/console/go-live/monthly?month=2026-12")
    assert monthly.status_code == 200
    ((households,),) = dev_stack.sql(
        "SELECT count(DISTINCT case_id) FROM payroll_lines WHERE run_id = %s", run_id
    )
    assert f'id="t-households">{households} 户' in monthly.text
    assert f'id="county-amount">{format_yuan(total)}' in monthly.text
    assert f'id="t-amount">{format_yuan(total)} 元' in monthly.text
    assert monthly.text.count('<img src="data:image/svg+xml;base64,') == 4
    xlsx = await client.get("/console/go-live/monthly.xlsx?month=2026-12")
    assert xlsx.headers["content-type"] == XLSX_MEDIA_TYPE

    # A village caseworker reads no 月报 and has no 上线 page.
    client.cookies.clear()
    await signed_in(client, "zhang.wei")
    assert (await client.get("/console/go-live/monthly?month=2026-12")).status_code == 403
    assert (await client.get("/console/go-live")).status_code == 403
