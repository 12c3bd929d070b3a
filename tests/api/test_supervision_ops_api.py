"""Supervisors' stuck list, ops' incidents, describe, skip/retry/close and metrics over HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.auth import OPS, SUPERVISOR, VILLAGE, bearer
from tests.conftest import Stack
from tests.workflows.helpers import complete


async def wait_json(api: httpx.AsyncClient, path: str, ready: Any, **kw: Any) -> Any:
    for _ in range(250):
        response = await api.get(path, **kw)
        assert response.status_code == 200, response.text
        if ready(response.json()):
            return response.json()
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path} never ready: {response.text[:500]}")


def one_incident(page: dict[str, Any]) -> bool:
    # Filing answers before the worker's first step: the step is listed while it still
    # retries, and becomes an incident once it gives up.
    return bool(page["total"] == 1 and page["items"][0]["status"] == "incident")


async def test_incident_seen_by_supervisor_and_ops_then_skipped_over_http(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    dev_stack.sql(
        "INSERT INTO ops_drills (activity_type, case_id, retryable, message, started_by) "
        "VALUES ('issue_notice', NULL, false, 'printer offline', 'test') RETURNING 1"
    )
    filed = await api.post("/cases", json=complete(sample), headers=VILLAGE)
    assert filed.status_code == 201, filed.text
    case_id = filed.json()["case_id"]

    incidents = await wait_json(api, "/ops/incidents", one_incident, headers=OPS)
    (incident,) = incidents["items"]
    assert incident["case_id"] == case_id and incident["status"] == "incident"
    assert incident["activity_type"] == "issue_notice"
    assert "printer offline" in incident["last_error"]
    # What ops can do about it: a notice can be retried (corrected), skipped, or the case closed.
    assert incident["options"][0] == "retry" and incident["options"][-2:] == ["skip", "close"]
    assert incident["options"][1].startswith("retry_with_correction(reason")

    # Who may look: supervisors of the county (not caseworkers); another county sees nothing.
    assert (await api.get("/supervision/stuck", headers=VILLAGE)).status_code == 403
    assert (await api.get("/ops/incidents", headers=SUPERVISOR)).status_code == 403
    elsewhere = await api.get("/supervision/stuck", headers=bearer("he.jun"))
    assert elsewhere.status_code == 200 and elsewhere.json()["total"] == 0
    assert (
        await api.get("/supervision/stuck", params={"county": "610424"}, headers=SUPERVISOR)
    ).status_code == 403

    stuck = (await api.get("/supervision/stuck", headers=SUPERVISOR)).json()
    assert [row["case_id"] for row in stuck["items"]] == [case_id]
    assert stuck["items"][0]["reasons"] == ["incident"]
    assert "issue_notice" in stuck["items"][0]["waiting_for"]
    assert stuck["by_township"] == [{"township_code": "610423100", "cases": 1}]

    described = (await api.get(f"/ops/cases/{case_id}/describe", headers=OPS)).json()
    assert described["workflow_status"] == "RUNNING"
    assert described["incidents"][0]["incident_id"] == incident["incident_id"]

    case = (await api.get(f"/cases/{case_id}", headers=VILLAGE)).json()
    assert case["incidents"][0]["incident_id"] == incident["incident_id"]

    body = {"incident_id": incident["incident_id"], "reason": "受理通知书已纸质送达"}
    denied = await api.post(f"/cases/{case_id}/skip-step", json=body, headers=VILLAGE)
    assert denied.status_code == 403
    wrong = await api.post(
        f"/cases/{case_id}/skip-step", json={**body, "incident_id": "I-nope"}, headers=OPS
    )
    assert wrong.status_code == 409 and "not open" in wrong.text
    skipped = await api.post(f"/cases/{case_id}/skip-step", json=body, headers=OPS)
    assert skipped.status_code == 200, skipped.text
    assert skipped.json()["incidents"] == []
    await wait_json(api, "/ops/incidents", lambda d: d["total"] == 0, headers=OPS)
    history = (await api.get("/ops/incidents", params={"status": "skipped"}, headers=OPS)).json()
    assert history["items"][0]["status"] == "skipped"

    metrics = await api.get("/metrics")
    assert metrics.status_code == 200
    assert 'dibao_cases{stage="survey",status="in_progress"} 1.0' in metrics.text
    assert "dibao_incidents_open 0.0" in metrics.text


async def test_a_case_closed_by_ops_at_a_step_it_needs_over_http(
    api: httpx.AsyncClient, dev_stack: Stack, sample: dict[str, Any]
) -> None:
    dev_stack.sql(
        "INSERT INTO ops_drills (activity_type, case_id, retryable, message, started_by) "
        "VALUES ('append_audit', NULL, false, 'audit store refuses', 'test') RETURNING 1"
    )
    filed = await api.post("/cases", json=complete(sample), headers=VILLAGE)
    assert filed.status_code == 201, filed.text
    case_id = filed.json()["case_id"]
    incidents = await wait_json(api, "/ops/incidents", one_incident, headers=OPS)
    (incident,) = incidents["items"]
    assert incident["activity_type"] == "append_audit"
    assert incident["options"] == ["retry", "close"]
    dev_stack.sql("DELETE FROM ops_drills RETURNING 1")

    body = {"incident_id": incident["incident_id"], "reason": "登记信息无法入档，请重新申请"}
    denied = await api.post(f"/cases/{case_id}/close-case", json=body, headers=VILLAGE)
    assert denied.status_code == 403
    closed = await api.post(f"/cases/{case_id}/close-case", json=body, headers=OPS)
    assert closed.status_code == 200, closed.text
    case = closed.json()
    assert case["status"] == "terminated" and case["stage"] == "closed"
    assert [n["kind"] for n in case["notices"]] == ["termination"]
    history = (await api.get("/ops/incidents", params={"status": "closed"}, headers=OPS)).json()
    assert [row["incident_id"] for row in history["items"]] == [incident["incident_id"]]
    assert history["items"][0]["options"] == []
