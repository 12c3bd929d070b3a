"""A step that gives up does not fail the case: it becomes an incident that ops retry (maybe
with corrected input), skip, or close the case at, each once, each audited."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateStage

from dibao.domain.application import Payee
from dibao.domain.enums import CaseStatus, NoticeKind, Role, Stage
from dibao.messages.case import (
    Actor,
    ChangePayee,
    CloseCase,
    ReportSignIn,
    RetryStep,
    SkipStep,
    Terminate,
    Withdraw,
)
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


async def test_a_step_the_case_needs_can_be_closed_with_a_notice(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    drill(ts_stack, "append_audit", "DB-INCIDENT0004")
    handle = await file_case(ts_stack, complete(sample), "DB-INCIDENT0004")
    view = await wait_for(handle, lambda v: bool(v.incidents), "an incident")
    incident = view.incidents[0]
    assert incident.activity_type == "append_audit" and not incident.skippable
    assert incident.options[-1] == "close" and "skip" not in incident.options
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            CaseWorkflow.close_case,
            CloseCase(request_id="c0", actor=VILLAGE, incident_id=incident.incident_id, reason="x"),
        )
    assert "may not retry or skip a failed step, or close its case" in str(err.value.cause)
    # Ops judge the filing unrecordable and close the case; the audit works for the close.
    stop_drills(ts_stack)
    reason = "申请登记信息无法入档，请携带材料重新申请"
    view = await handle.execute_update(
        CaseWorkflow.close_case,
        CloseCase(request_id="c1", actor=OPS, incident_id=incident.incident_id, reason=reason),
    )
    assert view.stage is Stage.CLOSED and view.status is CaseStatus.TERMINATED
    assert not view.incidents and view.procedure.closure_reason == reason
    assert [n.kind for n in view.notices] == [NoticeKind.TERMINATION]
    content = ts_stack.sql(
        "SELECT content FROM notices WHERE notice_id = %s", view.notices[0].notice_id
    )[0][0]
    assert reason in content
    assert ts_stack.sql(
        "SELECT status, resolved_by, resolution FROM step_failures WHERE incident_id = %s",
        incident.incident_id,
    ) == [("closed", "wang.ops", reason)]
    assert ts_stack.sql(
        "SELECT actor_id, action FROM audit_log WHERE case_id = %s", "DB-INCIDENT0004"
    ) == [("wang.ops", "close_case")]
    assert ts_stack.sql(
        "SELECT status, stage FROM cases WHERE case_id = %s", "DB-INCIDENT0004"
    ) == [("terminated", "closed")]


async def test_an_overlong_idempotency_key_in_the_audit_is_corrected_and_the_case_goes_on(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    handle = await file_case(ts_stack, complete(sample), "DB-INCIDENT0005")
    await wait_for(handle, lambda v: v.stage is Stage.SURVEY and bool(v.notices))
    # Sent before the API checked key lengths: the audit row's key no longer fits its column.
    long_key = "k" * 150
    await handle.start_update(
        CaseWorkflow.withdraw,
        Withdraw(request_id=long_key, actor=VILLAGE, reason="申请人已外出务工"),
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
    )
    await ts_stack.env.sleep(timedelta(hours=2))  # the audit write's retries run out
    view = await wait_for(handle, lambda v: bool(v.incidents), "an incident")
    incident = view.incidents[0]
    assert incident.activity_type == "append_audit"
    assert "retry_with_correction(step_key)" in incident.options
    rows = await ops_incidents(ts_stack, "DB-INCIDENT0005")
    assert rows == [("incident", "step_key")]

    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            CaseWorkflow.retry_step,
            RetryStep(
                request_id="r0",
                actor=OPS,
                incident_id=incident.incident_id,
                reason="x",
                corrections_json=json.dumps({"step_key": "terminate/short"}),
            ),
        )
    assert "must start with 'withdraw/'" in str(err.value.cause)
    await handle.execute_update(
        CaseWorkflow.retry_step,
        RetryStep(
            request_id="r1",
            actor=OPS,
            incident_id=incident.incident_id,
            reason="幂等键过长，截短后重试",
            corrections_json=json.dumps({"step_key": "withdraw/" + long_key[:40]}),
        ),
    )
    view = await wait_for(handle, lambda v: v.status is CaseStatus.WITHDRAWN, "withdrawn")
    assert not view.incidents
    assert ts_stack.sql(
        "SELECT step_key FROM audit_log WHERE case_id = %s AND action = 'withdraw'",
        "DB-INCIDENT0005",
    ) == [("withdraw/" + long_key[:40],)]


async def ops_incidents(stack: Stack, case_id: str) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = stack.sql(
        "SELECT status, correctable_fields FROM step_failures WHERE case_id = %s AND "
        "activity_type = 'append_audit'",
        case_id,
    )
    return rows


async def test_closing_at_a_step_inside_an_action_refuses_the_action_and_closes_the_case(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    handle = await file_case(ts_stack, complete(sample), "DB-INCIDENT0006")
    await wait_for(handle, lambda v: v.stage is Stage.SURVEY and bool(v.notices))
    withdrawal = await handle.start_update(
        CaseWorkflow.withdraw,
        Withdraw(request_id="k" * 150, actor=VILLAGE, reason="申请人已外出务工"),
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
    )
    await ts_stack.env.sleep(timedelta(hours=2))
    view = await wait_for(handle, lambda v: bool(v.incidents), "an incident")
    view = await handle.execute_update(
        CaseWorkflow.close_case,
        CloseCase(
            request_id="c1", actor=OPS, incident_id=view.incidents[0].incident_id, reason="撤回"
        ),
    )
    assert view.status is CaseStatus.TERMINATED and view.notices[-1].kind is NoticeKind.TERMINATION
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await withdrawal.result()
    assert "ops closed the case at step append_audit" in str(err.value.cause)


async def test_a_payee_field_is_corrected_and_the_case_keeps_the_corrected_account(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    handle = await file_case(ts_stack, complete(sample), "DB-INCIDENT0007")
    await wait_for(handle, lambda v: v.stage is Stage.SURVEY and bool(v.notices))
    # Stands for a bank name the payee table refuses (a NUL sent before the API checked it).
    drill(ts_stack, "record_payee", "DB-INCIDENT0007")
    payee = Payee(account_holder="王秀英", bank="农行\x00某支行", account_no="6228480012345678")
    change = await handle.start_update(
        CaseWorkflow.change_payee,
        ChangePayee(request_id="p1", actor=VILLAGE, payee=payee),
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
    )
    view = await wait_for(handle, lambda v: bool(v.incidents), "an incident")
    incident = view.incidents[0]
    assert incident.activity_type == "record_payee"
    assert "retry_with_correction(step_key, payee.account_holder, payee.bank" in incident.options[1]
    stop_drills(ts_stack)
    await handle.execute_update(
        CaseWorkflow.retry_step,
        RetryStep(
            request_id="r1",
            actor=OPS,
            incident_id=incident.incident_id,
            reason="开户行名称含非法字符，按存折补正",
            corrections_json=json.dumps({"payee.bank": "中国农业银行某支行"}, ensure_ascii=False),
        ),
    )
    view = await change.result()
    assert view.payee is not None and view.payee.bank == "中国农业银行某支行"
    assert ts_stack.sql(
        "SELECT bank FROM payee_accounts WHERE case_id = %s", "DB-INCIDENT0007"
    ) == [("中国农业银行某支行",)]


async def test_a_recipient_case_closed_at_a_failed_step_of_a_report(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    from tests.workflows.test_recipient import approved_case

    handle = await approved_case(ts_stack, sample, "DB-INCIDENT0008")
    recipient = (await handle.query(CaseWorkflow.state)).recipient
    assert recipient is not None
    # Into the first paid month: a sign-in is owed only for a month that has begun.
    await ts_stack.env.sleep(timedelta(days=32))
    report = await handle.start_update(
        CaseWorkflow.report_sign_in,
        # A month a sign-in is owed for: the first paid one.
        ReportSignIn(request_id="k" * 150, actor=VILLAGE, month=recipient.paid_from, done=True),
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
    )
    await ts_stack.env.sleep(timedelta(hours=2))
    view = await wait_for(handle, lambda v: bool(v.incidents), "an incident")
    view = await handle.execute_update(
        CaseWorkflow.close_case,
        CloseCase(
            request_id="c1",
            actor=OPS,
            incident_id=view.incidents[0].incident_id,
            reason="户主已迁出，签到记录无法入档",
        ),
    )
    assert (view.stage, view.status) == (Stage.CLOSED, CaseStatus.TERMINATED)
    assert view.notices[-1].kind is NoticeKind.TERMINATION
    with pytest.raises(WorkflowUpdateFailedError):
        await report.result()
