"""A failed check answered over HTTP (mca-2021 Art. 18): the route, its checks, the notice."""

from __future__ import annotations

from typing import Any

import httpx

from dibao.db import registry_repo
from dibao.domain.verification import Department, RecordKind, RegistryRecord
from tests.api.test_procedure_api import YESTERDAY, complete, post, survey_body, until
from tests.auth import COUNTY, TOWNSHIP, VILLAGE
from tests.conftest import Stack


async def load_vehicles(stack: Stack, rows: list[RegistryRecord], sha: str) -> None:
    async with stack.sessions() as session:
        await registry_repo.load_batch(
            session, Department.VEHICLES, rows, "vehicles.csv", sha, "chen.gang", replace=True
        )


async def test_art18_evidence_route_records_the_answer_and_verification_runs_again(
    ts_api: httpx.AsyncClient, ts_stack: Stack, sample: dict[str, Any]
) -> None:
    api = ts_api
    head = next(m for m in sample["members"] if m["relation"] == "head")
    record = RegistryRecord(
        Department.VEHICLES, head["id_number"], RecordKind.VEHICLE, detail="motorcycle"
    )
    await load_vehicles(ts_stack, [record], "a" * 64)
    case_id = (await post(api, "/cases", complete(sample), VILLAGE)).json()["case_id"]
    await until(api, case_id, lambda c: c["stage"] == "survey")
    body = {"received_on": YESTERDAY, "summary": "摩托车已报废注销证明"}
    early = await post(api, f"/cases/{case_id}/evidence", body, TOWNSHIP)
    assert early.status_code == 409
    response = await post(api, f"/cases/{case_id}/survey", survey_body(sample), VILLAGE)
    assert response.status_code == 200, response.text
    case = await until(api, case_id, lambda c: c["stage"] == "evidence")
    assert case["due_at"] is not None
    assert case["waiting_for"].startswith("申请人就核对结果举证")
    notice = case["notices"][-1]
    assert notice["kind"] == "verification_findings"
    text = (await api.get(notice["url"])).text
    assert "摩托车" in text and "逾期未提供证明材料的，按核对结果认定" in text
    allowed = {a["action"] for a in case["actions"] if a["allowed"]}
    assert "evidence" in allowed

    assert (await post(api, f"/cases/{case_id}/evidence", body, COUNTY)).status_code == 403
    blank = await post(api, f"/cases/{case_id}/evidence", {**body, "summary": ""}, TOWNSHIP)
    assert blank.status_code == 422
    await load_vehicles(ts_stack, [], "b" * 64)  # the traffic police corrected their data
    response = await post(api, f"/cases/{case_id}/evidence", body, TOWNSHIP)
    assert response.status_code == 200, response.text
    case = await until(api, case_id, lambda c: c["stage"] == "evaluation")
    assert case["procedure"]["verification"]["discrepancies"] == []
