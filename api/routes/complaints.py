"""Complaints and reports (举报、投诉、信访; mca-2021 Arts. 36–37; 000 篇3, 003): recorded,
assigned to the township or county, investigated within the pack's working days, answered in
writing; a founded complaint can start a re-review or a stop of its case.

The complainant's name and contact are shown only to township and county staff, who answer the
reporter (Art. 37); supervisors and auditors read complaints without them; village caseworkers
not at all."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import HTMLResponse, JSONResponse

from api import complaint_service as service
from api.complaint_schemas import (
    AnswerIn,
    AssignIn,
    CloseIn,
    ComplaintIn,
    ComplaintOut,
    ComplaintPageOut,
    InvestigationIn,
)
from api.deps import (
    AUTHENTICATED,
    ActorDep,
    ClientDep,
    IdempotencyKey,
    ReadSessionDep,
    SessionsDep,
    SettingsDep,
)
from api.paging import After, decode_after, encode_after
from api.responses import documented
from dibao.domain.complaints import ComplaintStatus

router = APIRouter(
    tags=["complaints"], dependencies=AUTHENTICATED, responses=documented(401, 403, 404, 409, 422)
)

ComplaintId = Annotated[
    str,
    Path(
        min_length=3, max_length=24, pattern=r"^C-[0-9A-F]+$", examples=["C-0123456789ABCDEF0123"]
    ),
]


@router.post(
    "/complaints",
    response_model=ComplaintOut,
    status_code=201,
    responses={
        200: {
            "model": ComplaintOut,
            "description": "a repeat with the same Idempotency-Key: the complaint it recorded",
        }
    },
    summary="Record a complaint or report (举报、投诉) taken on the hotline, by letter or visit",
)
async def record(
    body: ComplaintIn,
    sessions: SessionsDep,
    settings: SettingsDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    out, created = await service.record(sessions, settings, actor, body, idempotency_key)
    return JSONResponse(status_code=201 if created else 200, content=out.model_dump(mode="json"))


@router.get(
    "/complaints",
    response_model=ComplaintPageOut,
    summary="Complaints in the user's jurisdiction, newest first; overdue=true: past due, open",
)
async def list_complaints(
    session: ReadSessionDep,
    actor: ActorDep,
    status: ComplaintStatus | None = None,
    overdue: bool = False,
    case_id: Annotated[str | None, Query(max_length=32, pattern=r"^[A-Za-z0-9-]+$")] = None,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ComplaintPageOut:
    key = decode_after(after) if after else None
    items, next_key = await service.list_page_in(
        session, actor, status=status, overdue=overdue, case_id=case_id, after=key, limit=limit
    )
    return ComplaintPageOut(
        items=items, next=encode_after(*next_key) if next_key is not None else None
    )


@router.get("/complaints/{complaint_id}", response_model=ComplaintOut, summary="One complaint")
async def show(complaint_id: ComplaintId, sessions: SessionsDep, actor: ActorDep) -> ComplaintOut:
    return await service.read(sessions, actor, complaint_id)


@router.get(
    "/complaints/{complaint_id}/answer",
    response_class=HTMLResponse,
    summary="The written answer as issued (names the reporter: handlers only)",
)
async def answer_document(
    complaint_id: ComplaintId, sessions: SessionsDep, actor: ActorDep
) -> Response:
    content = await service.answer_document(sessions, actor, complaint_id)
    return HTMLResponse(content)


@router.post(
    "/complaints/{complaint_id}/assign",
    response_model=ComplaintOut,
    summary="Assign to the township or the county for investigation",
)
async def assign(
    complaint_id: ComplaintId,
    body: AssignIn,
    sessions: SessionsDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> ComplaintOut:
    return await service.assign(sessions, actor, complaint_id, body, idempotency_key)


@router.post(
    "/complaints/{complaint_id}/investigation",
    response_model=ComplaintOut,
    summary="Record the investigation: founded or not; a founded one may re-review or stop",
)
async def investigate(
    complaint_id: ComplaintId,
    body: InvestigationIn,
    sessions: SessionsDep,
    client: ClientDep,
    settings: SettingsDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> ComplaintOut:
    return await service.investigate(
        sessions, client, settings, actor, complaint_id, body, idempotency_key
    )


@router.post(
    "/complaints/{complaint_id}/answer",
    response_model=ComplaintOut,
    summary="Answer in writing (Art. 37: the real-name reporter is told the result)",
)
async def answer(
    complaint_id: ComplaintId,
    body: AnswerIn,
    sessions: SessionsDep,
    settings: SettingsDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> ComplaintOut:
    return await service.answer(sessions, settings, actor, complaint_id, body, idempotency_key)


@router.post(
    "/complaints/{complaint_id}/close",
    response_model=ComplaintOut,
    summary="Close (办结): a real-name report only once answered",
)
async def close(
    complaint_id: ComplaintId,
    body: CloseIn,
    sessions: SessionsDep,
    actor: ActorDep,
    idempotency_key: IdempotencyKey = None,
) -> ComplaintOut:
    return await service.close(sessions, actor, complaint_id, body, idempotency_key)
