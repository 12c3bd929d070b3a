"""The account the benefit is paid into: given at filing or later, shown masked, recorded
append-only, and the newest one is the one the payroll pays."""

from __future__ import annotations

from typing import Any

import httpx

from tests.auth import VILLAGE, bearer
from tests.conftest import Stack

ACCOUNT = {
    "account_holder": "王秀英",
    "bank": "示例县农村信用合作联社",
    "account_no": "6228480000000000017",
}


async def test_payee_given_at_filing_then_changed(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    bad = await api.post("/cases", json={**sample, "payee": {**ACCOUNT, "account_no": "6228 48"}})
    assert bad.status_code == 422
    assert ["body", "payee", "account_no"] in [e["loc"] for e in bad.json()["detail"]]
    assert dev_stack.sql("SELECT count(*) FROM cases") == [(0,)]

    filed = await api.post("/cases", json={**sample, "payee": ACCOUNT})
    assert filed.status_code == 201, filed.text
    case = filed.json()
    assert case["payee"] == {
        **ACCOUNT,
        "account_no": "***************0017",
        "agent": False,
        "agent_reason": "",
    }
    assert "6228480000000000017" not in filed.text  # screens show it masked

    new = {"account_holder": "王建军", "bank": "示例农商银行", "account_no": "6217000000000000002"}
    path = f"/cases/{case['case_id']}/payee"
    for _ in range(2):  # the same request twice: one record
        changed = await api.post(path, json=new, headers={**VILLAGE, "Idempotency-Key": "p-1"})
        assert changed.status_code == 200, changed.text
    assert changed.json()["payee"]["account_no"].endswith("0002")
    assert dev_stack.sql(
        "SELECT account_holder, bank, account_no, recorded_by FROM payee_accounts"
    ) == [("王建军", "示例农商银行", "6217000000000000002", "zhang.wei")]
    assert dev_stack.sql("SELECT count(*) FROM audit_log WHERE action = 'payee'") == [(1,)]

    wrong = await api.post(path, json={**new, "account_no": "12"}, headers=VILLAGE)
    assert wrong.status_code == 422
    elsewhere = await api.post(path, json=new, headers=bearer("wu.fang"))  # another township
    assert elsewhere.status_code == 403


STRANGER = {"account_holder": "刘志强", "bank": "示例农商银行", "account_no": "6217000000000000002"}
AGENT = {**STRANGER, "agent": True, "agent_reason": "户主卧床，由监护人代领"}


async def test_an_account_of_someone_outside_the_household_is_refused_unless_an_agent(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    refused = await api.post("/cases", json={**sample, "payee": STRANGER})
    assert refused.status_code == 422, refused.text
    assert ["body", "payee", "account_holder"] in [e["loc"] for e in refused.json()["detail"]]
    no_reason = await api.post("/cases", json={**sample, "payee": {**AGENT, "agent_reason": ""}})
    assert no_reason.status_code == 422, no_reason.text
    assert ["body", "payee", "agent_reason"] in [e["loc"] for e in no_reason.json()["detail"]]
    assert dev_stack.sql("SELECT count(*) FROM cases") == [(0,)]

    filed = await api.post("/cases", json={**sample, "payee": AGENT})
    assert filed.status_code == 201, filed.text
    assert filed.json()["payee"]["agent"] is True
    assert filed.json()["payee"]["agent_reason"] == "户主卧床，由监护人代领"

    path = f"/cases/{filed.json()['case_id']}/payee"
    changed = await api.post(path, json=STRANGER)
    assert changed.status_code == 422, changed.text
    assert changed.json()["detail"][0]["loc"] == ["body", "payee.account_holder"]
    assert dev_stack.sql("SELECT count(*) FROM payee_accounts") == [(0,)]
    changed = await api.post(path, json={**AGENT, "agent_reason": "新的监护人代领"})
    assert changed.status_code == 200, changed.text
    assert dev_stack.sql("SELECT account_holder, agent, agent_reason FROM payee_accounts") == [
        ("刘志强", True, "新的监护人代领")
    ]
