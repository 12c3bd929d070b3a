"""Complaints and reports over HTTP (mca-2021 Arts. 36–37; 000 篇3 lines 50, 54; 000 篇5 line 69;
003 lines 399–400): recorded once per request, assigned, investigated, answered in writing to a
real-name reporter, closed; a founded complaint about a recipient makes a re-review due; an
overdue one appears in the supervisors' stuck list; the complainant stays private."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import httpx

from tests.api.test_logs_without_personal_data import written_logs  # noqa: F401 - fixture
from tests.api.test_procedure_api import complete, until
from tests.auth import AUDITOR, COUNTY, SUPERVISOR, TOWNSHIP, VILLAGE
from tests.conftest import Stack
from tests.workflows.test_recipient import approved_case

REPORTER = "王五举"
CONTACT = "13912345678"


def general(**extra: Any) -> dict[str, Any]:
    return {
        "kind": "general",
        "county_code": "610423",
        "township_code": "610423100",
        "channel": "real_name",
        "source": "hotline",
        "summary": "反映示例村评议会未按规定公开唱票",
        "complainant_name": REPORTER,
        "complainant_contact": CONTACT,
        **extra,
    }


async def test_art37_real_name_report_is_checked_answered_in_writing_and_closed_once(
    ts_api: httpx.AsyncClient,
    ts_stack: Stack,
    written_logs: io.StringIO,  # noqa: F811
) -> None:
    api = ts_api
    key = {"Idempotency-Key": "hotline-0001"}
    first = await api.post("/complaints", json=general(), headers={**TOWNSHIP, **key})
    assert first.status_code == 201, first.text
    again = await api.post("/complaints", json=general(), headers={**TOWNSHIP, **key})
    # A double submission records it once.
    assert again.status_code == 200 and again.json()["complaint_id"] == first.json()["complaint_id"]
    assert ts_stack.sql("SELECT count(*) FROM complaints") == [(1,)]
    complaint = first.json()
    cid = complaint["complaint_id"]
    assert complaint["status"] == "received" and complaint["complainant_name"] == REPORTER
    assert complaint["rule_pack"].startswith("seed-default@")
    # Art. 36: the village caseworker neither records nor reads complaints.
    assert (await api.post("/complaints", json=general(), headers=VILLAGE)).status_code == 403
    assert (await api.get(f"/complaints/{cid}", headers=VILLAGE)).status_code == 403
    # Art. 37: a real-name report must say how to answer the reporter.
    missing = await api.post(
        "/complaints", json=general(complainant_contact=None), headers=TOWNSHIP
    )
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "complainant_contact"]

    step = {"Idempotency-Key": "assign-1"}
    assigned = await api.post(
        f"/complaints/{cid}/assign", json={"level": "township"}, headers={**TOWNSHIP, **step}
    )
    assert assigned.status_code == 200 and assigned.json()["status"] == "assigned"
    repeated = await api.post(
        f"/complaints/{cid}/assign", json={"level": "township"}, headers={**TOWNSHIP, **step}
    )
    assert repeated.status_code == 200
    assert [e["step"] for e in repeated.json()["events"]] == ["receive", "assign"]
    early = await api.post(f"/complaints/{cid}/answer", json={"text": "已核查"}, headers=TOWNSHIP)
    assert early.status_code == 409  # no answer before the investigation
    checked = await api.post(
        f"/complaints/{cid}/investigation",
        json={"finding": "unfounded", "summary": "经查阅评议记录并走访，当场唱票属实"},
        headers=TOWNSHIP,
    )
    assert checked.status_code == 200, checked.text
    closing = await api.post(f"/complaints/{cid}/close", json={}, headers=TOWNSHIP)
    assert closing.status_code == 409 and "Art. 37" in closing.json()["detail"]["message"]
    answered = await api.post(
        f"/complaints/{cid}/answer",
        json={"text": "经核查，该村民主评议会当场唱票、当场公布结果，你反映的问题不属实。"},
        headers=TOWNSHIP,
    )
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["status"] == "answered"
    document = await api.get(body["answer_url"], headers=TOWNSHIP)
    assert document.status_code == 200
    assert "举报（投诉）核查处理结果告知书" in document.text
    assert f"{REPORTER}：" in document.text and "第三十七条" in document.text
    assert "反映问题不属实" in document.text and "示例镇人民政府" in document.text
    assert hashlib.sha256(document.text.encode()).hexdigest() == body["answer_sha256"]
    closed = await api.post(f"/complaints/{cid}/close", json={}, headers=TOWNSHIP)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"

    # Supervisors and auditors read it without the complainant, and not the answer naming them.
    for reader in (SUPERVISOR, AUDITOR):
        seen = (await api.get(f"/complaints/{cid}", headers=reader)).json()
        assert seen["complainant_name"] is None and seen["complainant_contact"] is None
        assert seen["complainant_hidden"] is True and seen["answer_url"] is None
        assert (await api.get(f"/complaints/{cid}/answer", headers=reader)).status_code == 403
        listed = (await api.get("/complaints", headers=reader)).json()
        assert REPORTER not in str(listed) and CONTACT not in str(listed)
    # The events keep no one's name; nor does any log line.
    assert REPORTER not in str(ts_stack.sql("SELECT detail FROM complaint_events"))
    logged = written_logs.getvalue()
    assert REPORTER not in logged and CONTACT not in logged


async def test_000_5_founded_complaint_about_a_recipient_makes_a_review_due_and_overdue_is_stuck(
    ts_api: httpx.AsyncClient, ts_stack: Stack, sample: dict[str, Any]
) -> None:
    api = ts_api
    handle = await approved_case(ts_stack, sample, "DB-COMPLAINT001")
    case_id = handle.id
    report = {
        "kind": "recipient",
        "case_id": case_id,
        "channel": "anonymous",
        "source": "letter",
        "summary": "来信反映该户家中新购小轿车一辆",
    }
    recorded = await api.post("/complaints", json=report, headers=COUNTY)
    assert recorded.status_code == 201, recorded.text
    cid = recorded.json()["complaint_id"]
    assert recorded.json()["village_code"] == "610423100201"  # the case's place
    # The pack's 20 working days pass without an answer (moved back, as the clock would).
    ts_stack.sql(
        "UPDATE complaints SET due_at = now() - interval '1 day' WHERE complaint_id = %s "
        "RETURNING complaint_id",
        cid,
    )
    stuck = await api.get(
        "/supervision/stuck", params={"reason": "complaint_overdue"}, headers=SUPERVISOR
    )
    assert stuck.status_code == 200, stuck.text
    (item,) = stuck.json()["items"]
    assert item["case_id"] == case_id and item["reasons"] == ["complaint_overdue"]
    assert "举报投诉" in item["waiting_for"]
    overdue = (await api.get("/complaints", params={"overdue": "true"}, headers=COUNTY)).json()
    assert [c["complaint_id"] for c in overdue["items"]] == [cid]

    await api.post(f"/complaints/{cid}/assign", json={"level": "county"}, headers=COUNTY)
    # Assigned to the county: the township does not take the investigation over.
    taken = await api.post(
        f"/complaints/{cid}/investigation",
        json={"finding": "founded", "summary": "x", "follow_up": "review"},
        headers=TOWNSHIP,
    )
    assert taken.status_code == 403
    founded = {
        "finding": "founded",
        "summary": "经入户核查，该户2026年10月购置小轿车一辆",
        "follow_up": "review",
    }
    key = {"Idempotency-Key": "investigate-1"}
    response = await api.post(
        f"/complaints/{cid}/investigation", json=founded, headers={**COUNTY, **key}
    )
    assert response.status_code == 200, response.text
    assert "复核" in response.json()["follow_up_result"]
    again = await api.post(
        f"/complaints/{cid}/investigation", json=founded, headers={**COUNTY, **key}
    )
    assert again.status_code == 200, again.text
    case = (await api.get(f"/cases/{case_id}", headers=COUNTY)).json()
    assert case["review_due"] is True
    # The case's audit trail shows the complaint's steps and one circumstance report.
    audit = (await api.get(f"/cases/{case_id}/audit", headers=COUNTY)).json()
    actions = [a["action"] for a in audit]
    assert actions.count("circumstance") == 1
    assert {"complaint_receive", "complaint_assign", "complaint_investigate"} <= set(actions)
    # An anonymous report closes once investigated; then it is no longer stuck.
    assert (await api.post(f"/complaints/{cid}/close", json={}, headers=COUNTY)).status_code == 200
    stuck = await api.get(
        "/supervision/stuck", params={"reason": "complaint_overdue"}, headers=SUPERVISOR
    )
    assert stuck.json()["items"] == []


async def test_000_5_founded_complaint_about_an_application_stops_it_and_recusal_holds(
    ts_api: httpx.AsyncClient, ts_stack: Stack, sample: dict[str, Any]
) -> None:
    api = ts_api
    # li.na's mother is the head of the household: she may not take a complaint about it.
    relative = {
        "staff_role": "township_caseworker",
        "relative_name": "王秀英",
        "relative_id_number": "612522195803120027",
        "relation": "母亲",
    }
    registered = await api.post("/staff/li.na/relatives", json=relative, headers=TOWNSHIP)
    assert registered.status_code == 201, registered.text
    case_id = (await api.post("/cases", json=complete(sample), headers=VILLAGE)).json()["case_id"]
    await until(api, case_id, lambda c: c["stage"] == "survey")
    report = {
        "kind": "case",
        "case_id": case_id,
        "channel": "anonymous",
        "summary": "反映申请人隐瞒在外务工收入",
    }
    recused = await api.post("/complaints", json=report, headers=TOWNSHIP)
    assert recused.status_code == 403 and "near relative" in recused.json()["detail"]["message"]
    cid = (await api.post("/complaints", json=report, headers=COUNTY)).json()["complaint_id"]
    await api.post(f"/complaints/{cid}/assign", json={"level": "county"}, headers=COUNTY)
    # A re-review is for a recipient; an application being handled is stopped.
    wrong = {"finding": "founded", "summary": "属实", "follow_up": "review"}
    response = await api.post(f"/complaints/{cid}/investigation", json=wrong, headers=COUNTY)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "follow_up"]
    founded = {
        "finding": "founded",
        "summary": "经核实，申请人在外务工月收入约4000元，未如实申报",
        "follow_up": "stop",
    }
    response = await api.post(f"/complaints/{cid}/investigation", json=founded, headers=COUNTY)
    assert response.status_code == 200, response.text
    assert "终止办理" in response.json()["follow_up_result"]
    case = await until(api, case_id, lambda c: c["status"] == "terminated", COUNTY)
    notice = await api.get(case["notices"][-1]["url"], headers=COUNTY)
    assert "终止办理" in notice.text and cid in notice.text
