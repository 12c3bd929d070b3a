"""A step that gives up does not fail the case: it becomes an incident that ops retry (maybe
with corrected input) or skip, each once, each audited."""

from __future__ import annotations

import json
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError

from dibao.domain.case import Actor, RetryStep, SkipStep, Terminate
from dibao.domain.enums import CaseStatus, NoticeKind, Role, Stage
from tests.conftest import Stack
from tests.workflows.helpers import TOWNSHIP, VILLAGE, complete, file_case, wait_for
from workflows.case import CaseWorkflow

OPS = Actor(id="wang.ops", role=Role.OPS, jurisdiction="610423")


def drill(stack: Stack, activity_type: str, case_id: str, retryable: bool = False) -> None:
    stack.sql(
        "INSERT INTO ops_drills (activity_type, case_id, retryable, message, started_by) "
        "VALUES (%s, %s, %s, 'rehearsal', 'test') RETURNING activity_type",
        activity_type,
        case_id,
        retryable,
    )


def stop_drills(stack: Stack) -> None:
    stack.sql("DELETE FROM ops_drills RETURNING activity_type")


async def test_notice_incident_retried_with_corrected_input(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    handle = await file_case(ts_stack, complete(sample), "DB-INCIDENT0001")
    await wait_for(handle, lambda v: v.stage is Stage.SURVEY and bool(v.notices))
    drill(ts_stack, "issue_notice", "DB-INCIDENT0001")
    # The caseworker is answered at once, with the incident the case now waits on.
    view = await handle.execute_update(
        CaseWorkflow.terminate,
        Terminate(request_id="t1", actor=TOWNSHIP, reason="申请人不配合"),
    )
    assert view.incidents and view.procedure.waiting_for.startswith("运维处理")
    incident = view.incidents[0]
    assert incident.activity_type == "issue_notice"
    assert incident.skippable and "reason" in incident.correctable_fields
    assert "failure drill" in incident.error
    assert view.procedure.waiting_for.startswith("运维处理")
    rows = ts_stack.sql(
        "SELECT status, incident_id, case_id FROM step_failures WHERE activity_type = 'issue_notice'"
    )
    assert rows == [("incident", incident.incident_id, "DB-INCIDENT0001")]

    # Only ops may act on it, and only with a field the step has.
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            CaseWorkflow.retry_step,
            RetryStep(request_id="r0", actor=VILLAGE, incident_id=incident.incident_id, reason="x"),
        )
    assert "may not retry or skip" in str(err.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            CaseWorkflow.retry_step,
            RetryStep(
                request_id="r0",
                actor=OPS,
                incident_id=incident.incident_id,
                reason="x",
                corrections_json=json.dumps({"case_id": "DB-OTHER"}),
            ),
        )
    assert "corrections.case_id: not a correctable field" in str(err.value.cause)

    stop_drills(ts_stack)
    corrected = "申请人拒不配合入户调查，经两次告知仍拒绝"
    view = await handle.execute_update(
        CaseWorkflow.retry_step,
        RetryStep(
            request_id="r1",
            actor=OPS,
            incident_id=incident.incident_id,
            reason="演练结束，补正终止理由后重试",
            corrections_json=json.dumps({"reason": corrected}, ensure_ascii=False),
        ),
    )
    view = await wait_for(
        handle,
        lambda v: (
            v.status is CaseStatus.TERMINATED and v.notices[-1].kind is NoticeKind.TERMINATION
        ),
    )
    assert not view.incidents
    termination = [n for n in view.notices if n.kind is NoticeKind.TERMINATION]
    assert len(termination) == 1
    content = ts_stack.sql(
        "SELECT content FROM notices WHERE notice_id = %s", termination[0].notice_id
    )[0][0]
    assert corrected in content
    assert ts_stack.sql(
        "SELECT status, resolved_by, resolution FROM step_failures WHERE incident_id = %s",
        incident.incident_id,
    ) == [("retried", "wang.ops", "演练结束，补正终止理由后重试")]
    audit = ts_stack.sql(
        "SELECT actor_id, action FROM audit_log WHERE action = 'retry_step' AND case_id = %s",
        "DB-INCIDENT0001",
    )
    assert audit == [("wang.ops", "retry_step")]


async def test_notice_incident_skipped_with_reason(
    ts_stack: Stack, sample: dict[str, Any], record_history: Any
) -> None:
    drill(ts_stack, "issue_notice", "DB-INCIDENT0002")
    handle = await file_case(ts_stack, complete(sample), "DB-INCIDENT0002")
    view = await wait_for(handle, lambda v: bool(v.incidents), "an incident")
    incident = view.incidents[0]
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            CaseWorkflow.skip_step,
            SkipStep(request_id="s0", actor=OPS, incident_id=incident.incident_id, reason=" "),
        )
    assert "reason" in str(err.value.cause)
    await handle.execute_update(
        CaseWorkflow.skip_step,
        SkipStep(
            request_id="s1",
            actor=OPS,
            incident_id=incident.incident_id,
            reason="受理通知书已由村委会纸质送达",
        ),
    )
    # The same request again: answered, no second effect.
    await handle.execute_update(
        CaseWorkflow.skip_step,
        SkipStep(
            request_id="s1",
            actor=OPS,
            incident_id=incident.incident_id,
            reason="受理通知书已由村委会纸质送达",
        ),
    )
    view = await wait_for(handle, lambda v: v.stage is Stage.SURVEY and not v.incidents)
    assert view.notices == ()
    assert ts_stack.sql("SELECT count(*) FROM notices") == [(0,)]
    assert ts_stack.sql(
        "SELECT status, resolution FROM step_failures WHERE incident_id = %s",
        incident.incident_id,
    ) == [("skipped", "受理通知书已由村委会纸质送达")]
    assert ts_stack.sql("SELECT count(*) FROM audit_log WHERE action = 'skip_step'") == [(1,)]
    await record_history(handle, "acceptance_notice_skipped_by_ops")


async def test_a_step_the_case_needs_can_only_be_retried(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    drill(ts_stack, "append_audit", "DB-INCIDENT0003")
    handle = await file_case(ts_stack, complete(sample), "DB-INCIDENT0003")
    view = await wait_for(handle, lambda v: bool(v.incidents), "an incident")
    incident = view.incidents[0]
    assert incident.activity_type == "append_audit" and not incident.skippable
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            CaseWorkflow.skip_step,
            SkipStep(request_id="s1", actor=OPS, incident_id=incident.incident_id, reason="x"),
        )
    assert "cannot be skipped" in str(err.value.cause)
    stop_drills(ts_stack)
    await handle.execute_update(
        CaseWorkflow.retry_step,
        RetryStep(request_id="r1", actor=OPS, incident_id=incident.incident_id, reason="修复"),
    )
    view = await wait_for(handle, lambda v: v.stage is Stage.SURVEY and bool(v.notices))
    # The filing is in the audit log exactly once, after the retry.
    assert ts_stack.sql("SELECT count(*) FROM audit_log WHERE action = 'file_application'") == [
        (1,)
    ]
