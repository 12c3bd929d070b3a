"""/cases: file applications, read and list cases, caseworker actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from api import errors
from api.case_service import file_application, read_case
from api.deps import ActorDep, ClientDep, IdempotencyKey, SessionDep, SessionsDep, SettingsDep
from api.examples import SAMPLE_APPLICATION
from api.schemas import (
    ApplicationIn,
    AuditOut,
    CaseListOut,
    CaseOut,
    CaseSummaryOut,
    StageEventOut,
)
from dibao.db import audit_repo, cases_repo
from dibao.domain.enums import CaseStatus, Stage

router = APIRouter(prefix="/cases", tags=["cases"])

_CONFLICT = {"description": "wrong stage, closed case, or the household already has an open case"}
_INVALID = {"description": "invalid input: `detail` lists each field path and reason"}


@router.post(
    "",
    status_code=201,
    response_model=CaseOut,
    responses={200: {"description": "same Idempotency-Key: the case it filed"}, 409: _CONFLICT},
    summary="File an application (申请)",
)
async def create_case(
    response: Response,
    sessions: SessionsDep,
    client: ClientDep,
    settings: SettingsDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
    body: Annotated[ApplicationIn, Body(openapi_examples=SAMPLE_APPLICATION)] = ...,  # type: ignore[assignment]
) -> CaseOut:
    filed = await file_application(sessions, client, settings, body, actor, idempotency_key)
    if not filed.created:
        response.status_code = 200
    response.headers["Location"] = f"/cases/{filed.case.case_id}"
    return filed.case


@router.get("", response_model=CaseListOut, summary="List cases from the projection")
async def list_cases(
    session: SessionDep,
    stage: Stage | None = None,
    status: CaseStatus | None = None,
    county: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    township: Annotated[str | None, Query(pattern=r"^\d{9}$")] = None,
    village: Annotated[str | None, Query(pattern=r"^\d{12}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CaseListOut:
    rows, total = await cases_repo.list_cases(
        session,
        stage=stage,
        status=status,
        county=county,
        township=township,
        village=village,
        limit=limit,
        offset=offset,
    )
    return CaseListOut(
        total=total,
        limit=limit,
        offset=offset,
        items=[CaseSummaryOut.model_validate(r, from_attributes=True) for r in rows],
    )


@router.get("/{case_id}", response_model=CaseOut, summary="The whole state of one case")
async def get_case(case_id: str, sessions: SessionsDep, client: ClientDep) -> CaseOut:
    return await read_case(sessions, client, case_id)


@router.get("/{case_id}/audit", response_model=list[AuditOut], summary="The case's audit log")
async def get_audit(case_id: str, session: SessionDep) -> list[AuditOut]:
    if await cases_repo.get_case(session, case_id) is None:
        raise errors.not_found(f"case {case_id}")
    rows = await audit_repo.list_for_case(session, case_id)
    return [AuditOut.model_validate(r, from_attributes=True) for r in rows]


@router.get(
    "/{case_id}/stages", response_model=list[StageEventOut], summary="Stage history of the case"
)
async def get_stages(case_id: str, session: SessionDep) -> list[StageEventOut]:
    if await cases_repo.get_case(session, case_id) is None:
        raise errors.not_found(f"case {case_id}")
    rows = await cases_repo.stage_events(session, case_id)
    return [StageEventOut.model_validate(r, from_attributes=True) for r in rows]
