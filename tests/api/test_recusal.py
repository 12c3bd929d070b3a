"""Recusal (回避) takes effect the moment a near relative is registered (issue 10 item 7)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.test_procedure_api import complete, post, survey_body, until
from tests.auth import TOWNSHIP, VILLAGE, bearer
from tests.conftest import Stack

HEAD_AS_RELATIVE = {
    "staff_role": "village_caseworker",
    "relative_name": "王秀英",
    "relative_id_number": "612522195803120027",  # the sample household's head
    "relation": "母亲",
}


async def test_relative_registered_mid_case_recuses_at_once(
    ts_api: httpx.AsyncClient, ts_stack: Stack, sample: dict[str, Any]
) -> None:
    api = ts_api
    case_id = (await post(api, "/cases", complete(sample), VILLAGE)).json()["case_id"]
    case = await until(api, case_id, lambda c: c["stage"] == "survey")
    assert case["recused_staff"] == []
    listed = (await api.get("/cases", headers=VILLAGE)).json()["items"]
    assert case_id in [c["case_id"] for c in listed]

    registered = await post(api, "/staff/zhang.wei/relatives", HEAD_AS_RELATIVE, TOWNSHIP)
    assert registered.status_code == 201, registered.text
    assert registered.json()["recused_open_cases"] == 1

    # Still at the survey stage: no stage change has happened, yet the recusal holds.
    read = await api.get(f"/cases/{case_id}", headers=VILLAGE)
    assert read.status_code == 403, read.text
    assert "near relative" in read.json()["detail"]["message"]
    listed = (await api.get("/cases", headers=VILLAGE)).json()
    assert case_id not in [c["case_id"] for c in listed["items"]]
    response = await post(api, f"/cases/{case_id}/survey", survey_body(sample), VILLAGE)
    assert response.status_code == 403, response.text

    # Another caseworker may not name the recused one as an investigator either.
    other = bearer("zhao.min")
    response = await post(api, f"/cases/{case_id}/survey", survey_body(sample), other)
    assert response.status_code == 403, response.text
    assert "investigator zhang.wei" in response.json()["detail"]["message"]

    case = (await api.get(f"/cases/{case_id}", headers=TOWNSHIP)).json()
    assert case["stage"] == "survey"
    assert case["recused_staff"] == ["zhang.wei"]

    body = {**survey_body(sample), "investigators": ["zhao.min", "qian.li"]}
    assert (await post(api, f"/cases/{case_id}/survey", body, other)).status_code == 200


async def test_registering_again_changes_nothing_more(
    ts_api: httpx.AsyncClient, ts_stack: Stack, sample: dict[str, Any]
) -> None:
    api = ts_api
    case_id = (await post(api, "/cases", complete(sample), VILLAGE)).json()["case_id"]
    await until(api, case_id, lambda c: c["stage"] == "survey")
    for _ in range(2):
        registered = await post(api, "/staff/zhang.wei/relatives", HEAD_AS_RELATIVE, TOWNSHIP)
        assert registered.status_code == 201, registered.text
    case = (await api.get(f"/cases/{case_id}", headers=TOWNSHIP)).json()
    assert case["recused_staff"] == ["zhang.wei"]
    listed = (await api.get("/cases", headers=TOWNSHIP)).json()["items"]
    assert case_id in [c["case_id"] for c in listed]
