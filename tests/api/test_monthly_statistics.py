"""月报: the month's statistics per county and township equal the month's released payroll
to the fen, count each household and person once, and show exits and changes of the month."""

from __future__ import annotations

import io

import httpx
from openpyxl import load_workbook

from tests.api.test_bank_return import case_of, import_households, released
from tests.auth import COUNTY, VILLAGE
from tests.conftest import Stack


async def test_the_monthly_report_equals_the_released_payroll(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    await import_households(api, dev_stack, 12)
    # December: one household's benefit stops (it is paid November's arrears only), one's
    # amount is raised; both recorded in the ledger as the workflow records changes.
    stopped, raised = case_of(dev_stack, "LD000001"), case_of(dev_stack, "LD000002")
    for case_id, kind, amount, reason in (
        (stopped, "stop", 0, "死亡"),
        (raised, "increase", 40_000, "收入减少"),
    ):
        dev_stack.sql(
            "INSERT INTO entitlement_changes (case_id, step_key, certificate_no, effective_month,"
            " monthly_amount_fen, category, reason, recorded_at, change_kind, paid_members)"
            " SELECT case_id, 'test-change', certificate_no, '2026-12', %s, category, %s, now(),"
            " %s, paid_members FROM entitlement_changes WHERE case_id = %s RETURNING id",
            amount,
            reason,
            kind,
            case_id,
        )
    run_id, _, _ = await released(dev_stack, "2026-12")
    (total, rows) = dev_stack.sql(
        "SELECT total_fen, households FROM payroll_runs WHERE run_id = %s", run_id
    )[0]

    response = await api.get(
        "/statistics/monthly", params={"county": "610423", "month": "2026-12"}, headers=COUNTY
    )
    assert response.status_code == 200, response.text
    report = response.json()
    county = report["county"]
    assert report["run_released"] is True
    assert county["amount_paid_fen"] == total
    assert sum(t["amount_paid_fen"] for t in report["townships"]) == total
    assert county["households"] == rows == 12
    assert county["persons"] == 24
    assert county["urban"]["households"] + county["rural"]["households"] == 12
    assert county["urban"]["households"] == 4  # every third household of tests/golive.py
    assert sum(c["households"] for c in county["by_category"].values()) == 12
    assert county["exits_by_reason"] == {"死亡": 1}
    assert (county["increases"], county["reductions"], county["new_households"]) == (1, 0, 0)
    average = (2 * total + 24) // 48  # half up
    assert county["average_per_person"] == f"{average // 100}.{average % 100:02d}"
    assert {t["township_code"] for t in report["townships"]} == {"610423100", "610423101"}

    xlsx = await api.get(
        "/statistics/monthly",
        params={"county": "610423", "month": "2026-12", "format": "xlsx"},
        headers=COUNTY,
    )
    sheet = load_workbook(io.BytesIO(xlsx.content))["月报"]
    last = [c.value for c in list(sheet.rows)[-1]]
    assert last[0] == "全县合计" and last[1] == 12
    assert last[10] == f"{total // 100}.{total % 100:02d}"
    refused = await api.get(
        "/statistics/monthly", params={"county": "610423", "month": "2026-12"}, headers=VILLAGE
    )
    assert refused.status_code == 403
