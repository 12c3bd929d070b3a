"""A recusal signalled to a running case holds at once and across review cycles: the recused
staff member may not act, nor be named as an investigator of a (re-review) survey."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError

from dibao.domain.enums import Role
from dibao.messages.case import Actor, RecuseStaff, ReportSignIn, SubmitSurvey
from tests.conftest import Stack
from tests.workflows.helpers import VILLAGE, state, survey_of, wait_for
from tests.workflows.test_recipient import approved_case
from workflows.case import CaseWorkflow

ZHAO = Actor(id="zhao.min", role=Role.VILLAGE_CASEWORKER, jurisdiction="610423100201")


async def test_recusal_of_a_recipient_household_holds_at_once_and_after_continue_as_new(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    handle = await approved_case(ts_stack, sample, "DB-RECUSE000001")
    await handle.signal(CaseWorkflow.recuse, RecuseStaff(staff_ids=("zhao.min",)))
    view = await wait_for(handle, lambda v: v.procedure.recused_staff == ("zhao.min",))
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            CaseWorkflow.report_sign_in,
            ReportSignIn(request_id="s1", actor=ZHAO, month="2026-01", done=True),
        )
    assert "near relative" in str(err.value.cause)

    await ts_stack.env.sleep(timedelta(days=370))
    view = await wait_for(handle, lambda v: v.review_due, "review due")
    # survey_of names zhang.wei and zhao.min as the investigators.
    report = survey_of(view.application)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            CaseWorkflow.submit_review, SubmitSurvey(request_id="r1", actor=VILLAGE, report=report)
        )
    assert "investigator zhao.min" in str(err.value.cause)
    report = dataclasses.replace(report, investigators=("zhang.wei", "qian.li"))
    await handle.execute_update(
        CaseWorkflow.submit_review, SubmitSurvey(request_id="r2", actor=VILLAGE, report=report)
    )
    view = await wait_for(handle, lambda v: v.recipient is not None and v.recipient.cycle == 2)
    handle = ts_stack.client.get_workflow_handle(handle.id)
    view = await state(handle)
    assert view.procedure.recused_staff == ("zhao.min",)  # carried into the new run
