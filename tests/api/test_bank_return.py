"""回盘: the bank's answer to a released run. Three failed rows become 退票 with the bank's
reasons, the run reconciles to the fen, the same file twice changes nothing, a file that does
not answer the run is refused with the reason, and once the accounts are corrected the next
run pays the returned months as 补发."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from dibao.db import payroll_repo
from dibao.domain.bank_return import return_file
from dibao.ledger_files import ledger_csv
from tests.api.test_ledger_import import until_started
from tests.auth import COUNTY, VILLAGE
from tests.conftest import Stack
from tests.golive import ledger_rows


async def import_households(api: httpx.AsyncClient, stack: Stack, households: int) -> None:
    response = await api.post(
        "/ledger/imports",
        params={"county": "610423"},
        files={"file": ("ledger.csv", ledger_csv(ledger_rows(households)))},
        headers=COUNTY,
    )
    assert response.status_code == 202, response.text
    await until_started(api, response.json()["import_id"])
    stack.started += [r[0] for r in stack.sql("SELECT case_id FROM cases")]


async def released(stack: Stack, period: str) -> tuple[str, str, str]:
    """Build and release the county's run: (run ID, bank file, its checksum)."""
    async with stack.sessions() as session:
        run = await payroll_repo.build_run(
            session, "610423", period, "li.na", datetime.now(UTC), lambda run, sha: ""
        )
        await payroll_repo.release_run(session, run.run_id, "chen.gang", datetime.now(UTC))
        bank = await payroll_repo.bank_file_of(session, run.run_id)
    assert bank is not None
    return run.run_id, bank[0], bank[1]


def case_of(stack: Stack, certificate_no: str) -> str:
    return str(
        stack.sql(
            "SELECT case_id FROM entitlement_changes WHERE certificate_no = %s", certificate_no
        )[0][0]
    )


async def test_three_returned_payments_reconcile_and_are_paid_by_the_next_run(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    await import_households(api, dev_stack, 10)
    run_id, bank, sha = await released(dev_stack, "2026-12")
    # Households of the sample village (every third), whose caseworker corrects accounts.
    failing = {
        case_of(dev_stack, f"LD{h:06d}"): why
        for h, why in ((0, "账户已销户"), (3, "户名不符"), (6, "账户冻结"))
    }
    content = return_file(run_id, bank, sha, failing)
    url = f"/payroll/runs/{run_id}/bank-return"

    # Files that do not answer the run are refused with the reason, and nothing is stored.
    tampered = content.replace("TOTAL,10,", "TOTAL,11,")
    refused = await api.post(url, files={"file": ("r.csv", tampered)}, headers=COUNTY)
    assert refused.status_code == 422
    assert "TOTAL row states 11 rows" in refused.json()["detail"][0]["msg"]
    other_sha = content.replace(sha, "0" * 64)
    refused = await api.post(url, files={"file": ("r.csv", other_sha)}, headers=COUNTY)
    assert "another checksum" in refused.json()["detail"][0]["msg"]
    assert dev_stack.sql("SELECT count(*) FROM bank_returns") == [(0,)]

    for _ in range(2):  # the same file twice: one return
        loaded = await api.post(url, files={"file": ("r.csv", content)}, headers=COUNTY)
        assert loaded.status_code == 200, loaded.text
    report = loaded.json()
    (total,) = dev_stack.sql("SELECT total_fen FROM payroll_runs WHERE run_id = %s", run_id)[0]
    returned = sum(
        a
        for (a,) in dev_stack.sql(
            "SELECT amount_fen FROM payroll_lines WHERE run_id = %s AND case_id = ANY(%s)",
            run_id,
            list(failing),
        )
    )
    assert report["balanced"] is True
    assert report["returned"] == f"{returned // 100}.{returned % 100:02d}"
    assert report["released_total"] == f"{total // 100}.{total % 100:02d}"
    assert {(r["case_id"], r["reason"]) for r in report["returned_households"]} == set(
        failing.items()
    )
    assert dev_stack.sql("SELECT count(*) FROM bank_returns") == [(1,)]
    assert dev_stack.sql("SELECT count(*) FROM bank_return_lines") == [(6,)]  # 2 months × 3
    again = await api.get(f"/payroll/runs/{run_id}/reconciliation", headers=COUNTY)
    assert again.json() == report

    # Two accounts corrected before January's run: their returned months are paid as 补发;
    # the third, not corrected, is not paid again into the account that failed.
    corrected = list(failing)[:2]
    for n, case_id in enumerate(corrected):
        holder = dev_stack.sql(
            "SELECT payload -> 'members' -> 0 ->> 'name' FROM applications WHERE case_id = %s",
            case_id,
        )[0][0]
        new = {
            "account_holder": holder,
            "bank": "示例农商银行",
            "account_no": f"62170000000000{n:05d}",
        }
        changed = await api.post(
            f"/cases/{case_id}/payee", json=new, headers={**VILLAGE, "Idempotency-Key": f"k{n}"}
        )
        assert changed.status_code == 200, changed.text
    returns = (await api.get(f"/cases/{corrected[0]}/returns", headers=COUNTY)).json()
    assert [(r["month"], r["reason"], r["reissued"]) for r in returns] == [
        ("2026-11", "账户已销户", True),
        ("2026-12", "账户已销户", True),
    ]
    january, _, _ = await released(dev_stack, "2027-01")
    lines = dev_stack.sql(
        "SELECT case_id, month, kind FROM payroll_lines WHERE run_id = %s AND case_id = ANY(%s) "
        "ORDER BY 1, 2",
        january,
        list(failing),
    )
    expected = sorted(
        [(c, m, "arrears") for c in corrected for m in ("2026-11", "2026-12")]
        + [(c, "2027-01", "regular") for c in failing]
    )
    assert sorted(lines) == expected
