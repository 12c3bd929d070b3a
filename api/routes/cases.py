"""/cases: file applications, read and list cases, caseworker actions."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response

from api import errors
from api.case_service import file_application, read_case
from api.deps import (
    AUTHENTICATED,
    CaseAccess,
    ClientDep,
    IdempotencyKey,
    ReadSessionDep,
    SessionsDep,
    SettingsDep,
    case_access,
    case_actor,
    require,
)
from api.examples import SAMPLE_APPLICATION
from api.fields import CaseId, Offset
from api.household_change import with_links
from api.paging import NEXT_HEADER, After, decode_after, decode_key, encode_after, encode_key
from api.responses import documented
from api.schemas import (
    ApplicationIn,
    AuditOut,
    CaseListOut,
    CaseOut,
    CaseSummaryOut,
    NoticeOut,
    OfferedActionOut,
    StageEventOut,
)
from dibao.db import audit_repo, cases_repo, notices_repo
from dibao.domain import access
from dibao.domain.access import Action
from dibao.domain.actions import CASE_ACTIONS, case_path
from dibao.domain.enums import CaseStatus, NoticeKind, Stage
from dibao.domain.offered import CaseFacts, offered_actions
from dibao.domain.spreadsheet import text_cell
from dibao.messages.case import Actor

router = APIRouter(
    prefix="/cases",
    tags=["cases"],
    dependencies=AUTHENTICATED,
    responses=documented(401, 403, 413, 422),
)

_DENIED = {
    "description": "the role may not do this, the case is outside the user's jurisdiction, or "
    "the user is a registered near relative of the household (recused)"
}

_CONFLICT = {"description": "wrong stage, closed case, or the household already has an open case"}
_INVALID = {"description": "invalid input: `detail` lists each field path and reason"}


@router.post(
    "",
    status_code=201,
    response_model=CaseOut,
    responses={
        201: {
            "description": "saved and its workflow started; the first notice follows from the "
            "worker: `notice_status` is 'pending' until it is listed at `notices_url`"
        },
        200: {"description": "same Idempotency-Key: the case it filed"},
        403: _DENIED,
        409: _CONFLICT,
    },
    summary="File an application (申请)",
)
async def create_case(
    response: Response,
    sessions: SessionsDep,
    client: ClientDep,
    settings: SettingsDep,
    actor: Annotated[Actor, Depends(require(Action.FILE_APPLICATION))],
    # Without a default: `= ...` would be taken as the body of a request sent without one.
    body: Annotated[ApplicationIn, Body(openapi_examples=SAMPLE_APPLICATION)],
    idempotency_key: IdempotencyKey = None,
) -> CaseOut:
    filed = await file_application(sessions, client, settings, body, actor, idempotency_key)
    if not filed.created:
        response.status_code = 200
    response.headers["Location"] = f"/cases/{filed.case.case_id}"
    return filed.case


@router.get(
    "",
    response_model=CaseListOut,
    responses={403: {"description": "a filter names a place outside the user's jurisdiction"}},
    summary="List the cases of the user's jurisdiction from the projection",
)
async def list_cases(
    session: ReadSessionDep,
    actor: Annotated[Actor, Depends(require(Action.READ_CASE))],
    stage: Stage | None = None,
    status: CaseStatus | None = None,
    county: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    township: Annotated[str | None, Query(pattern=r"^\d{9}$")] = None,
    village: Annotated[str | None, Query(pattern=r"^\d{12}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
    after: After = None,
) -> CaseListOut:
    scope = access.list_scope(actor.jurisdiction, county, township, village)
    if isinstance(scope, str):
        raise errors.forbidden(scope)
    key = decode_after(after) if after else None
    page = await cases_repo.list_cases(
        session,
        stage=stage,
        status=status,
        county=scope.county,
        township=scope.township,
        village=scope.village,
        limit=limit,
        offset=offset,
        after=key,
        visible_to=actor.id,
    )
    return CaseListOut(
        total=page.total,
        total_capped=page.total_capped,
        limit=limit,
        offset=offset,
        next=encode_after(*page.after) if page.after else None,
        items=[CaseSummaryOut.model_validate(r, from_attributes=True) for r in page.rows],
    )


@router.get(
    "/{case_id}",
    response_model=CaseOut,
    responses={403: _DENIED, **documented(404, r404="no case of that ID")},
    summary="The whole state of one case, and the actions the signed-in user may take on it",
)
async def get_case(
    case_id: CaseId,
    sessions: SessionsDep,
    client: ClientDep,
    who: Annotated[CaseAccess, Depends(case_access(Action.READ_CASE))],
) -> CaseOut:
    # The access check read the case row: the case exists.
    case = await read_case(sessions, client, case_id, row_read=True)
    facts = CaseFacts(
        stage=case.stage,
        status=case.status,
        county_code=who.place.county_code,
        township_code=who.place.township_code,
        village_code=who.place.village_code,
        recused_staff=who.place.recused_staff,
        materials_missing=bool(case.missing_materials),
        review_due=case.review_due,
        open_incidents=len(case.incidents),
        approval_delegated=who.place.approval_delegated,
    )
    offers = [
        OfferedActionOut(
            action=o.action.value,
            allowed=o.allowed,
            reason=o.reason,
            path=case_path(o.action, case_id) if o.action in CASE_ACTIONS else None,
        )
        for o in offered_actions(facts, who.actor)
    ]
    case = await with_links(sessions, case)  # 停旧建新, both ways
    return case.model_copy(update={"actions": offers})


AUDIT_COLUMNS = (
    "id",
    "case_id",
    "step_key",
    "action",
    "actor_id",
    "actor_role",
    "payload_sha256",
    "at",
    "recorded_at",
)


def _cell(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    # Rows from before authentication name actors as clients typed them; a spreadsheet opening
    # the export must not run one that starts like a formula.
    if isinstance(value, str):
        return text_cell(value)
    return value


@router.get(
    "/{case_id}/audit",
    response_model=list[AuditOut],
    responses={
        200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with ?format=csv"},
        403: _DENIED,
        **documented(404, r404="no case of that ID"),
    },
    dependencies=[Depends(case_actor(Action.READ_AUDIT))],
    summary="The case's audit log: every action, who did it (authenticated) and when",
)
async def get_audit(
    case_id: CaseId,
    response: Response,
    session: ReadSessionDep,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
    limit: Annotated[
        int | None, Query(ge=1, le=1000, description="a page of this many; default: all")
    ] = None,
    after: After = None,
) -> Any:
    after_id = decode_key(after, (int,))[0] if after else None
    # One row past the page: whether there is a next one.
    rows = await audit_repo.list_for_case(
        session, case_id, None if limit is None else limit + 1, after_id
    )
    next_page: dict[str, str] = {}
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
        # The body stays a list (as before cursors); the next page's cursor is a header.
        next_page[NEXT_HEADER] = encode_key(rows[-1].id)
    entries = [AuditOut.model_validate(r, from_attributes=True) for r in rows]
    if format == "json":
        response.headers.update(next_page)
        return entries
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(AUDIT_COLUMNS)
    for entry in entries:
        data = entry.model_dump()
        data["case_id"] = case_id
        writer.writerow([_cell(data[c]) for c in AUDIT_COLUMNS])
    return Response(
        content=out.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{case_id}.csv"',
            **next_page,
        },
    )


@router.get(
    "/{case_id}/stages",
    response_model=list[StageEventOut],
    responses={403: _DENIED, **documented(404, r404="no case of that ID")},
    dependencies=[Depends(case_actor(Action.READ_CASE))],
    summary="Stage history of the case",
)
async def get_stages(case_id: CaseId, session: ReadSessionDep) -> list[StageEventOut]:
    rows = await cases_repo.stage_events(session, case_id)
    return [StageEventOut.model_validate(r, from_attributes=True) for r in rows]


@router.get(
    "/{case_id}/notices",
    response_model=list[NoticeOut],
    responses={403: _DENIED, **documented(404, r404="no case of that ID")},
    dependencies=[Depends(case_actor(Action.READ_CASE))],
    summary="The case's notices as issued, oldest first (a filing's answer points here)",
)
async def get_notices(case_id: CaseId, session: ReadSessionDep) -> list[NoticeOut]:
    # From PostgreSQL only: polled right after filing, it must not wait on the case's worker.
    rows = await notices_repo.list_for_case(session, case_id)
    return [
        NoticeOut(
            notice_id=n.notice_id,
            kind=NoticeKind(n.kind),
            content_sha256=n.content_sha256,
            url=f"/notices/{n.notice_id}",
        )
        for n in rows
    ]
