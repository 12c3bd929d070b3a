"""Caseworker actions of the procedure, one endpoint each. Every one is a workflow update:
409 for the wrong stage, 422 for invalid input, 403 for a recused or unauthorised actor; a
repeat with the same Idempotency-Key has no second effect."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse

from api import errors
from api.case_service import ensure_workflow, run_update
from api.deps import ActorDep, ClientDep, IdempotencyKey, SessionDep, SessionsDep, SettingsDep
from api.procedure_schemas import (
    CountyDecisionIn,
    CountyVisitIn,
    EvaluationIn,
    ObjectionIn,
    StaffRelativeIn,
    SurveyIn,
    TerminateIn,
    TownshipReviewIn,
)
from api.schemas import CaseOut, to_yuan
from dibao.db import cases_repo, procedure_repo
from dibao.db.procedure_models import ObjectionRow, StaffRelativeRow
from dibao.domain.application import validate_id_number
from dibao.domain.calendar import china_date
from dibao.domain.case import RaiseObjection, Terminate
from dibao.notices.render import POSTING_TITLES, render_page
from workflows.case import CaseWorkflow

router = APIRouter(tags=["procedure"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "the actor is recused (near relative) or the role may not do this"},
    409: {"description": "the case is not at the stage this action belongs to, or is closed"},
    422: {"description": "invalid input: `detail` lists each field path and reason"},
}


async def _act(
    sessions: Any,
    client: Any,
    settings: Any,
    case_id: str,
    update: Any,
    key: str | None,
    make: Callable[[str], Any],
    prefix: str,
) -> CaseOut:
    await ensure_workflow(sessions, client, settings, case_id)
    request_id = key or str(uuid.uuid4())
    return await run_update(
        sessions, client, case_id, update, make(request_id), f"{prefix}-{request_id}"
    )


@router.post(
    "/cases/{case_id}/survey",
    response_model=CaseOut,
    responses=_RESPONSES,
    summary="Submit the household survey (入户调查)",
)
async def submit_survey(
    case_id: str,
    body: SurveyIn,
    sessions: SessionsDep,
    client: ClientDep,
    settings: SettingsDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> CaseOut:
    return await _act(
        sessions,
        client,
        settings,
        case_id,
        CaseWorkflow.submit_survey,
        idempotency_key,
        lambda rid: body.to_message(rid, actor),
        "survey",
    )


@router.post(
    "/cases/{case_id}/evaluation",
    response_model=CaseOut,
    responses=_RESPONSES,
    summary="Record the democratic evaluation (民主评议)",
)
async def submit_evaluation(
    case_id: str,
    body: EvaluationIn,
    sessions: SessionsDep,
    client: ClientDep,
    settings: SettingsDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> CaseOut:
    return await _act(
        sessions,
        client,
        settings,
        case_id,
        CaseWorkflow.submit_evaluation,
        idempotency_key,
        lambda rid: body.to_message(rid, actor),
        "evaluation",
    )


@router.post(
    "/cases/{case_id}/objections",
    response_model=CaseOut,
    responses=_RESPONSES,
    summary="Record an objection raised during a public posting (公示异议)",
)
async def raise_objection(
    case_id: str,
    body: ObjectionIn,
    sessions: SessionsDep,
    client: ClientDep,
    settings: SettingsDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> CaseOut:
    # The objector's identity and contact go to PostgreSQL only, never into the workflow
    # history, whose payloads are stored wherever Temporal stores them.
    async with sessions() as session:
        if await cases_repo.get_case(session, case_id) is None:
            raise errors.not_found(f"case {case_id}")
    objection_id = "O-" + uuid.uuid4().hex[:20]
    async with sessions() as session:
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
        return await _act(
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
        )
    except Exception:
        async with sessions() as session:
            await procedure_repo.remove_objection(session, objection_id)
        raise


@router.post(
    "/cases/{case_id}/township-review",
    response_model=CaseOut,
    responses=_RESPONSES,
    summary="Give the township review opinion (乡镇审核)",
)
async def submit_township_review(
    case_id: str,
    body: TownshipReviewIn,
    sessions: SessionsDep,
    client: ClientDep,
    settings: SettingsDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> CaseOut:
    return await _act(
        sessions,
        client,
        settings,
        case_id,
        CaseWorkflow.submit_township_review,
        idempotency_key,
        lambda rid: body.to_message(rid, actor),
        "township",
    )


@router.post(
    "/cases/{case_id}/county-visit",
    response_model=CaseOut,
    responses=_RESPONSES,
    summary="Record the county's own home visit (县级入户核查)",
)
async def submit_county_visit(
    case_id: str,
    body: CountyVisitIn,
    sessions: SessionsDep,
    client: ClientDep,
    settings: SettingsDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> CaseOut:
    return await _act(
        sessions,
        client,
        settings,
        case_id,
        CaseWorkflow.submit_county_visit,
        idempotency_key,
        lambda rid: body.to_message(rid, actor),
        "visit",
    )


@router.post(
    "/cases/{case_id}/county-decision",
    response_model=CaseOut,
    responses=_RESPONSES,
    summary="Approve or refuse (县级审批)",
)
async def submit_county_decision(
    case_id: str,
    body: CountyDecisionIn,
    sessions: SessionsDep,
    client: ClientDep,
    settings: SettingsDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> CaseOut:
    return await _act(
        sessions,
        client,
        settings,
        case_id,
        CaseWorkflow.submit_county_decision,
        idempotency_key,
        lambda rid: body.to_message(rid, actor),
        "decision",
    )


@router.post(
    "/cases/{case_id}/terminate",
    response_model=CaseOut,
    responses=_RESPONSES,
    summary="Terminate the procedure, e.g. for non-cooperation (终止办理)",
)
async def terminate(
    case_id: str,
    body: TerminateIn,
    sessions: SessionsDep,
    client: ClientDep,
    settings: SettingsDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> CaseOut:
    return await _act(
        sessions,
        client,
        settings,
        case_id,
        CaseWorkflow.terminate,
        idempotency_key,
        lambda rid: Terminate(request_id=rid, actor=actor, reason=body.reason),
        "terminate",
    )


@router.get(
    "/postings",
    response_class=HTMLResponse,
    tags=["postings"],
    summary="The village's posting board (公示栏): what is being posted now",
)
async def postings(
    session: SessionDep,
    settings: SettingsDep,
    village: str = Query(pattern=r"^\d{12}$", description="12-digit village code"),
    format: str = Query(default="html", pattern="^(html|json)$"),
) -> Any:
    now = datetime.now(UTC)
    rows = await procedure_repo.open_postings_in_village(session, village, now)
    # Only what DOMAIN.md allows on a posting: head's name, household size, category, amount.
    items = [
        {
            "stage": r.stage,
            "title": POSTING_TITLES[r.stage],
            "head_name": r.head_name,
            "household_size": r.household_size,
            "category": r.category,
            "amount": str(to_yuan(r.monthly_amount_fen)),
            "opens_at": r.opens_at,
            "closes_at": r.closes_at,
        }
        for r in rows
    ]
    if format == "json":
        return JSONResponse({"village": village, "items": jsonable_encoder(items)})
    groups = []
    for stage, title in POSTING_TITLES.items():
        group_rows = [i for i in items if i["stage"] == stage]
        if group_rows:
            groups.append({"title": title, "rows": group_rows})
    page = render_page(
        settings.templates_dir,
        "postings/village.html.j2",
        {
            "village_code": village,
            "today": now,
            "groups": groups,
            "complaint_phone": settings.complaint_phone,
        },
    )
    return HTMLResponse(page)


@router.post(
    "/staff/{staff_id}/relatives",
    status_code=201,
    tags=["integrity"],
    summary="Register a close relative of a staff member or village cadre (近亲属备案)",
)
async def register_relative(
    staff_id: str,
    body: StaffRelativeIn,
    session: SessionDep,
    actor: ActorDep,
) -> dict[str, Any]:
    reason = validate_id_number(body.relative_id_number.upper(), china_date(datetime.now(UTC)))
    if reason:
        raise errors.unprocessable_header_or_body("relative_id_number", reason)
    row = await procedure_repo.register_relative(
        session,
        StaffRelativeRow(
            staff_id=staff_id,
            staff_role=body.staff_role,
            relative_name=body.relative_name,
            relative_id_number=body.relative_id_number.upper(),
            relation=body.relation,
            registered_by=actor.id,
        ),
    )
    return {
        "id": row.id,
        "staff_id": row.staff_id,
        "relative_name": row.relative_name,
        "relation": row.relation,
        "registered_at": row.registered_at.isoformat(),
    }


@router.get(
    "/staff/{staff_id}/relatives",
    tags=["integrity"],
    summary="A staff member's registered relatives",
)
async def list_relatives(staff_id: str, session: SessionDep) -> list[dict[str, Any]]:
    rows = await procedure_repo.relatives_of(session, staff_id)
    # The relative's ID number is masked: the registry is for matching, not for reading.
    return [
        {
            "id": r.id,
            "relative_name": r.relative_name,
            "relation": r.relation,
            "relative_id_number": r.relative_id_number[:6] + "********" + r.relative_id_number[-4:],
            "registered_by": r.registered_by,
            "registered_at": r.registered_at.isoformat(),
        }
        for r in rows
    ]
