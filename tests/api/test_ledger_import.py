"""台账导入 through the API: a ledger with errors imports nothing and names each error by row
and column; a clean one makes every household a case in the recipient phase whose first
payroll pays only the months after the old system's last; the same file again is a no-op.

The issue asks for 1,000 rows; 200 households (400 rows) keep this test within the shared
machine's budget, and bench/import.py runs the large sizes."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime

import httpx
from openpyxl import load_workbook

from dibao.db import payroll_repo
from dibao.domain.case import CaseView
from dibao.ledger_files import ledger_csv, ledger_xlsx
from tests.auth import COUNTY, VILLAGE
from tests.conftest import Stack
from tests.golive import ledger_rows
from workflows.case import CaseWorkflow

HOUSEHOLDS = 200


def upload(content: bytes, name: str = "ledger.xlsx") -> dict[str, tuple[str, bytes]]:
    return {"file": (name, content)}


async def until_started(api: httpx.AsyncClient, import_id: str) -> dict[str, object]:
    for _ in range(600):
        body: dict[str, object] = (
            await api.get(f"/ledger/imports/{import_id}", headers=COUNTY)
        ).json()
        if body["finished"]:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"import never finished: {body}")


async def test_a_ledger_with_errors_imports_nothing_and_names_each_error(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    rows = ledger_rows(HOUSEHOLDS)
    rows[0]["id_number"] = "610423198501010000"  # wrong check digit (row 2)
    rows[3]["id_number"] = rows[1]["id_number"]  # the same person twice (rows 3 and 5)
    rows[10]["amount"] = "三百"  # row 12
    rows[20]["paid_up_to"] = "2026-13"  # row 22
    rows[30]["village_code"] = "610424100201"  # another county (row 32)
    response = await api.post(
        "/ledger/imports",
        params={"county": "610423"},
        files=upload(ledger_xlsx(rows)),
        headers=COUNTY,
    )
    assert response.status_code == 422
    found = {(e["row"], e["column"]) for e in response.json()["detail"]["errors"]}
    assert found == {
        (2, "身份证号"),
        (3, "身份证号"),
        (5, "身份证号"),
        (12, "月保障金额（元）"),
        (22, "已发放至年月"),
        (32, "户籍地区划代码"),
    }
    assert dev_stack.sql("SELECT count(*) FROM cases") == [(0,)]
    assert dev_stack.sql("SELECT count(*) FROM ledger_imports") == [(0,)]
    # The check report as a workbook: the bad cell filled and commented.
    marked = await api.post(
        "/ledger/check",
        params={"county": "610423", "format": "xlsx"},
        files=upload(ledger_xlsx(rows)),
        headers=COUNTY,
    )
    sheet = load_workbook(io.BytesIO(marked.content))["台账"]
    assert sheet["C2"].comment is not None and "身份证号无效" in sheet["C2"].comment.text
    assert sheet["C2"].fill.fgColor.rgb.endswith("FFC7CE")
    assert sheet["C4"].comment is None


async def test_a_clean_ledger_makes_recipient_cases_paid_after_the_paid_up_month(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    rows = ledger_rows(HOUSEHOLDS, paid_up_to="2026-10")
    content = ledger_csv(rows)
    assert (await api.get("/ledger/template", headers=VILLAGE)).status_code == 403
    response = await api.post(
        "/ledger/imports",
        params={"county": "610423"},
        files=upload(content, "台账.csv"),
        headers=COUNTY,
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["households"], body["persons"], body["created"]) == (
        HOUSEHOLDS,
        2 * HOUSEHOLDS,
        True,
    )
    done = await until_started(api, body["import_id"])
    assert done["started"] == HOUSEHOLDS
    dev_stack.started += [r[0] for r in dev_stack.sql("SELECT case_id FROM cases")]
    assert dev_stack.sql("SELECT stage, status, count(*) FROM cases GROUP BY 1, 2") == [
        ("recipient", "receiving", HOUSEHOLDS)
    ]
    assert dev_stack.sql("SELECT action, count(*) FROM audit_log GROUP BY 1") == [
        ("import_ledger", HOUSEHOLDS)
    ]
    assert dev_stack.sql("SELECT count(*) FROM stage_events WHERE stage = 'recipient'") == [
        (HOUSEHOLDS,)
    ]
    # The workflow holds the case in the recipient phase with the ledger's amount.
    (case_id,) = dev_stack.sql(
        "SELECT c.case_id FROM cases c JOIN entitlement_changes e USING (case_id) "
        "WHERE e.certificate_no = 'LD000000'"
    )[0]
    view: CaseView = await dev_stack.client.get_workflow_handle(case_id).query(CaseWorkflow.state)
    assert view.recipient is not None
    assert (view.stage.value, view.recipient.monthly_amount_fen) == ("recipient", 30_000)

    # The first payroll of December pays November and December, nothing before.
    async with dev_stack.sessions() as session:
        run = await payroll_repo.build_run(
            session, "610423", "2026-12", "li.na", datetime.now(UTC), lambda run, sha: ""
        )
    months = dev_stack.sql("SELECT DISTINCT month, kind FROM payroll_lines ORDER BY 1")
    assert months == [("2026-11", "arrears"), ("2026-12", "regular")]
    expected = sum(2 * (30_000 + (h % 50) * 100 + h % 100) for h in range(HOUSEHOLDS))
    assert (run.households, run.total_fen) == (HOUSEHOLDS, expected)

    # The same file again: nothing new.
    again = await api.post(
        "/ledger/imports",
        params={"county": "610423"},
        files=upload(content, "again.csv"),
        headers=COUNTY,
    )
    assert again.status_code == 202 and again.json()["created"] is False
    assert dev_stack.sql("SELECT count(*) FROM cases") == [(HOUSEHOLDS,)]
    assert dev_stack.sql("SELECT count(*) FROM entitlement_changes") == [(HOUSEHOLDS,)]
    # Another file with a household already receiving is refused for that household.
    other = ledger_rows(1)
    other[0]["certificate_no"] = other[1]["certificate_no"] = "NEW-1"
    refused = await api.post(
        "/ledger/imports",
        params={"county": "610423"},
        files=upload(ledger_csv(other), "x.csv"),
        headers=COUNTY,
    )
    assert refused.status_code == 422
    assert refused.json()["detail"]["errors"][0]["message"] == "此人已有未结案件，不能再导入"
