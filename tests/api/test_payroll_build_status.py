"""A payroll whose build was interrupted says so while it shows `building`, from Temporal's
pending activity, instead of a bare `building` for ten minutes."""

from __future__ import annotations

import asyncio

import httpx

from dibao.domain.enums import Role
from dibao.domain.payroll import PayrollInput, workflow_id_for
from dibao.messages.case import Actor
from tests.auth import COUNTY
from tests.conftest import Stack
from workflows.payroll import PayrollWorkflow


async def test_an_interrupted_build_says_it_is_retrying(
    api: httpx.AsyncClient, dev_stack: Stack
) -> None:
    # The first attempt fails as a crash or an outage would; Temporal retries it.
    dev_stack.sql(
        "INSERT INTO ops_drills (activity_type, case_id, retryable, message, started_by) "
        "VALUES ('build_payroll', NULL, true, 'worker killed', 'test') RETURNING 1"
    )
    workflow_id = workflow_id_for("610423", "2026-11")
    dev_stack.started.append(workflow_id)
    await dev_stack.client.start_workflow(
        PayrollWorkflow.run,
        PayrollInput(
            county_code="610423",
            period="2026-11",
            requested_by=Actor(id="chen.gang", role=Role.COUNTY_APPROVER),
        ),
        id=workflow_id,
        task_queue=dev_stack.settings.task_queue,
    )
    for _ in range(100):
        run = await api.get("/payroll/runs/PR-610423-2026-11", headers=COUNTY)
        assert run.status_code == 200, run.text
        if "attempt 2" in (run.json()["status_detail"] or ""):
            break
        await asyncio.sleep(0.1)
    body = run.json()
    assert body["status"] == "building"
    assert body["status_detail"].startswith("building — retrying after an interruption")
    assert "attempt 2, last error: FailureDrill" in body["status_detail"]

    # Another county's approver may not look; an unknown run is still 404.
    assert (await api.get("/payroll/runs/PR-610424-2026-11", headers=COUNTY)).status_code == 403
    assert (await api.get("/payroll/runs/PR-610423-2026-10", headers=COUNTY)).status_code == 404
    assert (await api.get("/payroll/runs/PR-x", headers=COUNTY)).status_code == 404
