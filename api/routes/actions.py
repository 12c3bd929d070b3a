"""Caseworker actions, one endpoint each, all alike: a workflow update whose validator decides.

409 for the wrong stage or a closed case, 422 for invalid input, 403 for a recused or
unauthorised actor; a repeat with the same Idempotency-Key has no second effect.
"""

# No `from __future__ import annotations` here: FastAPI reads the body type of each generated
# endpoint from its annotation at runtime.

import uuid
from collections.abc import Callable
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.case_service import QueuedOut, ensure_workflow, run_update
from api.deps import (
    AUTHENTICATED,
    CaseAccess,
    ClientDep,
    IdempotencyKey,
    SessionsDep,
    SettingsDep,
    case_access,
)
from api.evidence_schemas import EvidenceIn
from api.fields import CaseId
from api.ops_schemas import CloseCaseIn, RetryStepIn, SkipStepIn
from api.procedure_schemas import (
    CircumstanceIn,
    CountyDecisionIn,
    CountyVisitIn,
    EvaluationIn,
    ExtendDeadlineIn,
    LabourAbsenceIn,
    ObjectionIn,
    ReemploymentIn,
    ReviewIn,
    SignInIn,
    SurveyIn,
    TerminateIn,
    TownshipReviewIn,
    WorkRefusalIn,
)
from api.responses import documented
from api.schemas import CaseOut, PayeeChangeIn, SupplementIn, WithdrawIn
from dibao.db import procedure_repo
from dibao.db.procedure_models import ObjectionRow
from dibao.domain.access import Action
from dibao.domain.actions import case_path, segment
from dibao.domain.enums import CaseStatus
from dibao.messages.case import Actor, RaiseObjection
from workflows.case import CaseWorkflow

router = APIRouter(
    tags=["actions"], dependencies=AUTHENTICATED, responses=documented(401, 403, 404, 409, 413, 422)
)

RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "model": QueuedOut,
        "description": "no worker took the action up within a few seconds: Temporal keeps it "
        "and applies it once when a worker is back; repeating it with the same "
        "Idempotency-Key is safe and answers its outcome",
    },
    403: {
        "description": "the role may not do this, the case is outside the user's jurisdiction, "
        "or the user is recused (registered near relative of the household)"
    },
    409: {"description": "the case is not at the stage this action belongs to, or is closed"},
    422: {"description": "invalid input: `detail` lists each field path and reason"},
}


class ActionBody(Protocol):
    def to_message(self, request_id: str, actor: Actor) -> Any: ...


async def act(
    sessions: Any,
    client: Any,
    settings: Any,
    case_id: str,
    update: Any,
    key: str | None,
    make: Callable[[str], Any],
    prefix: str,
    case: CaseAccess,
) -> CaseOut | JSONResponse:
    # The case row was read once, by the access check: only a case still as filed may lack
    # its workflow (a crash between saving and starting it).
    if case.status == CaseStatus.FILED.value:
        await ensure_workflow(sessions, client, settings, case_id)
    request_id = key or str(uuid.uuid4())
    update_id = f"{prefix}-{request_id}"
    return await run_update(
        sessions,
        client,
        settings,
        case_id,
        update,
        make(request_id),
        update_id,
        request_id,
        county_code=case.place.county_code,
    )


# Each action's key and the workflow update it sends (registered under that key): what
# tests/domain/test_action_keys.py holds to one key per action.
SENDS: dict[str, Any] = {}


def action(
    kind: Action, body_type: type[BaseModel], update: Any, summary: str, key: str = ""
) -> None:
    """Register POST /cases/{case_id}/<key> sending `update` with the body's message, for the
    roles the role table gives `kind`. The key is `kind`'s own, but for ops' actions, whose
    role-table action (OPERATE) covers several."""
    key = key or kind.value
    SENDS[key] = update
    prefix = segment(key)

    async def endpoint(
        case_id: CaseId,
        body: body_type,  # type: ignore[valid-type]
        sessions: SessionsDep,
        client: ClientDep,
        settings: SettingsDep,
        case: Annotated[CaseAccess, Depends(case_access(kind))],
        idempotency_key: IdempotencyKey = None,
    ) -> CaseOut | JSONResponse:
        message: ActionBody = body
        return await act(
            sessions,
            client,
            settings,
            case_id,
            update,
            idempotency_key,
            lambda rid: message.to_message(rid, case.actor),
            prefix,
            case,
        )

    endpoint.__name__ = key
    router.post(case_path(key), response_model=CaseOut, responses=RESPONSES, summary=summary)(
        endpoint
    )


action(
    Action.PAYEE,
    PayeeChangeIn,
    CaseWorkflow.change_payee,
    "Record or change the account the benefit is paid into (代发账户)",
)
action(
    Action.OPERATE,
    RetryStepIn,
    CaseWorkflow.retry_step,
    "Ops: run a failed step again, optionally with corrected input (运维重试)",
    key="retry_step",
)
action(
    Action.OPERATE,
    SkipStepIn,
    CaseWorkflow.skip_step,
    "Ops: go on without a failed step that the case can do without, with a reason (运维跳过)",
    key="skip_step",
)
action(
    Action.OPERATE,
    CloseCaseIn,
    CaseWorkflow.close_case,
    "Ops: close the case at a failed step that can neither be corrected nor skipped; the "
    "household gets a termination notice with the reason (运维结案)",
    key="close_case",
)
action(
    Action.MATERIALS,
    SupplementIn,
    CaseWorkflow.supplement_materials,
    "Supplement missing materials (补齐材料)",
)
action(
    Action.WITHDRAW,
    WithdrawIn,
    CaseWorkflow.withdraw,
    "Withdraw at the applicant's request (撤回)",
)
action(
    Action.SURVEY,
    SurveyIn,
    CaseWorkflow.submit_survey,
    "Submit the household survey (入户调查)",
)
action(
    Action.EVIDENCE,
    EvidenceIn,
    CaseWorkflow.submit_evidence,
    "Record the family's evidence on a failed check (核对异议举证, mca-2021 Art. 18): the case "
    "waits for it at stage `evidence` until its due date, then goes on with the verified figures",
)
action(
    Action.EVALUATION,
    EvaluationIn,
    CaseWorkflow.submit_evaluation,
    "Record the democratic evaluation (民主评议)",
)
action(
    Action.TOWNSHIP_REVIEW,
    TownshipReviewIn,
    CaseWorkflow.submit_township_review,
    "Give the township review opinion (乡镇审核)",
)
action(
    Action.COUNTY_VISIT,
    CountyVisitIn,
    CaseWorkflow.submit_county_visit,
    "Record the county's own home visit (县级入户核查)",
)
action(
    Action.COUNTY_DECISION,
    CountyDecisionIn,
    CaseWorkflow.submit_county_decision,
    "Approve or refuse (县级审批)",
)
action(
    Action.EXTEND_DEADLINE,
    ExtendDeadlineIn,
    CaseWorkflow.extend_deadline,
    "Extend the whole procedure's time limit once, with the reason (mca-2021 Art. 22: to 45 "
    "working days in special cases)",
)
action(
    Action.REVIEW,
    ReviewIn,
    CaseWorkflow.submit_review,
    "Submit the re-review survey of a recipient household (复核)",
)
action(
    Action.SIGN_IN,
    SignInIn,
    CaseWorkflow.report_sign_in,
    "Record a monthly sign-in, done or missed (签到); two missed in a row stop payment",
)
action(
    Action.LABOUR_ABSENCE,
    LabourAbsenceIn,
    CaseWorkflow.report_labour_absence,
    "Record an absence from public-benefit labour (公益劳动); two unjustified suspend 3 months",
)
action(
    Action.CIRCUMSTANCE,
    CircumstanceIn,
    CaseWorkflow.report_circumstance,
    "Report a change of circumstances: death or moving away stops payment, others re-review",
)
action(
    Action.REEMPLOYMENT,
    ReemploymentIn,
    CaseWorkflow.report_reemployment,
    "Report that a member found work: 渐退, the wage is not counted for the pack's months",
)
action(
    Action.WORK_REFUSAL,
    WorkRefusalIn,
    CaseWorkflow.report_work_refusal,
    "Record a refusal of suitable work (mca-2021 Art. 34: 3 unjustified stop the member's portion)",
)
action(
    Action.TERMINATE,
    TerminateIn,
    CaseWorkflow.terminate,
    "Terminate the procedure, e.g. for non-cooperation (终止办理)",
)
SENDS[Action.OBJECTION.value] = CaseWorkflow.raise_objection


@router.post(
    case_path(Action.OBJECTION),
    response_model=CaseOut,
    responses=RESPONSES,
    summary="Record an objection raised during a public posting (公示异议)",
)
async def raise_objection(
    case_id: CaseId,
    body: ObjectionIn,
    sessions: SessionsDep,
    client: ClientDep,
    settings: SettingsDep,
    case: Annotated[CaseAccess, Depends(case_access(Action.OBJECTION))],
    idempotency_key: IdempotencyKey = None,
) -> CaseOut | JSONResponse:
    actor = case.actor
    # The objector's identity and contact go to PostgreSQL only, never into the workflow
    # history, whose payloads are stored wherever Temporal stores them.
    async with sessions() as session:
        objection_id = "O-" + uuid.uuid4().hex[:20]
        await procedure_repo.add_objection(
            session,
            ObjectionRow(
                objection_id=objection_id,
                case_id=case_id,
                summary=body.summary,
                objector_name=body.objector_name,
                objector_contact=body.objector_contact,
                received_by=actor.id,
            ),
        )
    try:
        return await act(
            sessions,
            client,
            settings,
            case_id,
            CaseWorkflow.raise_objection,
            idempotency_key,
            lambda rid: RaiseObjection(
                request_id=rid, actor=actor, objection_id=objection_id, summary=body.summary
            ),
            segment(Action.OBJECTION),
            case,
        )
    except Exception:
        # The workflow refused it (not in a posting): it never took effect. (A queued objection,
        # 202, keeps its row: the case records it when a worker is back.)
        async with sessions() as session:
            await procedure_repo.remove_objection(session, objection_id)
        raise
