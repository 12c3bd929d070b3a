"""Walking cases through the procedure over HTTP (time-skipping server: postings take moments)."""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta
from typing import Any

import httpx

from tests.auth import COUNTY, TOWNSHIP, VILLAGE, bearer
from tests.conftest import Stack

YESTERDAY = (date.today() - timedelta(days=1)).isoformat()


def complete(body: dict[str, Any]) -> dict[str, Any]:
    body["materials"] = [*body["materials"], "disability_certificate"]
    body["verification_authorised"] = True
    return body


def survey_body(sample: dict[str, Any], **assets: Any) -> dict[str, Any]:
    return {
        "investigators": ["zhang.wei", "zhao.min"],
        "surveyed_on": YESTERDAY,
        "members": sample["members"],
        "incomes": sample["incomes"],
        "assets": {**sample["assets"], **assets},
        "living_conditions": "土坯房两间，家具简陋",
        "neighbour_visits": [{"neighbour": "东邻 刘某", "summary": "情况属实"}],
        "family_member_signed": True,
    }


EVALUATION = {
    "held_on": YESTERDAY,
    "attendees": 21,
    "composition": {
        "township_staff": 2,
        "village_committee": 5,
        "group_leaders": 4,
        "villager_representatives": 10,
    },
    "votes_for": 19,
    "votes_against": 1,
    "votes_abstain": 1,
}


async def until(
    api: httpx.AsyncClient, case_id: str, predicate: Any, who: dict[str, str] | None = None
) -> dict[str, Any]:
    for _ in range(300):
        response = await api.get(f"/cases/{case_id}", headers=who)
        assert response.status_code == 200, response.text
        case: dict[str, Any] = response.json()
        if predicate(case):
            return case
        await asyncio.sleep(0.02)
    raise AssertionError(f"never reached; last {case['stage']} {case['status']}")


def posting_open(stage: str) -> Any:
    def check(case: dict[str, Any]) -> bool:
        postings = case["procedure"]["postings"]
        return bool(
            case["stage"] == stage
            and postings
            and postings[-1]["stage"] == stage
            and postings[-1]["outcome"] == "open"
        )

    return check


async def post(api: httpx.AsyncClient, path: str, body: Any, who: dict[str, str]) -> httpx.Response:
    return await api.post(path, json=body, headers=who)


async def pass_posting(
    api: httpx.AsyncClient, stack: Stack, case_id: str, stage: str
) -> dict[str, Any]:
    await until(api, case_id, posting_open(stage))
    await stack.env.sleep(timedelta(days=7, minutes=1))
    return await until(api, case_id, lambda c: c["stage"] != stage)


async def test_walkthrough_to_approval_over_http(
    ts_api: httpx.AsyncClient, ts_stack: Stack, sample: dict[str, Any]
) -> None:
    api = ts_api
    case_id = (await post(api, "/cases", complete(sample), VILLAGE)).json()["case_id"]
    await until(api, case_id, lambda c: c["stage"] == "survey")
    response = await post(api, f"/cases/{case_id}/survey", survey_body(sample), VILLAGE)
    assert response.status_code == 200, response.text
    case = await until(api, case_id, lambda c: c["stage"] == "evaluation")
    assert case["procedure"]["assessment"]["monthly_amount"] == "727.50"
    # Which standard the amount was computed on, and for which month (the county's seeded one).
    standard = case["procedure"]["assessment"]["standard"]
    assert (standard["area_type"], standard["amount"], standard["from_month"]) == (
        "rural",
        "3710.00",
        "2020-01",
    )
    assert standard["source"] == "seed"
    assert re.fullmatch(r"\d{4}-\d{2}", case["procedure"]["assessment"]["assessed_month"])
    assert case["waiting_for"].startswith("民主评议")
    assert (await post(api, f"/cases/{case_id}/evaluation", EVALUATION, VILLAGE)).status_code == 200

    await until(api, case_id, posting_open("posting_before_review"))
    board = await api.get("/postings", params={"village": "610423100201"})
    assert board.status_code == 200
    assert "王秀英" in board.text and "727.50" in board.text and "第一榜" in board.text
    for member in sample["members"]:
        assert member["id_number"] not in board.text
    assert "王小明" not in board.text  # children are never posted
    assert "示例镇示例村" not in board.text  # nor the address

    await pass_posting(api, ts_stack, case_id, "posting_before_review")
    refused = await post(api, f"/cases/{case_id}/township-review", {"opinion": "approve"}, VILLAGE)
    assert refused.status_code == 403  # a village caseworker gives no township opinion
    response = await post(
        api, f"/cases/{case_id}/township-review", {"opinion": "approve"}, TOWNSHIP
    )
    assert response.status_code == 200, response.text
    await pass_posting(api, ts_stack, case_id, "posting_before_approval")
    case = await until(api, case_id, lambda c: c["stage"] == "county_approval")
    assert case["procedure"]["county_visit_required"]
    early = await post(api, f"/cases/{case_id}/county-decision", {"opinion": "approve"}, COUNTY)
    assert early.status_code == 409
    visit = {"visited_on": YESTERDAY, "visitors": ["chen.gang", "sun.li"], "findings": "属实"}
    assert (await post(api, f"/cases/{case_id}/county-visit", visit, COUNTY)).status_code == 200
    override = {"opinion": "approve", "monthly_amount": "800.00"}
    response = await post(api, f"/cases/{case_id}/county-decision", override, COUNTY)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "override_reason"]
    response = await post(api, f"/cases/{case_id}/county-decision", {"opinion": "approve"}, COUNTY)
    assert response.status_code == 200, response.text
    case = response.json()
    entitlement = case["procedure"]["entitlement"]
    assert entitlement["monthly_amount"] == "727.50"
    approval = await api.get(case["notices"][-1]["url"])
    assert "审批通知书" in approval.text and entitlement["certificate_no"] in approval.text
    case = await pass_posting(api, ts_stack, case_id, "posting_after_approval")
    case = await until(api, case_id, lambda c: c["status"] == "receiving")
    assert case["stage"] == "recipient"


async def test_objection_keeps_objector_private_and_sends_case_back(
    ts_api: httpx.AsyncClient, ts_stack: Stack, sample: dict[str, Any]
) -> None:
    api = ts_api
    case_id = (await post(api, "/cases", complete(sample), VILLAGE)).json()["case_id"]
    await until(api, case_id, lambda c: c["stage"] == "survey")
    await post(api, f"/cases/{case_id}/survey", survey_body(sample), VILLAGE)
    await until(api, case_id, lambda c: c["stage"] == "evaluation")
    await post(api, f"/cases/{case_id}/evaluation", EVALUATION, VILLAGE)
    await until(api, case_id, posting_open("posting_before_review"))
    objection = {
        "summary": "该户有一辆小轿车",
        "objector_name": "赵某",
        "objector_contact": "13912345678",
    }
    response = await post(api, f"/cases/{case_id}/objection", objection, VILLAGE)
    assert response.status_code == 200, response.text
    case = await until(api, case_id, lambda c: c["stage"] == "survey")
    assert "13912345678" not in str(case) and "赵某" not in str(case)
    history = await ts_stack.client.get_workflow_handle(case_id).fetch_history()
    assert "13912345678" not in history.to_json()
    stored = ts_stack.sql("SELECT objector_contact FROM objections")
    assert stored == [("13912345678",)]
    late = await post(api, f"/cases/{case_id}/objection", objection, VILLAGE)
    assert late.status_code == 409  # not in a posting any more
    assert ts_stack.sql("SELECT count(*) FROM objections") == [(1,)]


async def test_refusal_over_http_gives_reasoned_notice(
    ts_api: httpx.AsyncClient, ts_stack: Stack, sample: dict[str, Any]
) -> None:
    api = ts_api
    case_id = (await post(api, "/cases", complete(sample), VILLAGE)).json()["case_id"]
    await until(api, case_id, lambda c: c["stage"] == "survey")
    await post(api, f"/cases/{case_id}/survey", survey_body(sample, vehicles=["car"]), VILLAGE)
    case = await until(api, case_id, lambda c: c["stage"] == "evaluation")
    assert case["procedure"]["assessment"]["eligible"] is False
    await post(
        api,
        f"/cases/{case_id}/evaluation",
        {**EVALUATION, "votes_for": 2, "votes_against": 18},
        VILLAGE,
    )
    await until(api, case_id, lambda c: c["stage"] == "township_review")
    review = {"opinion": "reject", "reasons": ["家庭拥有小轿车"]}
    assert (
        await post(api, f"/cases/{case_id}/township-review", review, TOWNSHIP)
    ).status_code == 200
    await until(api, case_id, lambda c: c["stage"] == "county_approval")
    visit = {"visited_on": YESTERDAY, "visitors": ["chen.gang"], "findings": "有小轿车一辆"}
    await post(api, f"/cases/{case_id}/county-visit", visit, COUNTY)
    response = await post(api, f"/cases/{case_id}/county-decision", {"opinion": "reject"}, COUNTY)
    assert response.status_code == 200, response.text
    case = response.json()
    assert case["status"] == "refused"
    notice = await api.get(case["notices"][-1]["url"])
    assert "不予批准" in notice.text and "车" in notice.text


async def test_registered_relative_is_recused_with_403(
    ts_api: httpx.AsyncClient, ts_stack: Stack, sample: dict[str, Any]
) -> None:
    api = ts_api
    relative = {
        "staff_role": "village_caseworker",
        "relative_name": "王秀英",
        "relative_id_number": "612522195803120027",
        "relation": "母亲",
    }
    registered = await post(api, "/staff/zhang.wei/relatives", relative, TOWNSHIP)
    assert registered.status_code == 201, registered.text
    listed = (await api.get("/staff/zhang.wei/relatives")).json()
    assert listed[0]["relative_id_number"] == "612522********0027"
    case_id = (await post(api, "/cases", complete(sample), TOWNSHIP)).json()["case_id"]
    case = await until(api, case_id, lambda c: c["stage"] == "survey", TOWNSHIP)
    assert case["recused_staff"] == ["zhang.wei"]
    response = await post(api, f"/cases/{case_id}/survey", survey_body(sample), VILLAGE)
    assert response.status_code == 403
    assert "near relative" in response.json()["detail"]["message"]
    # Nor may the recused caseworker read the case.
    assert (await api.get(f"/cases/{case_id}", headers=VILLAGE)).status_code == 403
    other = bearer("zhao.min")
    body = {**survey_body(sample), "investigators": ["zhao.min", "qian.li"]}
    assert (await post(api, f"/cases/{case_id}/survey", body, other)).status_code == 200


async def test_termination_for_non_cooperation_closes_with_notice(
    ts_api: httpx.AsyncClient, ts_stack: Stack, sample: dict[str, Any]
) -> None:
    api = ts_api
    case_id = (await post(api, "/cases", complete(sample), VILLAGE)).json()["case_id"]
    await until(api, case_id, lambda c: c["stage"] == "survey")
    body = {"reason": "申请人拒不配合入户调查"}
    assert (await post(api, f"/cases/{case_id}/terminate", body, VILLAGE)).status_code == 403
    response = await post(api, f"/cases/{case_id}/terminate", body, TOWNSHIP)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "terminated"
    notice = await api.get(response.json()["notices"][-1]["url"])
    assert "终止办理" in notice.text and "拒不配合" in notice.text


async def test_recipient_events_are_refused_before_approval_and_checked(
    ts_api: httpx.AsyncClient, ts_stack: Stack, sample: dict[str, Any]
) -> None:
    api = ts_api
    case_id = (await post(api, "/cases", complete(sample), VILLAGE)).json()["case_id"]
    await until(api, case_id, lambda c: c["stage"] == "survey")
    early = await post(
        api, f"/cases/{case_id}/sign-in", {"month": "2026-11", "done": False}, VILLAGE
    )
    assert early.status_code == 409
    bad = await post(api, f"/cases/{case_id}/sign-in", {"month": "2026-13", "done": False}, VILLAGE)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "month"]
    unknown = await post(
        api, f"/cases/{case_id}/circumstance", {"kind": "won_lottery", "details": "x"}, VILLAGE
    )
    assert unknown.status_code == 422


async def test_yearly_spot_check_is_drawn_once_and_recorded(
    ts_api: httpx.AsyncClient, ts_stack: Stack
) -> None:
    api = ts_api
    ts_stack.sql(
        "INSERT INTO cases (case_id, head_id_number, stage, status, rule_pack_id, "
        "rule_pack_version, area_type, province_code, county_code, township_code, village_code, "
        "stage_entered_at, filed_at) SELECT 'DB-SPOT' || n, lpad(n::text, 18, '0'), "
        "'recipient', 'receiving', 'seed-default', 1, 'rural', '61', '610423', '610423100', "
        "'610423100201', now(), now() FROM generate_series(1, 11) n RETURNING 1"
    )
    refused = await post(api, "/counties/610423/spot-checks/2027", None, VILLAGE)
    assert refused.status_code == 403
    drawn = await post(api, "/counties/610423/spot-checks/2027", None, COUNTY)
    assert drawn.status_code == 200, drawn.text
    result = drawn.json()
    assert result["recipients"] == 11 and len(result["selected"]) == 3  # ceil(11 × 20%)
    again = (await post(api, "/counties/610423/spot-checks/2027", None, COUNTY)).json()
    assert again["selected"] == result["selected"]
    assert (await api.get("/counties/610423/spot-checks/2027")).status_code == 403
    shown = (await api.get("/counties/610423/spot-checks/2027", headers=COUNTY)).json()
    assert shown["selected"] == result["selected"] and shown["drawn_by"] == "chen.gang"
