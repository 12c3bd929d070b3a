"""Resetting a case (Temporal's workflow reset, the ops runbook in docs/operations.md) runs its
activities again; every one is keyed by case and step, so nothing is written twice."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest

from dibao.domain.enums import Stage
from tests.conftest import Stack
from tests.workflows.helpers import (
    complete,
    evaluate,
    file_case,
    survey,
    survey_of,
    wait_for,
)

COUNTS = {
    "notices": "SELECT count(*) FROM notices",
    "audit": "SELECT count(*) FROM audit_log",
    "stage_events": "SELECT count(*) FROM stage_events",
    "postings": "SELECT count(*) FROM postings",
    "verification_runs": "SELECT count(*) FROM verification_runs",
}


def counts(stack: Stack) -> dict[str, int]:
    return {name: int(stack.sql(query)[0][0]) for name, query in COUNTS.items()}


async def test_reset_to_the_first_workflow_task_writes_nothing_twice(
    dev_stack: Stack, sample: dict[str, Any]
) -> None:
    handle = await file_case(dev_stack, complete(sample), "DB-RESET000001")
    view = await wait_for(handle, lambda v: v.stage is Stage.SURVEY and bool(v.notices))
    await survey(handle, survey_of(view.application))
    await wait_for(handle, lambda v: v.stage is Stage.EVALUATION)
    view = await evaluate(handle)
    view = await wait_for(handle, lambda v: v.stage is Stage.POSTING_BEFORE_REVIEW)
    await wait_for(handle, lambda v: bool(v.procedure.postings))
    before = counts(dev_stack)
    assert before["notices"] == 1 and before["postings"] == 1 and before["audit"] >= 3

    history = await handle.fetch_history()
    first_task = next(
        e.event_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    )
    reset = await dev_stack.client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=dev_stack.client.namespace,
            workflow_execution=WorkflowExecution(workflow_id="DB-RESET000001"),
            reason="runbook test: reset to the first workflow task",
            workflow_task_finish_event_id=first_task,
            request_id=str(uuid.uuid4()),
        )
    )
    new_handle = dev_stack.client.get_workflow_handle("DB-RESET000001", run_id=reset.run_id)
    # The new run does the work again (updates after the reset point are reapplied, or sent
    # again below with the same request IDs, as a caseworker retrying would).
    view = await wait_for(
        new_handle, lambda v: v.stage is Stage.SURVEY or v.procedure.postings != ()
    )
    if view.stage is Stage.SURVEY and view.procedure.survey is None:
        await survey(new_handle, survey_of(view.application))
        await wait_for(new_handle, lambda v: v.stage is Stage.EVALUATION)
        await evaluate(new_handle)
    view = await wait_for(
        new_handle,
        lambda v: v.stage is Stage.POSTING_BEFORE_REVIEW and bool(v.procedure.postings),
    )
    assert counts(dev_stack) == before
    assert len(view.notices) == 1
    assert view.procedure.postings[0].posting_id


async def reset(stack: Stack, workflow_id: str, event_id: int) -> str:
    response = await stack.client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=stack.client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id),
            reason="runbook test",
            workflow_task_finish_event_id=event_id,
            request_id=str(uuid.uuid4()),
        )
    )
    return str(response.run_id)


async def test_incidents_follow_a_reset_and_none_is_left_open(
    dev_stack: Stack, sample: dict[str, Any]
) -> None:
    from dibao.domain.enums import Role
    from dibao.messages.case import Actor, RetryStep
    from tests.workflows.test_incidents import drill, stop_drills
    from workflows.case import CaseWorkflow

    drill(dev_stack, "issue_notice", "DB-RESET000002")
    handle = await file_case(dev_stack, complete(sample), "DB-RESET000002")
    first = (await wait_for(handle, lambda v: bool(v.incidents), "an incident")).incidents[0]

    # Reset to before the failure: the step fails again in the new run, a new incident opens
    # and the replaced run's one is marked superseded, not left open.
    history = await handle.fetch_history()
    tasks = [
        e.event_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    ]
    run = await reset(dev_stack, "DB-RESET000002", tasks[0])
    handle = dev_stack.client.get_workflow_handle("DB-RESET000002", run_id=run)
    second = (
        await wait_for(
            handle,
            lambda v: bool(v.incidents) and v.incidents[0].incident_id != first.incident_id,
            "a new incident",
        )
    ).incidents[0]
    assert dev_stack.sql(
        "SELECT status FROM step_failures WHERE incident_id = %s", first.incident_id
    ) == [("superseded",)]

    # Reset to the last workflow task: the new run goes on with the same incident.
    history = await handle.fetch_history()
    last = max(
        e.event_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    )
    run = await reset(dev_stack, "DB-RESET000002", last)
    handle = dev_stack.client.get_workflow_handle("DB-RESET000002", run_id=run)
    view = await wait_for(handle, lambda v: bool(v.incidents), "the incident")
    assert view.incidents[0].incident_id == second.incident_id

    stop_drills(dev_stack)
    await handle.execute_update(
        CaseWorkflow.retry_step,
        RetryStep(
            request_id="r1",
            actor=Actor(id="wang.ops", role=Role.OPS, jurisdiction="610423"),
            incident_id=second.incident_id,
            reason="drill over",
        ),
    )
    await wait_for(handle, lambda v: bool(v.notices) and not v.incidents)
    assert dev_stack.sql(
        "SELECT count(*) FROM step_failures WHERE status IN ('incident', 'retrying')"
    ) == [(0,)]
    assert dev_stack.sql("SELECT count(*) FROM notices") == [(1,)]


async def test_a_step_still_retrying_in_a_replaced_run_is_not_left_listed(
    dev_stack: Stack, sample: dict[str, Any]
) -> None:
    from tests.workflows.test_incidents import stop_drills

    dev_stack.sql(
        "INSERT INTO ops_drills (activity_type, case_id, retryable, message, started_by) "
        "VALUES ('issue_notice', 'DB-RESET000003', true, 'printer jammed', 'test') RETURNING 1"
    )
    handle = await file_case(dev_stack, complete(sample), "DB-RESET000003")
    old_run = handle.result_run_id
    for _ in range(250):
        if dev_stack.sql("SELECT 1 FROM step_failures WHERE run_id = %s", old_run):
            break
        await asyncio.sleep(0.02)
    # The failing step is a local activity: the first workflow task completes once its
    # retry waits on a timer.
    first_task = None
    for _ in range(250):
        history = await handle.fetch_history()
        first_task = next(
            (
                e.event_id
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
            ),
            None,
        )
        if first_task is not None:
            break
        await asyncio.sleep(0.02)
    assert first_task is not None
    stop_drills(dev_stack)
    run = await reset(dev_stack, "DB-RESET000003", first_task)
    new_handle = dev_stack.client.get_workflow_handle("DB-RESET000003", run_id=run)
    await wait_for(new_handle, lambda v: v.stage is Stage.SURVEY and bool(v.notices))
    assert dev_stack.sql("SELECT status FROM step_failures WHERE run_id = %s", old_run) == [
        ("superseded",)
    ]
    assert dev_stack.sql(
        "SELECT count(*) FROM step_failures WHERE status IN ('retrying', 'incident')"
    ) == [(0,)]
