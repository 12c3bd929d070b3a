"""The whole procedure's time limit (mca-2021 Art. 22): shown on the case, escalated by the
case's own timer when it passes undecided, extended once by the county with a reason; the
seed-default township's 20 working days count from receipt of the application (陕西 第十条(一));
a refusal notice is issued within the pack's working days of the decision (Art. 21)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError

from dibao.domain.calendar import add_working_days, china_date
from dibao.domain.enums import NoticeKind, Opinion, Stage
from dibao.domain.rulepacks import MCA_2021
from dibao.messages.case import ExtendDeadline
from tests.conftest import Stack
from tests.workflows.helpers import (
    COUNTY,
    TOWNSHIP,
    at_stage,
    complete,
    county_visit,
    decide,
    evaluate,
    file_case,
    finish_posting,
    survey,
    survey_of,
    township,
    wait_for,
)
from workflows.case import CaseWorkflow

REASON = "申请人外出务工，异地家庭经济状况核对需时较长"


def procedure_alerts(stack: Stack, case_id: str) -> list[tuple[Any, ...]]:
    return stack.sql(
        "SELECT step_key, stage, township_code FROM supervisor_alerts "
        "WHERE case_id = %s AND kind = 'procedure_overdue' ORDER BY id",
        case_id,
    )


async def test_whole_procedure_limit_is_shown_escalated_and_extended_once(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    case_id = "DB-PROCDUE00001"
    handle = await file_case(ts_stack, complete(sample), case_id, pack=MCA_2021)
    view = await wait_for(
        handle, lambda v: v.stage is Stage.SURVEY and v.procedure_due_at is not None, "limit"
    )
    accepted = china_date(view.stage_entered_at)
    assert view.procedure_working_days == 30
    assert view.procedure_due_at == add_working_days(accepted, 30).due_at
    assert ts_stack.sql("SELECT procedure_due_at FROM cases WHERE case_id = %s", case_id) == [
        (view.procedure_due_at,)
    ]
    assert view.procedure_due_at is not None

    await ts_stack.env.sleep(view.procedure_due_at - view.stage_entered_at + timedelta(hours=1))
    view = await wait_for(handle, lambda v: v.procedure_overdue_since is not None, "overdue")
    assert procedure_alerts(ts_stack, case_id) == [("procedure-overdue-30", "survey", "610423100")]
    assert ts_stack.sql(
        "SELECT procedure_overdue_since IS NOT NULL FROM cases WHERE case_id = %s", case_id
    ) == [(True,)]

    # Only the county extends, only with a reason.
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(
            CaseWorkflow.extend_deadline, ExtendDeadline("x0", TOWNSHIP, REASON)
        )
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(CaseWorkflow.extend_deadline, ExtendDeadline("x0", COUNTY, ""))
    assert "reason" in str(err.value.cause)

    view = await handle.execute_update(
        CaseWorkflow.extend_deadline, ExtendDeadline("x1", COUNTY, REASON)
    )
    extended = add_working_days(accepted, 45).due_at
    assert (view.procedure_working_days, view.procedure_due_at) == (45, extended)
    assert view.procedure_extension_reason == REASON
    assert view.procedure_overdue_since is None
    assert ts_stack.sql(
        "SELECT procedure_due_at, procedure_overdue_since FROM cases WHERE case_id = %s", case_id
    ) == [(extended, None)]
    assert ts_stack.sql(
        "SELECT actor_id FROM audit_log WHERE case_id = %s AND action = 'extend_deadline'", case_id
    ) == [("chen.gang",)]

    # Once: the same request answers again, another is refused.
    again = await handle.execute_update(
        CaseWorkflow.extend_deadline, ExtendDeadline("x1", COUNTY, REASON)
    )
    assert again.procedure_working_days == 45
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            CaseWorkflow.extend_deadline, ExtendDeadline("x2", COUNTY, REASON)
        )
    assert "already extended" in str(err.value.cause)

    await ts_stack.env.sleep(extended - await ts_stack.env.get_current_time() + timedelta(hours=1))
    view = await wait_for(handle, lambda v: v.procedure_overdue_since is not None, "overdue 45")
    assert [a[0] for a in procedure_alerts(ts_stack, case_id)] == [
        "procedure-overdue-30",
        "procedure-overdue-45",
    ]


async def test_no_procedure_alert_when_decided_in_time_and_no_extension_after(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    case_id = "DB-PROCDUE00002"
    handle = await file_case(ts_stack, complete(sample), case_id, pack=MCA_2021)
    view = await at_stage(handle, Stage.SURVEY)
    await survey(handle, survey_of(view.application))
    await at_stage(handle, Stage.TOWNSHIP_REVIEW)
    await township(handle)
    await finish_posting(ts_stack, handle, Stage.POSTING_BEFORE_APPROVAL)
    await at_stage(handle, Stage.COUNTY_APPROVAL)
    await county_visit(handle)
    await decide(handle)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            CaseWorkflow.extend_deadline, ExtendDeadline("x1", COUNTY, REASON)
        )
    assert "decided" in str(err.value.cause)
    await ts_stack.env.sleep(timedelta(days=90))
    view = await handle.query(CaseWorkflow.state)
    assert view.procedure_overdue_since is None
    assert procedure_alerts(ts_stack, case_id) == []


async def test_seed_default_township_limit_counts_from_receipt_of_the_application(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    handle = await file_case(ts_stack, complete(sample), "DB-TOWNCLOCK001")
    view = await at_stage(handle, Stage.SURVEY)
    assert view.procedure_due_at is None  # seed-default sets no whole-procedure limit
    await survey(handle, survey_of(view.application))
    await at_stage(handle, Stage.EVALUATION)
    await evaluate(handle)
    await finish_posting(ts_stack, handle, Stage.POSTING_BEFORE_REVIEW)
    view = await at_stage(handle, Stage.TOWNSHIP_REVIEW)
    from_receipt = add_working_days(china_date(view.filed_at), 20).due_at
    from_stage = add_working_days(china_date(view.stage_entered_at), 20).due_at
    assert from_receipt != from_stage  # a week of posting lies between them
    assert view.due_at == from_receipt


async def test_refusal_notice_states_it_is_issued_within_the_limit(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    handle = await file_case(ts_stack, complete(sample), "DB-REFNOTICE001", pack=MCA_2021)
    view = await at_stage(handle, Stage.SURVEY)
    await survey(handle, survey_of(view.application))
    await at_stage(handle, Stage.TOWNSHIP_REVIEW)
    await township(handle, Opinion.REJECT)
    await at_stage(handle, Stage.COUNTY_APPROVAL)
    await county_visit(handle)
    view = await decide(handle, Opinion.REJECT, reasons=("家庭拥有机动车辆",))
    notice = view.notices[-1]
    assert notice.kind is NoticeKind.REFUSAL
    ((content, issued_at),) = ts_stack.sql(
        "SELECT content, issued_at FROM notices WHERE notice_id = %s", notice.notice_id
    )
    day = china_date(issued_at)
    stated = f"{day.year}年{day.month}月{day.day}日"
    assert f"本决定于{stated}作出" in content
    assert "3个工作日内书面告知" in content
    assert f"本通知于{stated}出具" in content
    # Issued with the decision: the day the case closed.
    assert china_date(view.stage_entered_at) == day
