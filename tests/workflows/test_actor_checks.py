"""The case workflow checks who acts, not only the API: an update sent straight to Temporal by
a role that may not take the step, or from outside the household's jurisdiction, is refused
and leaves no trace."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from dibao.domain import stages
from dibao.domain.access import ROLE_TABLE, Action
from dibao.domain.enums import CaseStatus, Role, Stage
from dibao.messages.case import Actor, SubmitSurvey, Withdraw
from tests.conftest import Stack
from tests.workflows.helpers import VILLAGE, at_stage, complete, file_case, state, survey_of
from workflows.case import CaseWorkflow

# Each update's roles in the workflow (the stage table's), next to the API's role table.
WORKFLOW_ROLES = {
    action: stages.roles_for(action)
    for action in (
        Action.PAYEE,
        Action.MATERIALS,
        Action.WITHDRAW,
        Action.TERMINATE,
        Action.SURVEY,
        Action.EVALUATION,
        Action.OBJECTION,
        Action.TOWNSHIP_REVIEW,
        Action.COUNTY_VISIT,
        Action.COUNTY_DECISION,
        Action.REVIEW,
        Action.SIGN_IN,
        Action.LABOUR_ABSENCE,
        Action.CIRCUMSTANCE,
        Action.HOUSEHOLD_CHANGE,
        Action.REEMPLOYMENT,
        Action.WORK_REFUSAL,
        Action.CHANGE_STANDARD,
        Action.OPERATE,
    )
}


@pytest.mark.parametrize("action", list(WORKFLOW_ROLES), ids=[a.value for a in WORKFLOW_ROLES])
def test_the_workflow_allows_each_step_to_the_roles_the_api_does(action: Action) -> None:
    assert WORKFLOW_ROLES[action] == ROLE_TABLE[action]
    assert not WORKFLOW_ROLES[action] & {Role.AUDITOR, Role.SUPERVISOR, Role.SYSTEM}


async def refused(handle: Any, update: Any, request: Any) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(update, request)
    assert isinstance(err.value.cause, ApplicationError)
    return err.value.cause


async def test_an_update_sent_straight_to_temporal_by_an_outsider_changes_nothing(
    ts_stack: Stack, sample: dict[str, Any]
) -> None:
    handle = await file_case(ts_stack, complete(sample), "DB-OUTSIDER0001")
    view = await at_stage(handle, Stage.SURVEY)

    mallory = Actor(id="mallory", role=Role.AUDITOR, jurisdiction="999999")
    cause = await refused(
        handle, CaseWorkflow.withdraw, Withdraw(request_id="m1", actor=mallory, reason="撤回")
    )
    assert cause.type == "Recused" and "auditor" in cause.message
    # The right role, but another county's: refused too.
    elsewhere = Actor(id="mallory", role=Role.VILLAGE_CASEWORKER, jurisdiction="999999000000")
    cause = await refused(
        handle, CaseWorkflow.withdraw, Withdraw(request_id="m2", actor=elsewhere, reason="撤回")
    )
    assert cause.type == "Recused" and "outside your jurisdiction" in cause.message
    # A neighbouring village of the same township is outside the village caseworker's reach.
    neighbour = Actor(id="qian.hua", role=Role.VILLAGE_CASEWORKER, jurisdiction="610423100202")
    cause = await refused(
        handle,
        CaseWorkflow.submit_survey,
        SubmitSurvey(request_id="m3", actor=neighbour, report=survey_of(view.application)),
    )
    assert cause.type == "Recused"
    # No actor at all (as in histories from before sign-in) acts on no case.
    nobody = Actor(id="zhang.wei", role=Role.VILLAGE_CASEWORKER)
    cause = await refused(
        handle, CaseWorkflow.withdraw, Withdraw(request_id="m4", actor=nobody, reason="撤回")
    )
    assert cause.type == "Recused"

    view = await state(handle)
    assert view.status is CaseStatus.IN_PROGRESS and view.stage is Stage.SURVEY
    actors = [r[0] for r in ts_stack.sql("SELECT actor_id FROM audit_log")]
    assert actors == [VILLAGE.id]  # only the filing
