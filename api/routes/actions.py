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


def action(path: str, body_type: type[BaseModel], update: Any, kind: Action, summary: str) -> None:
    """Register POST /cases/{case_id}/<path> sending `update` with the body's message, for the
    roles the role table gives `kind`."""

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
            path,
            case,
        )

    endpoint.__name__ = path.replace("-", "_")
    router.post(
        f"/cases/{{case_id}}/{path}", response_model=CaseOut, responses=RESPONSES, summary=summary
    )(endpoint)


action(
    "payee",
    PayeeChangeIn,
    CaseWorkflow.change_payee,
    Action.CHANGE_PAYEE,
    "Record or change the account the benefit is paid into (代发账户)",
)
action(
    "retry-step",
    RetryStepIn,
    CaseWorkflow.retry_step,
    Action.OPERATE,
    "Ops: run a failed step again, optionally with corrected input (运维重试)",
)
action(
    "skip-step",
    SkipStepIn,
    CaseWorkflow.skip_step,
    Action.OPERATE,
    "Ops: go on without a failed step that the case can do without, with a reason (运维跳过)",
)
action(
    "close-case",
    CloseCaseIn,
    CaseWorkflow.close_case,
    Action.OPERATE,
    "Ops: close the case at a failed step that can neither be corrected nor skipped; the "
    "household gets a termination notice with the reason (运维结案)",
)
action(
    "materials",
    SupplementIn,
    CaseWorkflow.supplement_materials,
    Action.SUPPLEMENT_MATERIALS,
    "Supplement missing materials (补齐材料)",
)
action(
    "withdraw",
    WithdrawIn,
    CaseWorkflow.withdraw,
    Action.WITHDRAW,
    "Withdraw at the applicant's request (撤回)",
)
action(
    "survey",
    SurveyIn,
    CaseWorkflow.submit_survey,
    Action.SUBMIT_SURVEY,
    "Submit the household survey (入户调查)",
)
action(
    "evidence",
    EvidenceIn,
    CaseWorkflow.submit_evidence,
    Action.SUBMIT_EVIDENCE,
    "Record the family's evidence on a failed check (核对异议举证, mca-2021 Art. 18): the case "
    "waits for it at stage `evidence` until its due date, then goes on with the verified figures",
)
action(
    "evaluation",
    EvaluationIn,
    CaseWorkflow.submit_evaluation,
    Action.SUBMIT_EVALUATION,
    "Record the democratic evaluation (民主评议)",
)
action(
    "township-review",
    TownshipReviewIn,
    CaseWorkflow.submit_township_review,
    Action.TOWNSHIP_REVIEW,
    "Give the township review opinion (乡镇审核)",
)
action(
    "county-visit",
    CountyVisitIn,
    CaseWorkflow.submit_county_visit,
    Action.COUNTY_VISIT,
    "Record the county's own home visit (县级入户核查)",
)
action(
    "county-decision",
    CountyDecisionIn,
    CaseWorkflow.submit_county_decision,
    Action.COUNTY_DECISION,
    "Approve or refuse (县级审批)",
)
action(
    "extend-deadline",
    ExtendDeadlineIn,
    CaseWorkflow.extend_deadline,
    Action.EXTEND_DEADLINE,
    "Extend the whole procedure's time limit once, with the reason (mca-2021 Art. 22: to 45 "
    "working days in special cases)",
)
action(
    "review",
    ReviewIn,
    CaseWorkflow.submit_review,
    Action.SUBMIT_REVIEW,
    "Submit the re-review survey of a recipient household (复核)",
)
action(
    "sign-ins",
    SignInIn,
    CaseWorkflow.report_sign_in,
    Action.REPORT_RECIPIENT,
    "Record a monthly sign-in, done or missed (签到); two missed in a row stop payment",
)
action(
    "labour-absences",
    LabourAbsenceIn,
    CaseWorkflow.report_labour_absence,
    Action.REPORT_RECIPIENT,
    "Record an absence from public-benefit labour (公益劳动); two unjustified suspend 3 months",
)
action(
    "circumstances",
    CircumstanceIn,
    CaseWorkflow.report_circumstance,
    Action.REPORT_RECIPIENT,
    "Report a change of circumstances: death or moving away stops payment, others re-review",
)
action(
    "reemployment",
    ReemploymentIn,
    CaseWorkflow.report_reemployment,
    Action.REPORT_RECIPIENT,
    "Report that a member found work: 渐退, the wage is not counted for the pack's months",
)
action(
    "work-refusals",
    WorkRefusalIn,
    CaseWorkflow.report_work_refusal,
    Action.REPORT_RECIPIENT,
    "Record a refusal of suitable work (mca-2021 Art. 34: 3 unjustified stop the member's portion)",
)
action(
    "terminate",
    TerminateIn,
    CaseWorkflow.terminate,
    Action.TERMINATE,
    "Terminate the procedure, e.g. for non-cooperation (终止办理)",
)


@router.post(
    "/cases/{case_id}/objections",
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
    case: Annotated[CaseAccess, Depends(case_access(Action.RAISE_OBJECTION))],
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
            "objection",
            case,
        )
    except Exception:
        # The workflow refused it (not in a posting): it never took effect. (A queued objection,
        # 202, keeps its row: the case records it when a worker is back.)
        async with sessions() as session:
            await procedure_repo.remove_objection(session, objection_id)
        raise
