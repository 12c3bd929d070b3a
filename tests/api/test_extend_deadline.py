"""POST /cases/{id}/extend-deadline: the county approver, once, with a reason (mca-2021
Art. 22); the case shows its whole-procedure limit."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.test_procedure_api import complete, post, until
from tests.auth import COUNTY, TOWNSHIP, VILLAGE
from tests.conftest import Stack

REASON = {"reason": "申请人外出务工，异地家庭经济状况核对需时较长"}


async def test_the_county_extends_the_whole_procedure_limit_once_with_a_reason(
    ts_api: httpx.AsyncClient, ts_stack: Stack, sample: dict[str, Any]
) -> None:
    api = ts_api
    assigned = await api.put(
        "/counties/610423/rule-pack", json={"pack_id": "mca-2021"}, headers=COUNTY
    )
    assert assigned.status_code == 200, assigned.text
    case_id = (await post(api, "/cases", complete(sample), VILLAGE)).json()["case_id"]
    case = await until(api, case_id, lambda c: c["procedure_deadline"] is not None)
    limit = case["procedure_deadline"]
    assert limit["working_days"] == 30 and limit["extension_reason"] is None
    path = f"/cases/{case_id}/extend-deadline"

    assert (await post(api, path, REASON, TOWNSHIP)).status_code == 403
    missing = await post(api, path, {"reason": " "}, COUNTY)
    assert missing.status_code == 422, missing.text
    assert ts_stack.sql("SELECT count(*) FROM audit_log WHERE action = 'extend_deadline'") == [(0,)]

    extended = await post(api, path, REASON, COUNTY)
    assert extended.status_code == 200, extended.text
    limit = extended.json()["procedure_deadline"]
    assert (limit["working_days"], limit["extension_reason"]) == (45, REASON["reason"])
    assert limit["due_at"] > case["procedure_deadline"]["due_at"]

    again = await post(api, path, REASON, COUNTY)
    assert again.status_code == 409, again.text
    assert "once" in again.json()["detail"]["message"]
    assert ts_stack.sql("SELECT count(*) FROM audit_log WHERE action = 'extend_deadline'") == [(1,)]


async def test_a_pack_without_a_whole_procedure_limit_has_nothing_to_extend(
    ts_api: httpx.AsyncClient, sample: dict[str, Any]
) -> None:
    api = ts_api
    case_id = (await post(api, "/cases", complete(sample), VILLAGE)).json()["case_id"]
    case = await until(api, case_id, lambda c: c["stage"] == "survey")
    assert case["procedure_deadline"] is None
    refused = await post(api, f"/cases/{case_id}/extend-deadline", REASON, COUNTY)
    assert refused.status_code == 409, refused.text
