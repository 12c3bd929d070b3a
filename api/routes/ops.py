"""Operations: failing steps and incidents, and what Temporal says a case is doing.

Retrying or skipping a step, or closing its case, is a case action (POST
/cases/{id}/retry-step, /skip-step, /close-case in api/routes/actions.py): an update of the case workflow, validated and audited like any other.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api import errors, ops_service
from api.deps import ClientDep, ReadSessionDep, SessionDep, case_actor, require
from api.fields import CaseId, CaseIdQuery, Offset
from api.ops_schemas import DescribeOut, IncidentListOut
from api.paging import After, decode_time_key, encode_key
from api.responses import documented
from dibao.db import ops_repo
from dibao.domain import access
from dibao.domain.access import Action
from dibao.domain.ops import FailureStatus
from dibao.messages.case import Actor

router = APIRouter(tags=["ops"], responses=documented(401, 403, 422))


@router.get(
    "/ops/incidents",
    response_model=IncidentListOut,
    summary="Steps that gave up (incident) or keep failing (retrying), oldest first",
)
async def incidents(
    session: ReadSessionDep,
    actor: Annotated[Actor, Depends(require(Action.OPERATE))],
    status: Annotated[
        list[FailureStatus] | None,
        Query(max_length=10, description="default: the open ones, incident and retrying"),
    ] = None,
    case_id: CaseIdQuery = None,
    county: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
    after: After = None,
) -> IncidentListOut:
    scope = access.list_scope(actor.jurisdiction, county, None, None)
    if isinstance(scope, str):
        raise errors.forbidden(scope)
    statuses = tuple(s.value for s in status) if status else ops_repo.OPEN_STATUSES
    rows, total = await ops_repo.list_failures(
        session,
        statuses=statuses,
        case_id=case_id,
        county_code=scope.county,
        # One row past the page: whether there is a next one.
        limit=limit + 1,
        offset=offset,
        after=decode_time_key(after, int) if after else None,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1].row if rows else None
    return IncidentListOut(
        total=min(total, ops_repo.TOTAL_CAP),
        total_capped=total > ops_repo.TOTAL_CAP,
        items=[ops_service.incident_out(r) for r in rows],
        next=encode_key(last.first_failed_at, last.id) if more and last is not None else None,
    )


@router.get(
    "/ops/cases/{case_id}/describe",
    response_model=DescribeOut,
    responses=documented(404, r404="no case of that ID"),
    summary="What Temporal says of a case: pending activities with attempts, last failure "
    "and next retry time; and its incidents",
)
async def describe(
    case_id: CaseId,
    session: SessionDep,
    client: ClientDep,
    actor: Annotated[Actor, Depends(case_actor(Action.OPERATE))],
) -> DescribeOut:
    return await ops_service.describe(session, client, case_id)
